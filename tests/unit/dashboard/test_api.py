"""The JSON API: authentication, the permission matrix, pagination, errors, OpenAPI."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from openapi_spec_validator import validate

from dashboard.api.app import api
from dashboard.models import ApiToken, Membership, Repository, Scan, Team
from dashboard.services.access import api_tokens
from tests.factories import (
    MembershipFactory,
    RepositoryFactory,
    ScanFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams() -> tuple[Team, Team]:
    return TeamFactory(name="Alpha", slug="alpha"), TeamFactory(name="Beta", slug="beta")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _caller(kind: str, teams: tuple[Team, Team]) -> Client:
    """A client acting as one persona of the permission matrix."""
    alpha, beta = teams
    # Non-browser callers get Django's real CSRF enforcement: tokens must not need it.
    client = Client(enforce_csrf_checks=not kind.startswith("session-"))
    if kind == "anonymous":
        return client
    if kind.startswith("session-"):
        user = UserFactory()
        role = kind.removeprefix("session-")
        if role in {"maintainer", "member"}:
            MembershipFactory(user=user, team=alpha, role=role)
        elif role == "other-maintainer":
            MembershipFactory(user=user, team=beta, role=Membership.Role.MAINTAINER)
        client.force_login(user)
        return client
    if kind == "bogus-token":
        client.defaults["HTTP_AUTHORIZATION"] = "Bearer ys_not-a-real-token"
        return client
    team = alpha if kind.startswith("alpha") else beta
    issued = api_tokens.issue(team, kind, write=kind.endswith("write"))
    if kind.endswith("revoked-write"):
        api_tokens.revoke(issued.token)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {issued.plaintext}"
    return client


PERSONAS = {
    # persona: (may read, may write to team Alpha)
    "anonymous": (401, 401),
    "bogus-token": (401, 401),
    "alpha-revoked-write": (401, 401),
    "alpha-read": (200, 403),
    "beta-write": (200, 403),
    "alpha-write": (200, "ok"),
    "session-maintainer": (200, "ok"),
    "session-member": (200, 403),
    "session-other-maintainer": (200, 403),
    "session-outsider": (200, 403),
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_permission_matrix(persona: str, teams: tuple[Team, Team], tmp_path: Any) -> None:
    alpha, _ = teams
    repository = RepositoryFactory(team=alpha)
    client = _caller(persona, teams)
    read, write = PERSONAS[persona]

    for url in ("/api/v1/teams", f"/api/v1/repositories/{repository.pk}", "/api/v1/rules"):
        response = client.get(url)
        assert response.status_code == read, (url, response.content)

    scan = client.post(
        f"/api/v1/repositories/{repository.pk}/scans",
        {"ref": "main"},
        content_type="application/json",
    )
    register = client.post(
        "/api/v1/repositories",
        {"team": "alpha", "clone_url": "https://git.example.com/alpha/new-service.git"},
        content_type="application/json",
    )
    if write == "ok":
        assert scan.status_code == 202, scan.content
        assert register.status_code == 201, register.content
        assert Scan.objects.filter(repository=repository, ref="main").exists()
        assert register.json()["webhook_secret"]
    else:
        assert (scan.status_code, register.status_code) == (write, write)
        assert scan.json()["code"] == {401: "unauthenticated", 403: "forbidden"}[write]
        assert set(scan.json()) == {"code", "message", "details"}
        assert not Scan.objects.exists()
        assert not Repository.objects.filter(name="new-service").exists()


def test_session_writes_need_the_csrf_token(teams: tuple[Team, Team]) -> None:
    user = UserFactory()
    MembershipFactory(user=user, team=teams[0], role=Membership.Role.MAINTAINER)
    repository = RepositoryFactory(team=teams[0])
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    url = f"/api/v1/repositories/{repository.pk}/scans"
    assert client.post(url, {}, content_type="application/json").status_code == 403
    client.get("/api/v1/teams")  # any page sets the CSRF cookie in a browser
    client.cookies["csrftoken"] = "a" * 32
    headers = {"X-CSRFToken": "a" * 32}
    response = client.post(url, {}, content_type="application/json", headers=headers)
    assert response.status_code == 202, response.content


def test_write_token_cannot_register_into_another_team(teams: tuple[Team, Team]) -> None:
    client = _caller("alpha-write", teams)
    response = client.post(
        "/api/v1/repositories",
        {"team": "beta", "clone_url": "https://git.example.com/beta/svc.git"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "another team" in response.json()["message"]


def test_token_use_is_recorded(teams: tuple[Team, Team]) -> None:
    issued = api_tokens.issue(teams[0], "ci")
    assert issued.token.last_used_at is None
    assert Client().get("/api/v1/teams", headers=_bearer(issued.plaintext)).status_code == 200
    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None
    assert issued.token.token_hash != issued.plaintext
    assert issued.plaintext.startswith(issued.token.prefix)


def test_create_api_token_command_prints_a_working_token(
    teams: tuple[Team, Team], capsys: Any
) -> None:
    call_command("create_api_token", "alpha", "GitHub Actions", "--write")
    plaintext = capsys.readouterr().out.strip()
    token = ApiToken.objects.get()
    assert (token.team.slug, token.name, token.scope) == ("alpha", "GitHub Actions", "write")
    assert token.token_hash == api_tokens.hash_token(plaintext)
    assert Client().get("/api/v1/rules", headers=_bearer(plaintext)).status_code == 200


def test_create_api_token_command_refuses_unknown_team(teams: tuple[Team, Team]) -> None:
    with pytest.raises(Exception, match="no team with slug"):
        call_command("create_api_token", "gamma", "ci")


# ----- pagination, filters, validation -------------------------------------------------------
@pytest.fixture
def reader(teams: tuple[Team, Team]) -> Client:
    return _caller("alpha-read", teams)


def test_pagination_envelope_and_bounds(reader: Client, teams: tuple[Team, Team]) -> None:
    for n in range(45):
        RepositoryFactory(team=teams[n % 2], name=f"svc-{n:02}")
    first = reader.get("/api/v1/repositories").json()
    assert (first["total"], first["page"], first["per_page"], first["total_pages"]) == (
        45,
        1,
        20,
        3,
    )
    assert [r["name"] for r in first["data"]] == [f"svc-{n:02}" for n in range(20)]
    last = reader.get("/api/v1/repositories?page=3&per_page=20").json()
    assert len(last["data"]) == 5
    beyond = reader.get("/api/v1/repositories?page=9").json()
    assert (beyond["data"], beyond["total"]) == ([], 45)
    assert len(reader.get("/api/v1/repositories?per_page=100").json()["data"]) == 45
    for query in ("per_page=0", "per_page=101", "page=0", "page=x"):
        response = reader.get(f"/api/v1/repositories?{query}")
        assert response.status_code == 422, query
        assert response.json()["code"] == "validation_error"
        assert response.json()["details"][0]["field"] in {"page", "per_page"}


def test_repository_filters(reader: Client, teams: tuple[Team, Team]) -> None:
    RepositoryFactory(team=teams[0], name="payments-api", level="gold", score=95.0)
    RepositoryFactory(team=teams[1], name="ledger", active=False)
    by_team = reader.get("/api/v1/repositories?team=beta").json()
    assert [r["name"] for r in by_team["data"]] == ["ledger"]
    assert reader.get("/api/v1/repositories?active=false").json()["total"] == 1
    assert reader.get("/api/v1/repositories?level=gold").json()["data"][0]["score"] == 95.0
    assert reader.get("/api/v1/repositories?search=PAY").json()["total"] == 1


def test_teams_show_score_and_level(reader: Client, teams: tuple[Team, Team]) -> None:
    RepositoryFactory(team=teams[0], score=80.0, level="gold", latest_scan=ScanFactory())
    RepositoryFactory(team=teams[0], score=60.0, level="bronze", latest_scan=ScanFactory())
    RepositoryFactory(team=teams[0], score=0.0, level="none", active=False)
    alpha = reader.get("/api/v1/teams/alpha").json()
    assert (alpha["repositories"], alpha["score"], alpha["level"]) == (2, 70.0, "bronze")
    assert reader.get("/api/v1/teams?search=bet").json()["data"][0]["slug"] == "beta"
    assert reader.get("/api/v1/teams/nope").json()["code"] == "not_found"


def test_scans_and_results(reader: Client, teams: tuple[Team, Team]) -> None:
    from dashboard.models import CheckResult
    from dashboard.services.standard.sync import current_standard

    repository = RepositoryFactory(team=teams[0])
    rules = list(current_standard().rules.all()[:3])
    old = ScanFactory(repository=repository)
    discovery = {"chosen": "backend", "reason": "named", "named": True, "candidates": []}
    latest = ScanFactory(repository=repository, trigger="webhook", discovery=discovery)
    for scan in (old, latest):
        CheckResult.objects.bulk_create(
            CheckResult(scan=scan, rule=rule, status="fail", evidence=[{"path": "a.py", "line": 1}])
            for rule in rules
        )
    repository.latest_scan = latest
    repository.save()
    scans = reader.get(f"/api/v1/scans?repository={repository.pk}").json()
    assert [s["id"] for s in scans["data"]] == [latest.pk, old.pk]
    assert reader.get("/api/v1/scans?trigger=webhook").json()["total"] == 1
    assert reader.get("/api/v1/scans?status=nonsense").status_code == 422
    results = reader.get(f"/api/v1/results?repository={repository.pk}").json()
    assert {r["scan_id"] for r in results["data"]} == {latest.pk}
    assert results["total"] == 3
    assert results["data"][0]["evidence"] == [{"path": "a.py", "line": 1, "message": ""}]
    one = reader.get(f"/api/v1/results?scan={old.pk}&rule={rules[0].rule_id.lower()}").json()
    assert [(r["scan_id"], r["rule_id"]) for r in one["data"]] == [(old.pk, rules[0].rule_id)]
    assert reader.get("/api/v1/results?status=maybe").status_code == 422
    assert reader.get(f"/api/v1/scans/{latest.pk}").json()["trigger"] == "webhook"
    assert reader.get(f"/api/v1/scans/{latest.pk}").json()["discovery"] == discovery
    assert reader.get(f"/api/v1/scans/{old.pk}").json()["discovery"] == {}


def test_rules_filters(reader: Client) -> None:
    critical = reader.get("/api/v1/rules?severity=critical&per_page=100").json()
    assert critical["total"] > 0
    assert {r["severity"] for r in critical["data"]} == {"critical"}
    dep = reader.get("/api/v1/rules?section=dep&per_page=100").json()
    assert {r["section"] for r in dep["data"]} == {"DEP"}
    assert reader.get("/api/v1/rules/dep-001").json()["rule_id"] == "DEP-001"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"team": "alpha"}, "clone_url"),
        ({"team": "gamma", "clone_url": "https://git.example.com/a/b.git"}, "team"),
        ({"team": "alpha", "clone_url": "ftp://git.example.com/a/b.git"}, "clone_url"),
        (
            {"team": "alpha", "clone_url": "https://h.example.com/a.git", "default_branch": "a..b"},
            "default_branch",
        ),
    ],
)
def test_registration_validation_errors(
    teams: tuple[Team, Team], payload: dict[str, str], field: str
) -> None:
    client = _caller("alpha-write", teams)
    response = client.post("/api/v1/repositories", payload, content_type="application/json")
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in {d["field"] for d in body["details"]}


def test_duplicate_registration_is_refused(teams: tuple[Team, Team]) -> None:
    client = _caller("alpha-write", teams)
    payload = {"team": "alpha", "clone_url": "https://git.example.com/alpha/dup.git"}
    assert (
        client.post("/api/v1/repositories", payload, content_type="application/json").status_code
        == 201
    )
    again = {"team": "alpha", "clone_url": "git@git.example.com:alpha/dup"}
    response = client.post("/api/v1/repositories", again, content_type="application/json")
    assert response.status_code == 422
    assert "already registered" in response.json()["message"]


def test_scan_of_inactive_repository_is_409(teams: tuple[Team, Team]) -> None:
    repository = RepositoryFactory(team=teams[0], active=False)
    client = _caller("alpha-write", teams)
    response = client.post(
        f"/api/v1/repositories/{repository.pk}/scans", {}, content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "inactive")


def test_unknown_repository_is_404_with_the_error_body(reader: Client) -> None:
    response = reader.get("/api/v1/repositories/999999")
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message", "details"}


# ----- OpenAPI ---------------------------------------------------------------------------------
def test_openapi_schema_is_valid() -> None:
    # As served: JSON turns the response codes into strings.
    schema = json.loads(json.dumps(api.get_openapi_schema(), default=str))
    validate(schema)
    assert schema["openapi"].startswith("3.1")
    paths = schema["paths"]
    assert {"/api/v1/teams", "/api/v1/repositories", "/api/v1/results", "/api/v1/rules"} <= set(
        paths
    )
    assert "requestBody" in paths["/api/v1/repositories/{repository_id}/coverage"]["post"]


def test_the_openapi_document_is_served_to_callers_and_the_swagger_page_in_development_only(
    reader: Client, teams: tuple[Team, Team], settings: Any
) -> None:
    """openapi.json (for client generators) in production too, to a token or a session; the
    Swagger page loads its script from a CDN the CSP forbids: development only."""
    settings.DEBUG = False
    response = reader.get("/api/v1/openapi.json")
    assert response.status_code == 200
    validate(response.json())
    assert response.json() == json.loads(json.dumps(api.get_openapi_schema(), default=str))
    assert _caller("session-member", teams).get("/api/v1/openapi.json").status_code == 200
    assert reader.get("/api/v1/docs").status_code == 404
    settings.DEBUG = True
    assert reader.get("/api/v1/docs").status_code == 200
    assert reader.get("/api/v1/openapi.json").status_code == 200


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("caller", ["anonymous", "bogus-token"])
def test_the_openapi_document_refuses_unknown_callers(
    caller: str, debug: bool, teams: tuple[Team, Team], settings: Any
) -> None:
    settings.DEBUG = debug
    client = Client()
    if caller == "bogus-token":
        client.defaults["HTTP_AUTHORIZATION"] = "Bearer ys_not-a-real-token"
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert "paths" not in response.json()


def test_the_openapi_document_answers_reads_only(teams: tuple[Team, Team]) -> None:
    session = _caller("session-member", teams)  # no CSRF enforcement: the method is refused
    for method in ("POST", "PUT", "DELETE"):
        assert session.generic(method, "/api/v1/openapi.json").status_code == 405
    assert session.head("/api/v1/openapi.json").status_code == 200
