"""CI uploads: JSON reports and Cobertura coverage through the API, and `yardstick --upload`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from dashboard.models import CheckResult, CoverageReport, Repository, Scan, Team
from dashboard.services.access import api_tokens
from dashboard.services.scans import pipeline as scanning
from scanners.cli import main as yardstick
from scanners.engine import scan as run_engine
from scanners.formats import render_json
from tests.factories import RepositoryFactory, TeamFactory
from tests.gitrepo import golden_repo

pytestmark = pytest.mark.django_db

COBERTURA = b"""<?xml version="1.0" ?>
<coverage version="7.6.1" timestamp="1747322365" lines-valid="7" lines-covered="5"
          line-rate="0.7143" branches-covered="0" branches-valid="0" branch-rate="0" complexity="0">
  <sources><source>/builds/platform/billing-service</source></sources>
  <packages>
    <package name="src.services" line-rate="0.7143" branch-rate="0" complexity="0">
      <classes>
        <class name="billing.py" filename="src/services/billing.py" complexity="0"
               line-rate="0.75" branch-rate="0">
          <methods/>
          <lines>
            <line number="1" hits="1"/><line number="2" hits="1"/>
            <line number="5" hits="4"/><line number="9" hits="0"/>
          </lines>
        </class>
        <class name="billing.py" filename="src/services/billing.py" complexity="0"
               line-rate="1" branch-rate="0">
          <methods/>
          <lines><line number="9" hits="2"/></lines>
        </class>
        <class name="tax.py" filename="src/services/tax.py" complexity="0"
               line-rate="0.3333" branch-rate="0">
          <methods/>
          <lines>
            <line number="1" hits="1"/><line number="3" hits="0"/><line number="4" hits="0"/>
          </lines>
        </class>
      </classes>
    </package>
  </packages>
</coverage>
"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<coverage><packages>&lol2;</packages></coverage>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE coverage [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<coverage><packages><package name="&xxe;"/></packages></coverage>
"""
SHA = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return golden_repo(tmp_path_factory.mktemp("golden") / "repo")


@pytest.fixture(scope="module")
def report(source: Path) -> dict[str, Any]:
    """A real `yardstick scan --format json` report of a real commit."""
    document: dict[str, Any] = json.loads(render_json(run_engine(source)))
    return document


@pytest.fixture(autouse=True)
def _local_mirrors(settings: Any, tmp_path: Path) -> None:
    """Mirrors in this test's folder; repositories are local paths (loopback only)."""
    settings.VAR_DIR = tmp_path / "var"
    settings.ALLOW_LOCAL_REPOSITORIES = True


@pytest.fixture
def team() -> Team:
    return TeamFactory(slug="platform")


def registered(team: Team, path: Path) -> Repository:
    """A repository whose clone URL is a real git repository on disk."""
    return RepositoryFactory(team=team, clone_url=str(path), url_key=f"file:{path}")


@pytest.fixture
def repository(team: Team, source: Path) -> Repository:
    return registered(team, source)


def run_queued(scan_id: int) -> Scan:
    """Run a queued scan in-process, as a worker would."""
    assert scanning.run_scan(scan_id, "w").status == Scan.Status.SUCCEEDED
    return Scan.objects.get(pk=scan_id)


