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
from dashboard.services import scanning
from tests.factories import RepositoryFactory
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


def test_the_page_lists_the_projects_without_extra_queries(
    client: Client, personas: dict[str, Any], scanned: Repository
) -> None:
    client.force_login(personas["maintainer"])
    _page(client, scanned)  # warm the page cache
    html, with_projects = _page(client, scanned)
    assert 'id="projects"' in html
    assert "<code>services/accounts</code>: 2 projects hold a web app" in html
    assert "FastAPI app in services/billing/billing/main.py:3" in html
    assert html.count("Judge this folder") == 1  # every folder but the judged one
    Scan.objects.filter(pk=scanned.latest_scan_id).update(discovery={})
    html, without = _page(client, scanned)
    assert 'id="projects"' not in html
    assert with_projects == without


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
