"""A monorepo's services as sibling repository rows: one per (clone URL, project folder).

Registration refuses only the same URL *and* folder (naming the row and its team) in every
way in (service, form, API, admin); everywhere a repository is shown, siblings are told apart
by their folder.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.models import CheckResult, Repository, Rule, Scan, Team
from dashboard.services.access import api_tokens
from dashboard.services.repos.registration import (
    RegistrationError,
    judge_folder,
    register_folder,
    register_repository,
    update_repository,
)
from dashboard.services.scoring.rollups import record_scan_day
from dashboard.services.scoring.scores import refresh_repository_score
from dashboard.services.standard.sync import current_standard
from tests.factories import MembershipFactory, RepositoryFactory, ScanFactory, TeamFactory

pytestmark = pytest.mark.django_db

URL = "https://git.example.com/org/mono.git"
KEY = "git.example.com/org/mono"
FOLDER = ' <code class="folder" title="project folder">{}/</code>'


def _row(team: Team, folder: str, **fields: Any) -> Repository:
    return RepositoryFactory(  # type: ignore[no-any-return]
        **{"name": "mono", **fields}, team=team, clone_url=URL, url_key=KEY, project_dir=folder
    )


# ----- registration: the service ------------------------------------------------------------
def test_register_accepts_the_same_url_with_another_folder_for_any_team(
    personas: dict[str, Any],
) -> None:
    first = register_repository(personas["team"], URL, project_dir="services/a").repository
    other = TeamFactory(name="Search")
    second = register_repository(other, "git@git.example.com:Org/mono", project_dir="services/b/")
    assert (second.repository.url_key, second.repository.project_dir) == (KEY, "services/b")
    assert second.repository.team == other
    root = register_repository(other, URL)  # the root is a folder of its own
    assert Repository.objects.filter(url_key=KEY).count() == 3
    assert first.webhook_secret_encrypted != second.repository.webhook_secret_encrypted
    assert root.webhook_secret != second.webhook_secret


@pytest.mark.parametrize(
    ("folder", "spelled", "where"),
    [
        ("services/a", "services/a/", "with project folder 'services/a'"),
        ("", "", "with no project folder (the root)"),
        ("", "./", "with no project folder (the root)"),
    ],
)
def test_register_refuses_the_same_url_and_folder_naming_the_row_and_its_team(
    personas: dict[str, Any], folder: str, spelled: str, where: str
) -> None:
    _row(personas["team"], folder, name="mono-a")
    with pytest.raises(RegistrationError) as info:
        register_repository(
            TeamFactory(), "ssh://git@git.example.com/org/mono", project_dir=spelled
        )
    assert info.value.field == "clone_url"
    assert f"already registered as 'mono-a' by team 'Payments' {where}" in info.value.message
    assert Repository.objects.count() == 1


def test_the_database_refuses_two_rows_for_one_url_and_folder(personas: dict[str, Any]) -> None:
    _row(personas["team"], "services/a")
    _row(personas["team"], "services/b")
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(personas["team"], "services/a")


def test_register_folder_names_the_row_and_copies_url_and_branch(
    personas: dict[str, Any],
) -> None:
    source = _row(personas["team"], "services/a", name="mono (services/a)", default_branch="dev")
    made = register_folder(personas["maintainer"], source, personas["team"], "services/b")
    new = made.repository
    assert (new.name, new.project_dir, new.clone_url) == ("mono (services/b)", "services/b", URL)
    assert new.default_branch == "dev"
    root = register_folder(personas["admin"], source, personas["team"], "").repository
    assert (root.name, root.project_dir) == ("mono", "")


def test_a_credential_in_the_url_is_copied_only_by_its_own_teams_maintainers(
    personas: dict[str, Any],
) -> None:
    url = "https://ci-bot:glpat-secret@git.example.com/org/mono.git"
    source = RepositoryFactory(team=personas["team"], clone_url=url, url_key=KEY)
    search = TeamFactory(name="Search")
    MembershipFactory(user=personas["outsider"], team=search, role="maintainer")
    with pytest.raises(PermissionDenied, match="holds a credential of team 'Payments'"):
        register_folder(personas["outsider"], source, search, "services/b")
    with pytest.raises(PermissionDenied):  # a team they do not maintain
        register_folder(personas["outsider"], source, personas["team"], "services/b")
    made = register_folder(personas["maintainer"], source, personas["team"], "services/b")
    assert made.repository.clone_url == url
    # Without a credential any team's maintainer may (the URL says nothing secret).
    plain = RepositoryFactory(team=personas["team"], clone_url=URL, url_key="other/key")
    assert register_folder(personas["outsider"], plain, search, "x").repository.team == search


def test_judging_a_folder_a_sibling_has_is_refused_and_changes_nothing(
    personas: dict[str, Any],
) -> None:
    mine = _row(personas["team"], "services/a")
    _row(TeamFactory(name="Search"), "services/b", name="billing")
    with pytest.raises(RegistrationError) as info:
        judge_folder(personas["maintainer"], mine, "services/b/")
    assert info.value.field == "project_dir"
    assert "already registered as 'billing' by team 'Search'" in info.value.message
    mine.refresh_from_db()
    assert mine.project_dir == "services/a"
    assert not Scan.objects.exists()


def test_an_edit_of_the_folder_into_a_siblings_is_refused_on_the_folder(
    personas: dict[str, Any],
) -> None:
    mine = _row(personas["team"], "services/a")
    _row(personas["team"], "services/b", name="billing")
    mine.project_dir = "services/b"
    with pytest.raises(RegistrationError) as info:
        update_repository(personas["admin"], mine)
    assert info.value.field == "project_dir"
    assert Repository.objects.get(pk=mine.pk).project_dir == "services/a"
    mine.project_dir = "services/c"
    assert update_repository(personas["admin"], mine) == {
        "project_dir": ["services/a", "services/c"]
    }


# ----- registration: the form, the admin, the API -------------------------------------------
def test_the_form_refuses_the_same_url_and_folder_and_accepts_another_folder(
    client: Client, personas: dict[str, Any]
) -> None:
    _row(personas["team"], "services/a", name="mono-a")
    client.force_login(personas["maintainer"])
    data = {"team": personas["team"].pk, "clone_url": URL, "default_branch": "main"}
    refused = client.post("/repositories/new/", {**data, "project_dir": "services/a"})
    html = refused.content.decode()
    assert "already registered as &#x27;mono-a&#x27; by team &#x27;Payments&#x27;" in html
    assert "the first scan lists the Python projects it found" in html  # the help text
    registered = client.post("/repositories/new/", {**data, "project_dir": "services/b"})
    assert "This secret is shown only once" in registered.content.decode()
    assert Repository.objects.filter(url_key=KEY).count() == 2


def test_the_admin_adds_a_sibling_and_refuses_an_edit_into_a_siblings_folder(
    client: Client, personas: dict[str, Any]
) -> None:
    first = _row(personas["team"], "services/a", name="mono-a")
    client.force_login(personas["admin"])
    form = {"team": personas["team"].pk, "clone_url": URL, "default_branch": "main"}
    same = client.post("/admin/dashboard/repository/add/", {**form, "project_dir": "services/a"})
    errors = same.context["adminform"].form.errors
    assert "mono-a" in " ".join(errors["clone_url"])
    added = client.post("/admin/dashboard/repository/add/", {**form, "project_dir": "services/b"})
    assert added.status_code == 200
    assert "This secret is shown only once" in added.content.decode()
    second = Repository.objects.get(project_dir="services/b")
    edit = {**form, "name": second.name, "project_dir": "services/a", "active": "on"}
    refused = client.post(f"/admin/dashboard/repository/{second.pk}/change/", edit)
    errors = refused.context["adminform"].form.errors
    assert "already registered as 'mono-a'" in " ".join(errors["project_dir"])
    assert "clone_url" not in errors
    assert Repository.objects.get(pk=second.pk).project_dir == "services/b"
    assert first.pk != second.pk


def test_the_api_registers_a_sibling_and_refuses_the_same_folder(personas: dict[str, Any]) -> None:
    _row(personas["team"], "services/a", name="mono-a")
    token = api_tokens.issue(personas["team"], "ci", write=True).plaintext
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    payload = {"team": "payments", "clone_url": URL}
    refused = client.post(
        "/api/v1/repositories",
        {**payload, "project_dir": "services/a"},
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert "already registered as 'mono-a' by team 'Payments'" in refused.json()["message"]
    made = client.post(
        "/api/v1/repositories",
        {**payload, "project_dir": "services/b"},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["repository"]["project_dir"] == "services/b"
    listed = client.get("/api/v1/repositories").json()["data"]
    assert sorted(row["project_dir"] for row in listed) == ["services/a", "services/b"]


# ----- siblings told apart wherever a repository is shown --------------------------------
def _scanned(repository: Repository, status: str) -> Scan:
    standard = current_standard()
    rule = Rule.objects.get(standard=standard, rule_id="DEP-001")
    scan = ScanFactory(repository=repository, standard=standard)
    CheckResult.objects.create(scan=scan, rule=rule, status=status, message=f"says {status}")
    repository.latest_scan = scan
    repository.save()
    refresh_repository_score(repository)
    record_scan_day(repository, timezone.now().date())
    return scan


@pytest.fixture
def siblings(personas: dict[str, Any]) -> tuple[Repository, Repository]:
    a = _row(personas["team"], "services/a")
    b = _row(personas["team"], "services/b")
    _scanned(a, "pass")
    _scanned(b, "fail")
    return a, b


def _get(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_pages_show_the_folder_beside_the_name(
    client: Client, personas: dict[str, Any], siblings: tuple[Repository, Repository]
) -> None:
    a, b = siblings
    client.force_login(personas["member"])
    for url in ("/teams/payments/", "/repositories/", "/rules/DEP-001/"):
        html = _get(client, url)
        for row in (a, b):
            assert f">mono</a>{FOLDER.format(row.project_dir)}" in html, url
    page = _get(client, f"/repositories/{b.pk}/")
    assert "<title>mono (services/b)" in page
    assert f"<h1>mono{FOLDER.format('services/b')}" in page
    scan = _get(client, f"/scans/{b.latest_scan_id}/")
    assert f">mono</a>{FOLDER.format('services/b')} /" in scan
    # The team's level explanation names the sibling that blocks it, with its folder.
    assert "blocks Bronze: mono (services/b) (No level)" in _get(client, "/teams/payments/")
    search = _get(client, "/teams/payments/?q=services/b")
    assert FOLDER.format("services/b") in search
    assert FOLDER.format("services/a") not in search


def test_a_row_without_a_folder_or_named_after_it_shows_none(
    client: Client, personas: dict[str, Any]
) -> None:
    _scanned(_row(personas["team"], ""), "pass")
    _scanned(_row(personas["team"], "services/c", name="mono (services/c)"), "pass")
    client.force_login(personas["member"])
    html = _get(client, "/teams/payments/")
    assert ">mono (services/c)</a></td>" in html
    assert 'class="folder"' not in html


def test_the_team_page_costs_the_same_queries_with_siblings(
    client: Client, personas: dict[str, Any]
) -> None:
    client.force_login(personas["member"])
    _scanned(_row(personas["team"], "services/a"), "pass")

    def count() -> int:
        _get(client, "/teams/payments/")  # warm the page cache
        with CaptureQueriesContext(connection) as queries:
            _get(client, "/teams/payments/")
        return len(queries)

    one = count()
    for n in range(3):
        _scanned(_row(personas["team"], f"services/{n}"), "fail")
    assert count() == one


def _csv(client: Client, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_exports_name_the_folder_of_each_sibling(
    client: Client, personas: dict[str, Any], siblings: tuple[Repository, Repository]
) -> None:
    client.force_login(personas["member"])
    expected = [("mono", "services/a"), ("mono", "services/b")]
    for url, status in (
        ("/exports/teams/payments.csv", None),
        ("/exports/results.csv", "status"),
        ("/exports/rules/DEP-001.csv", "status"),
        ("/exports/history.csv?scope=repository&team=payments", None),
    ):
        rows = _csv(client, url)
        assert sorted((row["repository"], row["project_dir"]) for row in rows) == expected, url
        if status:
            shown = {row["project_dir"]: row[status] for row in rows}
            assert shown == {"services/a": "pass", "services/b": "fail"}, url