@pytest.fixture
def writer(team: Team) -> Client:
    issued = api_tokens.issue(team, "ci", write=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")


def _post_report(client: Client, repository: Repository, document: object, **extra: Any) -> Any:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return client.post(
        f"/api/v1/repositories/{repository.pk}/reports",
        data=body,
        content_type=extra.pop("content_type", "application/json"),
    )


def test_uploaded_report_becomes_the_latest_scan_of_its_commit(
    writer: Client, repository: Repository, report: dict[str, Any]
) -> None:
    response = _post_report(writer, repository, report)
    assert response.status_code == 202, response.content
    assert response.json()["status"] == Scan.Status.QUEUED
    scan = run_queued(response.json()["id"])
    assert (scan.trigger, scan.status) == (Scan.Trigger.UPLOAD, Scan.Status.SUCCEEDED)
    assert scan.commit_sha == report["commit"]
    stored = dict(CheckResult.objects.filter(scan=scan).values_list("rule__rule_id", "status"))
    assert stored == {r["rule_id"]: r["status"] for r in report["results"]}
    assert scan.score == pytest.approx(report["score"], abs=0.01)
    assert scan.level == report["level"]
    repository.refresh_from_db()
    assert (repository.latest_scan_id, repository.score) == (scan.pk, scan.score)
    shown = writer.get(f"/api/v1/repositories/{repository.pk}").json()
    assert shown["latest_scan_id"] == scan.pk


def test_uploaded_report_is_visible_on_the_repository_page(
    writer: Client, client: Client, repository: Repository, report: dict[str, Any]
) -> None:
    from tests.factories import UserFactory

    scan_id = run_queued(_post_report(writer, repository, report).json()["id"]).pk
    client.force_login(UserFactory())
    html = client.get(f"/repositories/{repository.pk}/").content.decode()
    assert f'href="/scans/{scan_id}/"' in html
    assert report["commit"][:10] in html
    assert "upload" in html  # the trigger, in the scans table
    assert "reported by CI" in html  # and who reported it
    assert "DEP-001" in html


def test_read_token_and_other_team_cannot_upload(
    repository: Repository, report: dict[str, Any]
) -> None:
    read = api_tokens.issue(repository.team, "dash").plaintext
    other = api_tokens.issue(TeamFactory(), "ci", write=True).plaintext
    for token in (read, other):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert _post_report(client, repository, report).status_code == 403
    assert not Scan.objects.exists()


def _broken(report: dict[str, Any], **changes: Any) -> dict[str, Any]:
    document = json.loads(json.dumps(report))
    document.update(changes)
    return document


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"commit": None}, "missing_commit"),
        ({"standard": {"key": "java-backend", "name": "Java", "version": "1"}}, "wrong_standard"),
        ({"schema_version": "2.0"}, "invalid_report"),
        ({"score": "high"}, "schema_violation"),
    ],
)
def test_invalid_reports_are_refused(
    writer: Client,
    repository: Repository,
    report: dict[str, Any],
    change: dict[str, Any],
    code: str,
) -> None:
    response = _post_report(writer, repository, _broken(report, **change))
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    assert not Scan.objects.exists()


def test_schema_violations_name_the_field(
    writer: Client, repository: Repository, report: dict[str, Any]
) -> None:
    document = _broken(report)
    document["results"][3]["status"] = "excellent"
    response = _post_report(writer, repository, document)
    assert response.json()["code"] == "schema_violation"
    assert {"field": "/results/3/status"}.items() <= response.json()["details"][0].items()


def test_governance_statuses_cannot_be_uploaded(
    writer: Client, repository: Repository, report: dict[str, Any]
) -> None:
    document = _broken(report)
    document["results"][0]["status"] = "waived"
    response = _post_report(writer, repository, document)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_status")


def test_report_upload_limits(
    writer: Client, repository: Repository, report: dict[str, Any], settings: Any
) -> None:
    assert _post_report(writer, repository, b"not json").json()["code"] == "invalid_report"
    wrong_type = _post_report(writer, repository, report, content_type="text/plain")
    assert wrong_type.status_code == 415
    settings.API_UPLOAD_MAX_BYTES = 1000
    assert _post_report(writer, repository, report).status_code == 413


# ----- coverage ---------------------------------------------------------------------------
def _post_coverage(
    client: Client, repository: Repository, body: bytes, commit: str = SHA, **extra: Any
) -> Any:
    return client.post(
        f"/api/v1/repositories/{repository.pk}/coverage?commit={commit}",
        data=body,
        content_type=extra.get("content_type", "application/xml"),
    )


def test_cobertura_upload_is_stored_per_file(writer: Client, repository: Repository) -> None:
    response = _post_coverage(writer, repository, COBERTURA)
    assert response.status_code == 201, response.content
    assert response.json() == {
        "repository_id": repository.pk,
        "commit_sha": SHA,
        "files": 2,
        "covered_lines": 5,
        "total_lines": 7,
        "percent": 71.43,
    }
    stored = CoverageReport.objects.get(repository=repository, commit_sha=SHA)
    assert stored.files == {"src/services/billing.py": [4, 4], "src/services/tax.py": [1, 3]}
    again = COBERTURA.replace(b'number="3" hits="0"', b'number="3" hits="7"')
    assert _post_coverage(writer, repository, again, content_type="text/xml").status_code == 201
    assert CoverageReport.objects.get().files["src/services/tax.py"] == [2, 3]


