"""`manage.py demo` end to end: real repositories, real scans, roll-ups, idempotence, reset."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from dashboard.demo import builder
from dashboard.demo.marker import demo_present, marker_path, read_marker, repos_dir
from dashboard.models import (
    Repository,
    RepositoryDailyScore,
    RuleDailyStats,
    Scan,
    Team,
    TeamDailyScore,
)
from dashboard.services.scoring import rollups
from tests.integration.test_quickstart import _embedded_env, _free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db]

SMALL = ["--teams", "2", "--repos", "3", "--days", "60", "--workers", "1"]


@pytest.fixture(autouse=True)
def _private_var_dir(settings: Any, tmp_path: Path) -> None:
    """The marker, generated repositories, mirrors and locks go to a private folder."""
    settings.VAR_DIR = tmp_path / "var"
    settings.ALLOW_LOCAL_REPOSITORIES = True


def _demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        "teams": Team.objects.count(),
        "users": User.objects.count(),
        "repositories": Repository.objects.count(),
        "scans": Scan.objects.count(),
        "repo_days": RepositoryDailyScore.objects.count(),
        "team_days": TeamDailyScore.objects.count(),
        "rule_days": RuleDailyStats.objects.count(),
    }


def _rows() -> tuple[set[tuple[object, ...]], ...]:
    return (
        set(RepositoryDailyScore.objects.values_list("repository_id", "date", "score", "scan_id")),
        set(TeamDailyScore.objects.values_list("team_id", "date", "score", "repositories")),
        set(RuleDailyStats.objects.values_list("rule_id", "team_id", "date", "passed", "failed")),
    )


def test_demo_builds_real_history_and_a_second_run_changes_nothing() -> None:
    out = _demo(*SMALL)
    assert "Demo account — user: manager  password: " in out
    assert "Demo account — user: maintainer  password: " in out
    assert "Demo account — user: admin  password: " in out  # no superuser existed yet
    assert demo_present()
    assert read_marker().status == "ready"  # type: ignore[union-attr]
    repositories = list(Repository.objects.order_by("pk"))
    assert [r.name for r in repositories] == ["ledger-api", "storefront-app", "platform-monorepo"]
    assert repositories[2].project_dir == "backend"
    assert all((repos_dir() / r.name / ".git").is_dir() for r in repositories)
    today = timezone.now().date()
    for repository in repositories:
        latest = repository.latest_scan
        assert latest is not None
        assert latest.status == Scan.Status.SUCCEEDED
        assert latest.finished_at.date() == today  # type: ignore[union-attr]
        assert latest.worker == "demo"
        assert latest.results.count() > 100
        older = repository.scans.exclude(pk=latest.pk)
        assert older.exists()
        assert all(s.finished_at.date() < today for s in older)  # type: ignore[union-attr]
        assert len({s.commit_sha for s in repository.scans.all()}) == repository.scans.count()
        # No push asked for them: the demo says it recorded them (not "webhook").
        assert set(repository.scans.values_list("trigger", flat=True)) == {"demo"}
    assert Repository.objects.get(name="ledger-api").level == "gold"
    assert RepositoryDailyScore.objects.filter(date=today - timedelta(days=30)).count() == 3
    assert TeamDailyScore.objects.filter(date=today).count() == 2
    maintainer = User.objects.get(username="maintainer")
    assert maintainer.memberships.get().role == "maintainer"
    assert User.objects.get(username="manager").groups.filter(name="managers").exists()

    before = _counts()
    again = _demo(*SMALL)
    assert "already present" in again
    assert "password" not in again
    assert _counts() == before


def test_replayed_rollups_equal_a_recompute_from_raw_scans() -> None:
    _demo(*SMALL)
    today = timezone.now().date()
    replayed = _rows()
    rollups.recompute_range(today - timedelta(days=60), today)
    assert _rows() == replayed


def test_reset_removes_the_demo_and_keeps_the_superuser(django_user_model: Any) -> None:
    django_user_model.objects.create_superuser(username="root", password="x")
    out = _demo("--teams", "1", "--repos", "2", "--days", "45", "--workers", "2")
    assert "user: admin" not in out  # a superuser already existed
    assert Repository.objects.count() == 2
    assert "Demo data removed." in _demo("--reset")
    assert not Team.objects.exists()
    assert not Repository.objects.exists()
    assert list(User.objects.values_list("username", flat=True)) == ["root"]
    assert not marker_path().exists()
    assert not repos_dir().exists()
    assert not demo_present()
    assert "No demo data to remove." in _demo("--reset")


def test_demo_refuses_to_mix_with_existing_teams() -> None:
    Team.objects.create(name="Payments", slug="payments")
    with pytest.raises(CommandError, match="already exists and is not demo data"):
        _demo(*SMALL)
    assert Team.objects.count() == 1
    assert not Repository.objects.exists()


def test_a_partial_build_is_cleared_before_building_again(monkeypatch: Any) -> None:
    def crash(*_args: object) -> None:
        raise RuntimeError("interrupted")

    monkeypatch.setattr(builder, "_backfill", crash)
    with pytest.raises(RuntimeError):
        _demo(*SMALL)
    assert read_marker().status == "building"  # type: ignore[union-attr]
    assert Repository.objects.count() == 3  # registered before the crash
    monkeypatch.undo()
    _demo(*SMALL)
    assert Team.objects.count() == 2
    assert Repository.objects.count() == 3


def test_every_page_shows_the_demo_banner_only_with_demo_data(client: Client) -> None:
    User.objects.create_user(username="viewer", password="pw")
    client.force_login(User.objects.get(username="viewer"))
    assert b"demo-banner" not in client.get("/").content
    _demo("--teams", "1", "--repos", "1", "--days", "30", "--workers", "1")
    for url in ("/", "/repositories/", "/teams/payments/", "/rules/"):
        response = client.get(url)
        assert response.status_code == 200
        assert b'class="demo-banner"' in response.content
    assert b'class="demo-banner"' in Client().get("/accounts/login/").content


def test_quickstart_loads_a_small_demo_then_starts(tmp_path: Path) -> None:
    port = _free_port()
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "quickstart",
            "--port",
            str(port),
            "--exit-when-ready",
            "--demo-size",
            "tiny",
        ],
        cwd=ROOT,
        env=_embedded_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Admin account created — user: admin  password: " in result.stdout
    assert "Demo ready: 2 repositories" in result.stdout
    assert "Demo account — user: manager  password: " in result.stdout
    assert f"Yardstick is running at http://127.0.0.1:{port}/" in result.stdout
    assert (tmp_path / "var" / "demo.json").exists()
    assert (tmp_path / "var" / "demo-repos" / "ledger-api" / ".git").is_dir()


def test_demo_on_a_fresh_clone_creates_the_tables_first(tmp_path: Path) -> None:
    """A fresh clone has an empty embedded database: `demo` migrates it as `quickstart` does."""
    result = subprocess.run(
        [sys.executable, "manage.py", "demo", "--reset"],
        cwd=ROOT,
        env=_embedded_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stdout == "Applying migrations…\nNo demo data to remove.\n"
    with closing(sqlite3.connect(tmp_path / "var" / "yardstick.sqlite3")) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"dashboard_team", "dashboard_repository", "django_migrations"} <= tables


def test_the_weekly_digest_of_a_known_demo_week(client: Client) -> None:
    """The demo's last week, as the organisation's subscribers receive it: storefront-app
    reaches Gold, platform-monorepo is the one left with rules to fix; the attachment is the
    organisation export's very bytes."""
    from django.core import mail

    from dashboard.models import Delivery
    from dashboard.services.notify import weekly
    from dashboard.services.notify.subscriptions import scope_named, subscribe
    from dashboard.tasks import deliver_notification

    _demo(*SMALL)
    manager = User.objects.get(username="manager")
    User.objects.filter(pk=manager.pk).update(email="manager@example.test")
    manager.refresh_from_db()
    subscribe(manager, scope_named("org"), enabled=True)
    ids = dict(Repository.objects.values_list("name", "pk"))
    today = timezone.now().date()
    week = weekly.iso_week(today)
    monorepo = ids["platform-monorepo"]

    assert weekly.send_weekly_digests() == 1
    for delivery in Delivery.objects.filter(status=Delivery.Status.PENDING):
        assert deliver_notification(delivery.pk) == Delivery.Status.SENT

    (message,) = mail.outbox
    assert message.to == [manager.email]
    assert message.subject.endswith(f"Weekly digest of the organisation, week to {today}")
    fixes = [
        ("DOC-002", "Architecture decision records", "minor"),
        ("DSEC-001", "Automated dependency updates", "minor"),
        ("STR-006", "Root project files", "minor"),
        ("STY-001", "Clean ruff lint", "major"),
    ]
    assert message.body.splitlines()[:21] == [
        f"Weekly digest of the organisation: {today - timedelta(days=7)} to {today} (week {week}).",
        "",
        "Levels gained (1)",
        f"- storefront-app (Identity): Bronze → Gold  /repositories/{ids['storefront-app']}/",
        "",
        "Levels lost (0)",
        "- none",
        "",
        "What changed",
        "Moved up:",
        "- Identity (team): 95.3 → 100.0, +4.7  /teams/identity/",
        f"- storefront-app: 95.3 → 100.0, +4.7  /repositories/{ids['storefront-app']}/",
        "",
        "Fix first",
        *(
            f"{n}. {rule} {title} ({severity}): +0.5 points across 1 repository  "
            f"/rules/{rule}/?repos={monorepo}"
            for n, (rule, title, severity) in enumerate(fixes, 1)
        ),
        "",
        "Waivers expiring in the next 30 days (0)",
        "- none",
    ]
    ((name, content, mimetype),) = message.attachments
    client.force_login(manager)
    export = client.get("/exports/organisation.csv")
    assert mimetype == "text/csv"
    assert name == f"yardstick-organisation-{today:%Y%m%d}.csv"
    assert content.encode() == b"".join(export.streaming_content)  # type: ignore[attr-defined]
    # Once per ISO week.
    assert weekly.send_weekly_digests() == 0
    assert len(mail.outbox) == 1
