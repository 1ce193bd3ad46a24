"""Forced rescans of an already scanned commit: service, page button, API and CLI.

An ordinary rescan of a commit already scanned under the same engine and standard is skipped,
and its message links to the scan it refers to; a forced one runs the engine again and stores
a new scan. Real git repositories, the real pipeline, in process.
"""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory

from dashboard.models import CheckResult, Repository, Scan
from dashboard.services.access import api_tokens
from dashboard.services.scans import pipeline as scanning
from tests.factories import RepositoryFactory
from tests.gitrepo import make_repo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _var_dir(settings: object, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"  # type: ignore[attr-defined]


@pytest.fixture
def scanned(tmp_path: Path, personas: dict[str, Any]) -> tuple[Repository, Scan]:
    """A repository of the personas' team whose head commit was scanned once."""
    source = make_repo(tmp_path / "src", {"README.md": "# Demo\n", "app.py": "X = 1\n"})
    repository = RepositoryFactory(
        team=personas["team"], name="app", clone_url=str(source), url_key=f"file:{source}"
    )
    first = scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False)
    assert scanning.run_scan(first.pk, "w").status == "succeeded"
    first.refresh_from_db()
    return repository, first


def _run(scan: Scan) -> Scan:
    scanning.run_scan(scan.pk, "w")
    scan.refresh_from_db()
    return scan


def _assert_rescanned(repository: Repository, first: Scan, scan: Scan) -> None:
    """A forced scan ran the engine again: a new succeeded scan of the same commit, latest."""
    assert scan.pk != first.pk
    assert scan.forced
    assert (scan.status, scan.commit_sha, scan.trigger) == ("succeeded", first.commit_sha, "manual")
    assert scan.duplicate_of_id is None
    assert CheckResult.objects.filter(scan=scan).count() == first.results.count() > 0
    assert Repository.objects.get(pk=repository.pk).latest_scan_id == scan.pk


# ----- service ---------------------------------------------------------------------------
def test_a_rescan_of_the_same_commit_is_skipped_and_points_at_the_earlier_scan(
    scanned: tuple[Repository, Scan],
) -> None:
    repository, first = scanned
    again = _run(scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False))
    assert again.status == "skipped"
    assert again.duplicate_of_id == first.pk
    assert (
        again.skipped_reason
        == f"commit {first.commit_sha[:12]} already scanned in scan #{first.pk}"
    )
    assert not CheckResult.objects.filter(scan=again).exists()


def test_a_forced_rescan_runs_the_engine_again_and_stores_a_new_scan(
    scanned: tuple[Repository, Scan],
) -> None:
    repository, first = scanned
    forced = _run(scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False, force=True))
    _assert_rescanned(repository, first, forced)


def test_a_forced_request_merged_into_a_queued_scan_forces_it(
    scanned: tuple[Repository, Scan],
) -> None:
    repository, _ = scanned
    queued = scanning.request_scan(repository, Scan.Trigger.WEBHOOK, send=False)
    merged = scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False, force=True)
    assert merged.pk == queued.pk
    assert Scan.objects.get(pk=queued.pk).forced
    # ...and a later ordinary request does not take the force away.
    scanning.request_scan(repository, Scan.Trigger.WEBHOOK, send=False)
    assert _run(queued).status == "succeeded"


# ----- the repository page's button ----------------------------------------------------------
def _page(client: Client, repository: Repository) -> str:
    return client.get(f"/repositories/{repository.pk}/").content.decode()


def test_maintainer_forces_a_rescan_from_the_repository_page(
    client: Client, personas: dict[str, Any], scanned: tuple[Repository, Scan]
) -> None:
    repository, first = scanned
    client.force_login(personas["maintainer"])
    assert 'name="force" value="1"' in _page(client, repository)
    response = client.post(f"/repositories/{repository.pk}/scan/", {"force": "1"})
    scan = Scan.objects.get(repository=repository, status="queued")
    assert response["Location"] == f"/scans/{scan.pk}/"
    _assert_rescanned(repository, first, _run(scan))
    assert "forced rescan" in client.get(f"/scans/{scan.pk}/").content.decode()


def test_scan_now_without_force_is_not_forced(
    client: Client, personas: dict[str, Any], scanned: tuple[Repository, Scan]
) -> None:
    repository, _ = scanned
    client.force_login(personas["maintainer"])
    client.post(f"/repositories/{repository.pk}/scan/", {"force": "yes"})
    assert not Scan.objects.get(repository=repository, status="queued").forced


