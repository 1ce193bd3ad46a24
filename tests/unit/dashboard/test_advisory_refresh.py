"""The nightly refresh of DSEC-003's advisory database (Celery beat -> periodic service)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from celery.schedules import crontab

from dashboard.celery import app
from dashboard.services import periodic
from dashboard.tasks import refresh_advisories
from scanners.advisories import DB_FILE, ENV_VAR, load_database
from scanners.context import RepoContext
from scanners.engine import evaluate_rule
from scanners.results import Status
from scanners.standard import default_standard
from tests.gitrepo import golden_repo

ROOT = Path(__file__).resolve().parents[3]
OSV_DIR = ROOT / "tests" / "fixtures" / "osv"


@pytest.fixture
def advisory_db(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private database folder, where the engine reads it too."""
    folder = tmp_path / "advisories"
    settings.ADVISORY_DB = folder
    monkeypatch.setenv(ENV_VAR, str(folder))
    return folder


SHOW = (
    "import os, django; django.setup(); from django.conf import settings; "
    f"print(settings.ADVISORY_DB, os.environ['{ENV_VAR}'], sep='|')"
)


@pytest.mark.parametrize("named", [False, True])
def test_the_database_lives_under_var_dir_unless_the_variable_names_one(
    tmp_path: Path, named: bool
) -> None:
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    env.update(DJANGO_SETTINGS_MODULE="dashboard.settings", VAR_DIR=str(tmp_path / "var"))
    if named:
        env[ENV_VAR] = str(tmp_path / "shared" / "osv")
    out = subprocess.run(
        [sys.executable, "-c", SHOW], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    expected = tmp_path / "shared" / "osv" if named else tmp_path / "var" / "advisories"
    assert out == f"{expected}|{expected}"  # the dashboard and the engine read the same one


def test_it_is_refreshed_every_night_before_the_rescans() -> None:
    app.loader.import_default_modules()
    entries = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    refresh, rescan = entries["dashboard.refresh_advisories"], entries["dashboard.nightly_rescan"]
    assert isinstance(refresh, crontab)
    assert isinstance(rescan, crontab)
    assert (refresh.hour, refresh.minute) == ({1}, {30})
    assert min(rescan.hour) * 60 + min(rescan.minute) > 90  # the rescans come after
    assert "dashboard.refresh_advisories" in app.tasks


def test_a_refresh_from_a_local_source_makes_dsec003_applicable(
    settings: Any, advisory_db: Path, tmp_path: Path
) -> None:
    spec = default_standard().rules["DSEC-003"]
    repo = golden_repo(tmp_path / "repo")
    before = evaluate_rule(spec, RepoContext(repo)).result
    assert before.status is Status.NOT_APPLICABLE

    settings.ADVISORY_SOURCE = str(OSV_DIR)
    outcome = refresh_advisories()  # the task, run in process
    assert outcome == {"refreshed": True, "advisories": 4, "packages": 4}
    assert len(load_database(advisory_db).advisories) == 4

    after = evaluate_rule(spec, RepoContext(repo)).result
    assert after.status is Status.PASS
    assert "4 known advisories" in after.message


def test_a_failed_refresh_keeps_the_database_in_place_and_says_why(
    settings: Any, advisory_db: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings.ADVISORY_SOURCE = str(OSV_DIR)
    assert periodic.refresh_advisories()["refreshed"] is True
    kept = (advisory_db / DB_FILE).read_bytes()

    not_osv = tmp_path / "not-osv.json"
    not_osv.write_text(json.dumps([{"id": "X", "affected": [{"package": {"ecosystem": "npm"}}]}]))
    for source, reason in [
        (str(tmp_path / "missing.zip"), "no such file"),
        (str(not_osv), "no PyPI advisories"),
        ("ftp://mirror.invalid/all.zip", "unsupported URL scheme"),
    ]:
        settings.ADVISORY_SOURCE = source
        with caplog.at_level(logging.ERROR, logger="dashboard.services.periodic"):
            outcome = periodic.refresh_advisories()
        assert outcome["refreshed"] is False
        assert reason in str(outcome["reason"])
        assert reason in caplog.text
        assert (advisory_db / DB_FILE).read_bytes() == kept


def test_an_empty_source_never_refreshes(settings: Any, advisory_db: Path) -> None:
    settings.ADVISORY_SOURCE = ""
    assert periodic.refresh_advisories() == {
        "refreshed": False,
        "reason": "ADVISORY_SOURCE is empty",
    }
    assert not advisory_db.exists()


def test_test_runs_never_download_advisories() -> None:
    from django.conf import settings

    assert os.environ["ADVISORY_SOURCE"] == ""
    assert settings.ADVISORY_SOURCE == ""
