"""A repository's settings: edit, archive and restore (services/repos/lifecycle.py)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from dashboard.models import AuditAction, AuditEvent, Repository, Scan, TeamDailyScore
from dashboard.services.periodic import rescan_active_repositories
from dashboard.services.repos import lifecycle
from dashboard.services.repos.registration import RegistrationError
from dashboard.services.scoring import rollups
from tests.factories import RepositoryFactory, ScanFactory
from tests.gitrepo import make_repo
from tests.oncommit import queued_work

pytestmark = pytest.mark.django_db

CaptureCallbacks = Callable[..., AbstractContextManager[list[Callable[[], object]]]]
SETTINGS = {"name": "ledger", "default_branch": "main", "project_dir": ""}


def scored(team: Any, **kwargs: Any) -> Repository:
    """A repository of `team` with a succeeded scan and a score, in today's roll-up."""
    repository = RepositoryFactory(team=team, **kwargs)
    repository.latest_scan = ScanFactory(repository=repository)
    repository.score, repository.level = 80.0, "silver"
    repository.save()
    rollups.refresh_team_day(team.pk, timezone.now().date())
    return repository


def _events(action: str = AuditAction.REPOSITORY_CHANGED) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def _team_today(team: Any) -> int:
    row = TeamDailyScore.objects.filter(team=team, date=timezone.now().date()).first()
    return row.repositories if row else 0


def test_a_maintainer_renames_and_moves_the_folder_audited_and_rescanned(
    personas: dict[str, Any], django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    repository = RepositoryFactory(team=personas["team"], name="old")
    with django_capture_on_commit_callbacks() as callbacks:
        changes = lifecycle.edit_repository(
            personas["maintainer"], repository, **{**SETTINGS, "project_dir": "services/api/"}
        )
    assert changes == {"name": ["old", "ledger"], "project_dir": ["", "services/api"]}
    stored = Repository.objects.get(pk=repository.pk)
    assert (stored.name, stored.project_dir) == ("ledger", "services/api")
    [event] = _events()
    assert event.actor == personas["maintainer"]
    assert event.details == changes
    assert event.team == personas["team"]
    scan = Scan.objects.get(repository=repository)
    assert scan.forced  # the commit may be scanned already, at the old folder
    assert len(queued_work(callbacks)) == 1


def test_a_rename_alone_queues_no_scan(personas: dict[str, Any]) -> None:
    repository = RepositoryFactory(team=personas["team"], name="old")
    lifecycle.edit_repository(personas["maintainer"], repository, **SETTINGS)
    assert not Scan.objects.exists()


def test_saving_what_is_stored_records_nothing(personas: dict[str, Any]) -> None:
    repository = RepositoryFactory(team=personas["team"], name="ledger")
    assert lifecycle.edit_repository(personas["manager"], repository, **SETTINGS) == {}
    assert _events() == []


@pytest.mark.parametrize("role", ["member", "outsider"])
def test_others_may_not_edit(personas: dict[str, Any], role: str) -> None:
    repository = RepositoryFactory(team=personas["team"], name="old")
    with pytest.raises(PermissionDenied):
        lifecycle.edit_repository(personas[role], repository, **SETTINGS)
    assert Repository.objects.get(pk=repository.pk).name == "old"
    assert _events() == []


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_edit_any_repository(personas: dict[str, Any], role: str) -> None:
    repository = RepositoryFactory(team=personas["team"], name="old")
    lifecycle.edit_repository(personas[role], repository, **SETTINGS)
    assert Repository.objects.get(pk=repository.pk).name == "ledger"


def test_a_folder_a_sibling_row_judges_is_refused_naming_it(personas: dict[str, Any]) -> None:
    first = RepositoryFactory(team=personas["team"], name="mono-a", project_dir="services/a")
    second = RepositoryFactory(
        team=personas["team"], name="mono-b", url_key=first.url_key, project_dir="services/b"
    )
    with pytest.raises(RegistrationError) as caught:
        lifecycle.edit_repository(
            personas["maintainer"], second, **{**SETTINGS, "project_dir": "services/a/"}
        )
    assert caught.value.field == "project_dir"
    assert "already registered as 'mono-a' by team 'Payments'" in caught.value.message
    assert Repository.objects.get(pk=second.pk).project_dir == "services/b"
    assert _events() == []


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"project_dir": "../elsewhere"}, "project_dir", "relative path inside the repository"),
        ({"project_dir": "/etc"}, "project_dir", "relative path inside the repository"),
        ({"default_branch": "--upload-pack=x"}, "default_branch", "not a valid branch name"),
        ({"name": "   "}, "name", "needs a name"),
    ],
)
def test_bad_settings_are_refused_on_their_field(
    personas: dict[str, Any], change: dict[str, str], field: str, message: str
) -> None:
    repository = RepositoryFactory(team=personas["team"], name="old")
    with pytest.raises(RegistrationError) as caught:
        lifecycle.edit_repository(personas["maintainer"], repository, **{**SETTINGS, **change})
    assert caught.value.field == field
    assert message in caught.value.message
    assert Repository.objects.get(pk=repository.pk).name == "old"


