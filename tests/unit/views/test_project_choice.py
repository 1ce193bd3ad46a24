"""The Python projects a scan found, on the repository page; a maintainer judges another one.

A real monorepo (two FastAPI services side by side), the real pipeline, in process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dashboard.models import AuditEvent, Repository, Scan
from dashboard.services.scans import pipeline as scanning
from tests.factories import MembershipFactory, RepositoryFactory, ScanFactory, TeamFactory
from tests.gitrepo import make_repo

pytestmark = pytest.mark.django_db

APP = "from fastapi import FastAPI\n\napp = FastAPI()\n"
MONOREPO = {
    "README.md": "# services\n",
    "services/billing/pyproject.toml": '[project]\nname = "billing"\nversion = "1"\n',
    "services/billing/billing/main.py": APP,
    "services/accounts/pyproject.toml": '[project]\nname = "accounts"\nversion = "1"\n',
    "services/accounts/accounts/main.py": APP,
}


@pytest.fixture(autouse=True)
def _var_dir(settings: object, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"  # type: ignore[attr-defined]


def _run(scan: Scan) -> Scan:
    assert scanning.run_scan(scan.pk, "w").status == "succeeded"
    scan.refresh_from_db()
    return scan


@pytest.fixture
def scanned(tmp_path: Path, personas: dict[str, Any]) -> Repository:
    """The monorepo registered without a project folder, scanned once."""
    source = make_repo(tmp_path / "src", MONOREPO)
    repository = RepositoryFactory(
        team=personas["team"], name="mono", clone_url=str(source), url_key=f"file:{source}"
    )
    _run(scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False))
    repository.refresh_from_db()
    return repository


def _page(client: Client, repository: Repository) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/repositories/{repository.pk}/")
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_the_scan_stores_its_discovery(scanned: Repository) -> None:
    scan = scanned.latest_scan
    assert scan is not None
    assert scan.discovery["chosen"] == "services/accounts"
    assert scan.discovery["named"] is False
    folders = [c["folder"] for c in scan.discovery["candidates"]]
    assert folders == ["services/accounts", "services/billing"]


def test_the_page_lists_the_projects_in_two_queries_whatever_the_siblings(
    client: Client, personas: dict[str, Any], scanned: Repository
) -> None:
    client.force_login(personas["maintainer"])
    _page(client, scanned)  # warm the page cache
    html, with_projects = _page(client, scanned)
    assert 'id="projects"' in html
    assert "<code>services/accounts</code>: 2 projects hold a web app" in html
    assert "FastAPI app in services/billing/billing/main.py:3" in html
    assert html.count("Judge this folder") == 1  # every folder but the judged one
    assert html.count("Register as its own repository") == 1
    # Sibling rows and teams to register for: still the same two queries (siblings, teams).
    for n in range(3):
        team = TeamFactory()
        MembershipFactory(user=personas["maintainer"], team=team, role="maintainer")
        _sibling(scanned, f"services/other-{n}", team=team)
    _page(client, scanned)  # new rows retire cached panels: warm them again
    html, with_siblings = _page(client, scanned)
    assert with_siblings == with_projects
    Scan.objects.filter(pk=scanned.latest_scan_id).update(discovery={})
    html, without = _page(client, scanned)
    assert 'id="projects"' not in html
    assert with_projects == without + 2


def _sibling(scanned: Repository, folder: str, **fields: Any) -> Repository:
    """Another row of the monorepo, judging `folder`."""
    return RepositoryFactory(  # type: ignore[no-any-return]
        **{"team": scanned.team, "name": f"mono ({folder})", **fields},
        clone_url=scanned.clone_url,
        url_key=scanned.url_key,
        project_dir=folder,
    )


def test_a_folder_a_sibling_judges_links_to_that_row(
    client: Client, personas: dict[str, Any], scanned: Repository
) -> None:
    other_team = TeamFactory(name="Ledger")
    sibling = _sibling(scanned, "services/billing", team=other_team)
    client.force_login(personas["maintainer"])
    html, _ = _page(client, scanned)
    link = f'judged by <a href="/repositories/{sibling.pk}/">mono (services/billing)</a>'
    assert link in html
    assert "(Ledger)" in html
    assert "Judge this folder" not in html  # the only other folder is the sibling's
    assert "Register as its own repository" not in html


def test_a_sibling_that_names_no_folder_judges_what_its_scan_chose(
    client: Client, personas: dict[str, Any], scanned: Repository
) -> None:
    Repository.objects.filter(pk=scanned.pk).update(project_dir="services/accounts")
    sibling = _sibling(scanned, "", name="mono-auto")
    chose = ScanFactory(repository=sibling, discovery={"chosen": "services/billing"})
    Repository.objects.filter(pk=sibling.pk).update(latest_scan=chose)
    client.force_login(personas["maintainer"])
    html, _ = _page(client, scanned)
    assert f'judged by <a href="/repositories/{sibling.pk}/">mono-auto</a>' in html
    assert "Register as its own repository" not in html  # billing is its; accounts is ours


def test_members_see_the_projects_but_no_button(
    client: Client, personas: dict[str, Any], scanned: Repository
) -> None:
    client.force_login(personas["member"])
    html, _ = _page(client, scanned)
    assert 'id="projects"' in html
    assert "Judge this folder" not in html
    response = client.post(f"/repositories/{scanned.pk}/project/", {"folder": "services/billing"})
    assert response.status_code == 403
    assert Repository.objects.get(pk=scanned.pk).project_dir == ""


def test_a_maintainer_judges_another_folder_and_the_rescan_follows(
    client: Client, personas: dict[str, Any], scanned: Repository
) -> None:
    client.force_login(personas["maintainer"])
    response = client.post(f"/repositories/{scanned.pk}/project/", {"folder": "services/billing"})
    scan = Scan.objects.get(repository=scanned, status="queued")
    assert response["Location"] == f"/scans/{scan.pk}/"
    assert scan.forced  # the same commit, judged at another folder: not a duplicate
    assert Repository.objects.get(pk=scanned.pk).project_dir == "services/billing"
    event = AuditEvent.objects.get(action="repository.changed")
    assert event.details == {"project_dir": ["", "services/billing"]}
    scan = _run(scan)
    assert scan.discovery["chosen"] == "services/billing"
    assert scan.discovery["named"] is True
    html, _ = _page(client, scanned)
    assert "named by the user: a standalone project with a web app" in html


def test_only_a_folder_the_scan_found_can_be_judged(
    client: Client, personas: dict[str, Any], scanned: Repository
) -> None:
    client.force_login(personas["maintainer"])
    for folder in ("../etc", "docs", "services"):
        response = client.post(f"/repositories/{scanned.pk}/project/", {"folder": folder})
        assert response["Location"] == f"/repositories/{scanned.pk}/"
    assert Repository.objects.get(pk=scanned.pk).project_dir == ""
    assert not Scan.objects.filter(repository=scanned, status="queued").exists()


def test_members_see_no_register_action_and_cannot_post_one(
    client: Client, personas: dict[str, Any], scanned: Repository
) -> None:
    client.force_login(personas["member"])
    html, _ = _page(client, scanned)
    assert "Register as its own repository" not in html
    data = {"folder": "services/billing", "team": personas["team"].pk}
    response = client.post(f"/repositories/{scanned.pk}/project/register/", data)
    assert response.status_code == 403
    assert Repository.objects.count() == 1


def test_a_maintainer_registers_a_found_folder_as_its_own_repository(
    client: Client, personas: dict[str, Any], scanned: Repository
) -> None:
    client.force_login(personas["maintainer"])
    data = {"folder": "services/billing", "team": personas["team"].pk}
    response = client.post(f"/repositories/{scanned.pk}/project/register/", data)
    assert response.status_code == 200
    new = Repository.objects.get(project_dir="services/billing")
    assert (new.name, new.team, new.url_key) == (
        "mono (services/billing)",
        scanned.team,
        scanned.url_key,
    )
    assert (new.clone_url, new.default_branch) == (scanned.clone_url, scanned.default_branch)
    assert new.webhook_secret_encrypted != scanned.webhook_secret_encrypted
    html = response.content.decode()
    assert "This secret is shown only once" in html
    assert "<h1>mono (services/billing) is registered</h1>" in html  # the name says the folder
    assert Scan.objects.filter(repository=new, status="queued").exists()
    event = AuditEvent.objects.get(action="repository.registered")
    assert (event.target_label, event.details["project_dir"]) == (new.name, "services/billing")
    # Back on the monorepo's page, the folder now links to its own row.
    page, _ = _page(client, scanned)
    assert f'judged by <a href="/repositories/{new.pk}/">mono (services/billing)</a>' in page
    # The same folder a second time: refused, naming the row and its team.
    again = client.post(f"/repositories/{scanned.pk}/project/register/", data, follow=True)
    message = "Already judged by &#x27;mono (services/billing)&#x27; of team &#x27;Payments&#x27;"
    assert message in again.content.decode()
    assert Repository.objects.count() == 2


def test_a_maintainer_of_another_team_registers_it_for_that_team(
    client: Client, personas: dict[str, Any], scanned: Repository
) -> None:
    ledger = TeamFactory(name="Ledger")
    MembershipFactory(user=personas["outsider"], team=ledger, role="maintainer")
    client.force_login(personas["outsider"])
    html, _ = _page(client, scanned)
    assert "Register as its own repository" in html
    assert "Judge this folder" not in html  # not a maintainer of the monorepo's row
    url = f"/repositories/{scanned.pk}/project/register/"
    refused = client.post(url, {"folder": "services/billing", "team": personas["team"].pk})
    assert refused.status_code == 403  # not a team of theirs
    for team in ("", "x", "99999999999999999999"):
        assert client.post(url, {"folder": "services/billing", "team": team}).status_code == 403
    response = client.post(url, {"folder": "services/billing", "team": ledger.pk})
    assert response.status_code == 200
    assert Repository.objects.get(project_dir="services/billing").team == ledger


def test_only_a_folder_the_scan_found_can_be_registered(
    client: Client, personas: dict[str, Any], scanned: Repository
) -> None:
    client.force_login(personas["maintainer"])
    for folder in ("../etc", "docs", "services"):
        data = {"folder": folder, "team": personas["team"].pk}
        response = client.post(f"/repositories/{scanned.pk}/project/register/", data)
        assert response["Location"] == f"/repositories/{scanned.pk}/"
    assert Repository.objects.count() == 1


def test_a_folder_a_row_judges_already_cannot_be_registered_again(
    client: Client, personas: dict[str, Any], scanned: Repository
) -> None:
    """The monorepo's row judges accounts by detection (no folder named): a sibling naming it
    would be a second row for one service, though the constraint alone would allow it."""
    client.force_login(personas["maintainer"])
    data = {"folder": "services/accounts", "team": personas["team"].pk}
    response = client.post(f"/repositories/{scanned.pk}/project/register/", data, follow=True)
    message = "Already judged by &#x27;mono&#x27; of team &#x27;Payments&#x27;"
    assert message in response.content.decode()
    assert Repository.objects.count() == 1


def test_judging_a_folder_a_sibling_has_is_refused(
    client: Client, personas: dict[str, Any], scanned: Repository
) -> None:
    _sibling(scanned, "services/billing", name="billing")
    client.force_login(personas["maintainer"])
    response = client.post(
        f"/repositories/{scanned.pk}/project/", {"folder": "services/billing"}, follow=True
    )
    assert "already registered as &#x27;billing&#x27; by team &#x27;Payments&#x27;" in (
        response.content.decode()
    )
    assert Repository.objects.get(pk=scanned.pk).project_dir == ""
    assert not Scan.objects.filter(repository=scanned, status="queued").exists()