@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, b"<coverage><unclosed></coverage>", b"<report/>"],
    ids=["entity-expansion", "external-entity", "malformed", "not-cobertura"],
)
def test_unsafe_or_invalid_coverage_is_refused(
    writer: Client, repository: Repository, body: bytes
) -> None:
    response = _post_coverage(writer, repository, body)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_coverage")
    assert not CoverageReport.objects.exists()


def test_coverage_needs_a_commit_and_xml(writer: Client, repository: Repository) -> None:
    assert _post_coverage(writer, repository, COBERTURA, commit="main").status_code == 422
    json_body = _post_coverage(writer, repository, COBERTURA, content_type="application/json")
    assert json_body.status_code == 415


# ----- the CLI against a live server --------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_yardstick_scan_upload_posts_the_report(
    live_server: Any, source: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = TeamFactory()
    repository = registered(team, source)
    token = api_tokens.issue(team, "ci", write=True).plaintext
    url = f"{live_server.url}/api/v1/repositories/{repository.pk}/reports"
    monkeypatch.setenv("YARDSTICK_TOKEN", token)
    assert yardstick(["scan", str(source), "--format", "json", "--upload", url]) == 0
    out, err = capsys.readouterr()
    printed = json.loads(out)
    scan = Scan.objects.get(repository=repository)
    assert (scan.trigger, scan.commit_sha) == ("upload", printed["commit"])
    assert scan.status == Scan.Status.QUEUED  # the server scans the commit itself
    assert f"the server queued scan {scan.pk}" in err


@pytest.mark.django_db(transaction=True)
def test_yardstick_scan_upload_reports_refusals(
    live_server: Any, source: Path, capsys: Any
) -> None:
    repository = RepositoryFactory()
    url = f"{live_server.url}/api/v1/repositories/{repository.pk}/reports"
    code = yardstick(["scan", str(source), "--upload", url, "--token", "ys_wrong"])
    assert code == 2
    assert "upload failed: server answered 401" in capsys.readouterr().err
    assert yardstick(["scan", str(source), "--upload", "ftp://x/y", "--token", "t"]) == 2
    assert not Scan.objects.exists()


# ----- hostile reports (finding 6): a 422 naming the problem, never a 500 ------------------
def _hostile(report: dict[str, Any], kind: str) -> bytes:
    document = _broken(report)
    first = document["results"][0]
    if kind == "nan":
        first["duration_ms"] = float("nan")
    elif kind == "infinity":
        document["timings"]["total_ms"] = float("inf")
    elif kind == "deep":
        first["evidence"] = [[]]
        body = json.dumps(document).replace("[[]]", "[" * 50_000 + "]" * 50_000, 1)
        return body.encode()
    elif kind == "surrogate":
        first["message"] = "broken \ud800 text"
    elif kind == "nul":
        first["message"] = "broken \x00 text"
    elif kind == "duplicate-key":
        return ('{"commit": "x", ' + json.dumps(document)[1:]).encode()
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("nan", "NaN is not a JSON number"),
        ("infinity", "Infinity is not a JSON number"),
        ("deep", "nested deeper than 64 levels"),
        ("surrogate", "/results/0/message contains a lone surrogate"),
        ("nul", "/results/0/message contains a NUL character"),
        ("duplicate-key", "duplicate key 'commit'"),
    ],
)
def test_hostile_reports_are_422_naming_the_problem(
    writer: Client, repository: Repository, report: dict[str, Any], kind: str, message: str
) -> None:
    response = _post_report(writer, repository, _hostile(report, kind))
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid_report"
    assert message in response.json()["message"]
    assert not Scan.objects.exists()


def test_a_report_naming_a_rule_twice_is_422_naming_the_rule(
    writer: Client, repository: Repository, report: dict[str, Any]
) -> None:
    document = _broken(report)
    document["results"].append(dict(document["results"][2]))
    rule_id = document["results"][2]["rule_id"]
    response = _post_report(writer, repository, document)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "duplicate_rule"
    assert rule_id in response.json()["message"]
    assert not Scan.objects.exists()
