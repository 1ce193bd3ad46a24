"""The periodic sweep removes scratch folders that killed workers left under VAR_DIR."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dashboard import tasks
from dashboard.domain.clone_urls import workspace_policy
from dashboard.services.scans.deep import deep_work_dir

pytestmark = pytest.mark.django_db


def _leftover(folder: Path, age_s: float) -> Path:
    (folder / "tree").mkdir(parents=True)
    (folder / "tree" / "big.bin").write_bytes(b"x" * 1000)
    then = time.time() - age_s
    os.utime(folder, (then, then))
    return folder


def test_sweep_scans_removes_old_scratch_folders_and_keeps_young_ones(
    settings: object, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path / "var"  # type: ignore[attr-defined]
    settings.SCAN_TIME_LIMIT_S = 600  # type: ignore[attr-defined]
    checkouts = workspace_policy().cache_dir / "checkouts"
    dead = _leftover(checkouts / "checkout-dead", 3600)
    young = _leftover(checkouts / "checkout-young", 60)
    deep = _leftover(deep_work_dir() / "deep-dead", 3600)
    cache = _leftover(deep_work_dir() / "runtime", 3600)  # not scratch: never swept
    assert tasks.sweep_scans()["scratch_removed"] == 2
    assert not dead.exists()
    assert not deep.exists()
    assert young.is_dir()
    assert cache.is_dir()