@pytest.mark.remote_check
def test_a_new_branch_must_exist_at_the_host(personas: dict[str, Any], tmp_path: Path) -> None:
    source = make_repo(tmp_path / "ledger", {"README.md": "# ledger\n"})
    repository = RepositoryFactory(team=personas["team"], name="ledger", clone_url=str(source))
    with pytest.raises(RegistrationError) as caught:
        lifecycle.edit_repository(
            personas["maintainer"], repository, **{**SETTINGS, "default_branch": "trunk"}
        )
    assert caught.value.field == "default_branch"
    assert caught.value.message == "The repository has no branch 'trunk' (its branches: main)."


def test_archiving_takes_it_out_of_the_score_and_the_rescans(personas: dict[str, Any]) -> None:
    repository = scored(personas["team"])
    assert _team_today(personas["team"]) == 1
    assert lifecycle.archive_repository(personas["maintainer"], repository)
    assert not Repository.objects.get(pk=repository.pk).active
    assert not Repository.objects.scored().exists()  # dashboard/domain/scores.py
    assert _team_today(personas["team"]) == 0  # today's roll-up followed at once
    assert rescan_active_repositories() == 0
    [event] = _events()
    assert event.details == {"active": [True, False]}  # what the trends read


def test_archiving_twice_records_once(personas: dict[str, Any]) -> None:
    repository = RepositoryFactory(team=personas["team"])
    assert lifecycle.archive_repository(personas["maintainer"], repository)
    assert not lifecycle.archive_repository(personas["maintainer"], repository)
    assert len(_events()) == 1


def test_restoring_brings_it_back_as_it_was(personas: dict[str, Any]) -> None:
    repository = scored(personas["team"])
    lifecycle.archive_repository(personas["maintainer"], repository)
    assert lifecycle.restore_repository(personas["manager"], repository)
    stored = Repository.objects.get(pk=repository.pk)
    assert stored.active
    assert stored.score == 80.0
    assert _team_today(personas["team"]) == 1
    assert [e.details for e in _events()] == [{"active": [True, False]}, {"active": [False, True]}]
    assert _events()[1].actor == personas["manager"]


@pytest.mark.parametrize("role", ["member", "outsider"])
def test_others_may_not_archive_or_restore(personas: dict[str, Any], role: str) -> None:
    repository = RepositoryFactory(team=personas["team"])
    with pytest.raises(PermissionDenied):
        lifecycle.archive_repository(personas[role], repository)
    repository.active = False
    repository.save()
    with pytest.raises(PermissionDenied):
        lifecycle.restore_repository(personas[role], repository)
    assert not Repository.objects.get(pk=repository.pk).active
    assert _events() == []
