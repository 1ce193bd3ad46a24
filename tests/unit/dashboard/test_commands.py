"""Operators' commands and the beat schedule."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.core.management.base import OutputWrapper

from dashboard.celery import app
from dashboard.management.commands import demo
from dashboard.management.database import apply_migrations
from dashboard.models import CheckResult, Scan
from tests.factories import RepositoryFactory, TeamFactory
from tests.gitrepo import golden_repo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _var_dir(settings: object, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"  # type: ignore[attr-defined]


def test_scan_sync_runs_the_pipeline_and_prints_the_score(tmp_path: Path) -> None:
    source = golden_repo(tmp_path / "golden")
    repository = RepositoryFactory(
        team=TeamFactory(), name="golden", clone_url=str(source), url_key=f"file:{source}"
    )
    out = StringIO()
    call_command("scan", "golden", "--sync", stdout=out)
    scan = Scan.objects.get(repository=repository)
    assert scan.status == Scan.Status.SUCCEEDED
    assert f"scan {scan.pk} of golden: succeeded — score {scan.score}" in out.getvalue()
    assert CheckResult.objects.filter(scan=scan).exists()


def test_scan_without_sync_only_queues(tmp_path: Path) -> None:
    repository = RepositoryFactory()
    out = StringIO()
    call_command("scan", str(repository.pk), stdout=out)
    assert Scan.objects.get(repository=repository).status == Scan.Status.QUEUED
    assert "queued" in out.getvalue()


def test_scan_of_unknown_repository_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="no registered repository matches 'nope'"):
        call_command("scan", "nope")


def test_scan_sync_of_unreachable_repository_fails_with_the_reason(tmp_path: Path) -> None:
    RepositoryFactory(name="gone", clone_url=str(tmp_path / "missing"), url_key="file:gone")
    with pytest.raises(CommandError):
        call_command("scan", "gone", "--sync", stdout=StringIO())
    assert Scan.objects.get().status == Scan.Status.FAILED


def test_migrations_step_is_silent_when_the_database_is_up_to_date() -> None:
    out = StringIO()
    apply_migrations(OutputWrapper(out))
    assert out.getvalue() == ""


@pytest.mark.parametrize("args", [(), ("--reset",)])
def test_demo_applies_pending_migrations_before_anything_else(
    monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    def stop(stdout: OutputWrapper) -> None:
        raise CommandError("migrations step reached")

    monkeypatch.setattr(demo, "apply_migrations", stop)
    monkeypatch.setattr(demo, "build", lambda *a, **k: pytest.fail("built before migrating"))
    monkeypatch.setattr(demo, "reset", lambda *a, **k: pytest.fail("reset before migrating"))
    with pytest.raises(CommandError, match="migrations step reached"):
        call_command("demo", *args, stdout=StringIO())


def test_sync_standard_command_reports_active_rules() -> None:
    out = StringIO()
    call_command("sync_standard", stdout=out)
    assert "124 active rules" in out.getvalue()


def test_beat_schedule_names_registered_tasks() -> None:
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled == {
        "dashboard.sweep_scans",
        "dashboard.heartbeat",
        "dashboard.close_day",
        "dashboard.nightly_rescan",
        "dashboard.refresh_advisories",
        "dashboard.notify_deadlines",
        "dashboard.send_digests",
        "dashboard.send_weekly_digests",
        "dashboard.send_expiry_reminders",
    }
    assert scheduled <= set(app.tasks)


def test_nightly_rescan_queues_active_repositories_only(
    django_capture_on_commit_callbacks: object,
) -> None:
    from dashboard.tasks import nightly_rescan

    active, inactive = RepositoryFactory(), RepositoryFactory(active=False)
    assert nightly_rescan() == {"queued": 1}
    assert Scan.objects.filter(repository=active, trigger="schedule").count() == 1
    assert not Scan.objects.filter(repository=inactive).exists()


def test_scan_task_returns_quietly_when_the_scan_is_gone() -> None:
    from dashboard.tasks import scan_repository

    assert scan_repository.run(424242) == {"scan_id": 424242, "status": "gone", "detail": ""}


def test_admin_lists_every_model_and_revokes_tokens(client: object) -> None:
    from django.apps import apps
    from django.contrib import admin as django_admin

    from dashboard.services.access import api_tokens
    from tests.factories import UserFactory

    dashboard_models = set(apps.get_app_config("dashboard").get_models())
    assert dashboard_models <= set(django_admin.site._registry)
    admin_user = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin_user)  # type: ignore[attr-defined]
    for model in dashboard_models:
        url = f"/admin/dashboard/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url  # type: ignore[attr-defined]
    issued = api_tokens.issue(TeamFactory(), "ci")
    client.post(
        "/admin/dashboard/apitoken/",
        {  # type: ignore[attr-defined]
            "action": "revoke_selected",
            "_selected_action": [issued.token.pk],
        },
    )
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
