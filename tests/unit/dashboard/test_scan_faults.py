"""Faults seen from the dashboard: a full disk while cloning, the broker or the cache away.

The services themselves are stopped and restarted in tests/integration/test_service_faults.py;
these are the in-process cases.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from kombu.exceptions import OperationalError as KombuOperationalError

from dashboard.models import CheckResult, Repository, Scan
from dashboard.services.infra import ratelimit
from dashboard.services.scans import pipeline as scanning
from dashboard.tasks import scan_repository
from tests.factories import RepositoryFactory, TeamFactory
from tests.gitrepo import golden_repo

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(120)]


@pytest.fixture(autouse=True)
def _var_dir(settings: object, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"  # type: ignore[attr-defined]


def _registered(path: Path) -> Repository:
    return RepositoryFactory(
        team=TeamFactory(), name=path.name, clone_url=str(path), url_key=f"file:{path}"
    )


def _git_on_a_full_disk(folder: Path, limit_kib: int) -> Path:
    """A `git` that cannot write any file past `limit_kib` (EFBIG, as ENOSPC would fail)."""
    real = shutil.which("git")
    assert real is not None
    folder.mkdir(parents=True)
    shim = folder / "git"
    # `ulimit -f` counts 512-byte blocks in sh. Python starts children with SIGXFSZ at its
    # default (kill); ignoring it makes the write fail with EFBIG the way ENOSPC fails it.
    shim.write_text(f"#!/bin/sh\ntrap '' XFSZ\nulimit -f {limit_kib * 2}\nexec {real} \"$@\"\n")
    shim.chmod(0o755)
    return folder


def test_disk_full_while_cloning_fails_the_scan_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: object
) -> None:
    source = golden_repo(tmp_path / "golden", {"data/blob.bin": os.urandom(3 * 1024 * 1024)})
    repository = _registered(source)
    scan = scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False)
    shims = _git_on_a_full_disk(tmp_path / "shim", limit_kib=512)
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")

    outcome = scanning.run_scan(scan.pk, "worker-on-a-full-disk")

    scan.refresh_from_db()
    assert outcome.status == scan.status == Scan.Status.FAILED
    assert scan.error.startswith("git clone failed:"), scan.error
    assert "File too large" in scan.error or "No space left" in scan.error, scan.error
    assert scan.finished_at is not None
    assert CheckResult.objects.filter(scan=scan).count() == 0
    mirrors = settings.VAR_DIR / "mirrors"  # type: ignore[attr-defined]
    assert not [p for p in mirrors.rglob("*") if p.suffix == ".git" or "partial" in p.name]

    # Space is back: the next scan of the repository clones and succeeds.
    monkeypatch.setenv("PATH", os.environ["PATH"].split(os.pathsep, 1)[1])
    retry = scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False)
    assert scanning.run_scan(retry.pk, "worker").status == Scan.Status.SUCCEEDED


def test_a_scan_requested_while_the_broker_is_down_stays_queued_for_the_sweeper(
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent: list[int] = []
    broker_up = False

    def delay(scan_id: int) -> None:
        if not broker_up:
            raise KombuOperationalError("Error 111 connecting to 127.0.0.1:6379.")
        sent.append(scan_id)

    monkeypatch.setattr(scan_repository, "delay", delay)
    repository = RepositoryFactory()
    with (
        caplog.at_level(logging.WARNING, logger="dashboard.services.scans.pipeline"),
        django_capture_on_commit_callbacks(execute=True),  # type: ignore[operator]
    ):
        scan = scanning.request_scan(repository, Scan.Trigger.WEBHOOK)
    assert Scan.objects.get(pk=scan.pk).status == Scan.Status.QUEUED
    assert f"scan {scan.pk} stays queued: the broker is unreachable" in caplog.text
    # Still down at the sweeper's next run: nothing counted as resent, nothing lost.
    assert scanning.sweep(stale=timedelta(0))["resent"] == 0
    broker_up = True
    assert scanning.sweep(stale=timedelta(0))["resent"] == 1
    assert sent == [scan.pk]
    # The default waiting period leaves a freshly queued scan alone (its message is fine).
    assert scanning.sweep()["resent"] == 0


def test_webhook_rate_limit_fails_open_when_the_cache_is_unreachable(
    settings: object, caplog: pytest.LogCaptureFixture
) -> None:
    # A real connection attempt to a closed loopback port, not a mock.
    settings.CACHES = {  # type: ignore[attr-defined]
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with caplog.at_level(logging.WARNING, logger="dashboard.services.infra.ratelimit"):
        decisions = [ratelimit.hit("webhook", "10.0.0.1", 1, 60) for _ in range(3)]
    assert all(d.allowed for d in decisions)
    assert "rate limit webhook not applied: the cache is unreachable" in caplog.text


def test_rate_limit_still_refuses_past_the_limit_when_the_cache_answers() -> None:
    client = f"client-{uuid.uuid4().hex}"  # the cache may be a shared Redis
    decisions = [ratelimit.hit("faults", client, 2, 60) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