@pytest.mark.parametrize("who", ["member", "outsider", "manager"])
def test_only_maintainers_may_force_a_rescan(
    client: Client, personas: dict[str, Any], scanned: tuple[Repository, Scan], who: str
) -> None:
    repository, _ = scanned
    client.force_login(personas[who])
    assert 'name="force"' not in _page(client, repository)
    response = client.post(f"/repositories/{repository.pk}/scan/", {"force": "1"})
    assert response.status_code == 403
    assert not Scan.objects.filter(repository=repository, status="queued").exists()


def test_forcing_needs_a_post_with_the_csrf_token(
    personas: dict[str, Any], scanned: tuple[Repository, Scan]
) -> None:
    repository, _ = scanned
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["maintainer"])
    url = f"/repositories/{repository.pk}/scan/"
    assert client.get(url, {"force": "1"}).status_code == 405
    assert client.post(url, {"force": "1"}).status_code == 403
    assert not Scan.objects.filter(repository=repository, status="queued").exists()
    token = get_token(RequestFactory().get("/"))
    client.cookies["csrftoken"] = token
    response = client.post(url, {"force": "1", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Scan.objects.get(repository=repository, status="queued").forced


def test_the_skip_message_links_to_the_earlier_scan(
    client: Client, personas: dict[str, Any], scanned: tuple[Repository, Scan]
) -> None:
    repository, first = scanned
    again = _run(scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False))
    client.force_login(personas["member"])
    link = f'already scanned in <a href="/scans/{first.pk}/">scan #{first.pk}</a>'
    assert link in client.get(f"/scans/{again.pk}/").content.decode()
    assert link in _page(client, repository)


# ----- API -------------------------------------------------------------------------------------
def _api(personas: dict[str, Any], *, write: bool = True) -> Client:
    issued = api_tokens.issue(personas["team"], "ci", write=write)
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")


def _post_scan(client: Client, repository: Repository, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/repositories/{repository.pk}/scans", body, content_type="application/json"
    )


def test_api_forced_rescan_stores_a_new_scan(
    personas: dict[str, Any], scanned: tuple[Repository, Scan]
) -> None:
    repository, first = scanned
    response = _post_scan(_api(personas), repository, {"force": True})
    assert response.status_code == 202
    body = response.json()
    assert body["forced"] is True
    _assert_rescanned(repository, first, _run(Scan.objects.get(pk=body["id"])))
    assert _api(personas).get(f"/api/v1/scans/{body['id']}").json()["forced"] is True


def test_api_plain_rescan_is_skipped_and_names_the_earlier_scan(
    personas: dict[str, Any], scanned: tuple[Repository, Scan]
) -> None:
    repository, first = scanned
    body = _post_scan(_api(personas), repository, {}).json()
    assert body["forced"] is False
    _run(Scan.objects.get(pk=body["id"]))
    shown = _api(personas).get(f"/api/v1/scans/{body['id']}").json()
    assert (shown["status"], shown["duplicate_of_id"]) == ("skipped", first.pk)


def test_api_refuses_force_from_a_read_token_and_a_member_session(
    personas: dict[str, Any], scanned: tuple[Repository, Scan]
) -> None:
    repository, _ = scanned
    assert _post_scan(_api(personas, write=False), repository, {"force": True}).status_code == 403
    member = Client()
    member.force_login(personas["member"])
    assert _post_scan(member, repository, {"force": True}).status_code == 403
    assert not Scan.objects.filter(repository=repository, status="queued").exists()


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_api_refuses_a_force_that_is_not_a_boolean(
    personas: dict[str, Any], scanned: tuple[Repository, Scan], value: object
) -> None:
    repository, _ = scanned
    assert _post_scan(_api(personas), repository, {"force": value}).status_code == 422


# ----- CLI -------------------------------------------------------------------------------------
def _cli(repository: Repository, *flags: str) -> str:
    out = StringIO()
    call_command("scan", str(repository.pk), "--sync", *flags, stdout=out)
    return out.getvalue()


def test_cli_force_rescans_the_same_commit(scanned: tuple[Repository, Scan]) -> None:
    repository, first = scanned
    line = _cli(repository, "--force")
    assert ": succeeded — score" in line
    scan_id = int(re.search(r"scan (\d+)", line).group(1))  # type: ignore[union-attr]
    _assert_rescanned(repository, first, Scan.objects.get(pk=scan_id))


def test_cli_without_force_is_skipped_and_names_the_earlier_scan(
    scanned: tuple[Repository, Scan],
) -> None:
    repository, first = scanned
    assert f"already scanned in scan #{first.pk}" in _cli(repository)
