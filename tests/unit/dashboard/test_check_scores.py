"""`manage.py check_scores`: stored scores against the one definition, and the nightly check."""

from __future__ import annotations

import logging
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from dashboard import tasks
from dashboard.models import AuditAction, AuditEvent, Repository, Team, TeamDailyScore
from dashboard.services.repos.registration import delete_repository, update_repository
from tests.factories import RepositoryFactory, TeamFactory, UserFactory
from tests.scoredata import rules, store_scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def org() -> dict[str, Any]:
    """Two teams, three repositories scanned by the real pipeline, one never scanned."""
    ids = sorted(rules())[:6]
    platform, data = TeamFactory(name="Platform"), TeamFactory(name="Data")
    api = RepositoryFactory(team=platform, name="api")
    worker = RepositoryFactory(team=platform, name="worker")
    ledger = RepositoryFactory(team=data, name="ledger")
    RepositoryFactory(team=data, name="fresh")
    store_scan(api, dict.fromkeys(ids, "pass"))
    store_scan(worker, {**dict.fromkeys(ids, "pass"), ids[0]: "fail"})
    store_scan(ledger, {**dict.fromkeys(ids, "pass"), ids[1]: "warn"})
    return {"platform": platform, "data": data, "api": api, "ledger": ledger}


def _run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("check_scores", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_a_clean_organisation_passes(org: dict[str, Any]) -> None:
    code, out = _run()
    assert (code, out.strip()) == (0, "scores consistent")


def test_a_broken_repository_score_is_named_and_fails(org: dict[str, Any]) -> None:
    Repository.objects.filter(pk=org["api"].pk).update(score=99.5, level="silver")
    code, out = _run()
    assert code == 1
    assert f"repository api (#{org['api'].pk}): score stored 99.5, computed 100.0" in out
    assert f"repository api (#{org['api'].pk}): level stored 'silver', computed 'gold'" in out


def test_a_broken_team_rollup_is_named_and_fails(org: dict[str, Any]) -> None:
    team: Team = org["data"]
    TeamDailyScore.objects.filter(team=team, date=timezone.now().date()).update(score=12.0)
    code, out = _run()
    assert code == 1
    assert f"team Data (#{team.pk}): score stored 12.0" in out


def test_fix_repairs_and_audits_each_repair(org: dict[str, Any]) -> None:
    api, data = org["api"], org["data"]
    Repository.objects.filter(pk=api.pk).update(score=99.5, level="silver")
    TeamDailyScore.objects.filter(team=data, date=timezone.now().date()).update(score=12.0)
    code, out = _run("--fix")
    assert code == 1
    assert "repaired" in out
    api.refresh_from_db()
    assert (api.score, api.level) == (100.0, "gold")
    events = AuditEvent.objects.filter(action=AuditAction.SCORE_REPAIRED).order_by("pk")
    assert [(e.target_type, e.target_id) for e in events] == [
        ("repository", api.pk),
        ("team", data.pk),
    ]
    assert events[0].details["before"] == {"score": 99.5, "level": "silver"}
    assert events[0].actor_label == "check_scores"
    assert _run() == (0, "scores consistent\n")


def test_nightly_close_day_logs_an_error_on_drift_and_repairs(
    org: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    Repository.objects.filter(pk=org["api"].pk).update(score=99.5, level="silver")
    with caplog.at_level(logging.ERROR, logger="dashboard.services.scoring.check"):
        result = tasks.close_day()
    assert result["score_drifts"] == "2"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert any("repository api" in r.getMessage() for r in errors)
    assert _run()[0] == 0


def test_nightly_close_day_is_quiet_without_drift(
    org: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        assert tasks.close_day()["score_drifts"] == "0"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_deactivating_or_deleting_a_repository_updates_its_team_today(org: dict[str, Any]) -> None:
    """Before: today's team roll-up still averaged a repository an admin had deactivated."""
    admin = UserFactory(is_superuser=True, is_staff=True)
    worker = Repository.objects.get(name="worker")
    worker.active = False
    update_repository(admin, worker)
    today = timezone.now().date()
    platform = TeamDailyScore.objects.get(team=org["platform"], date=today)
    assert platform.score == 100.0
    assert _run()[0] == 0
    delete_repository(admin, Repository.objects.get(name="ledger"))
    assert not TeamDailyScore.objects.filter(team=org["data"], date=today).exists()
    assert _run()[0] == 0
