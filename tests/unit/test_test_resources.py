"""The suite's own resources per run and per xdist worker (tests/xdist_workers.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from tests.xdist_workers import (
    XDIST_FOLDER,
    private_var_dir,
    ram_temp_root,
    shifted_redis_url,
    worker_index,
)


def test_worker_redis_databases_are_shifted_by_the_worker_number() -> None:
    assert worker_index("gw3") == 3
    assert shifted_redis_url("redis://127.0.0.1:6379/1", 2) == "redis://127.0.0.1:6379/3"
    assert shifted_redis_url("redis://127.0.0.1:6379", 1) == "redis://127.0.0.1:6379/1"
    assert shifted_redis_url("filesystem://", 4) == "filesystem://"
    with pytest.raises(pytest.UsageError, match="own Redis database"):
        shifted_redis_url("redis://127.0.0.1:6379/name", 1)


def test_each_test_process_starts_from_an_empty_var_dir_of_its_own(tmp_path: Path) -> None:
    stale = tmp_path / XDIST_FOLDER / "gw1" / "demo.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    folder = private_var_dir("gw1", tmp_path)
    assert folder == tmp_path / XDIST_FOLDER / "gw1"
    assert folder.is_dir()
    assert not any(folder.iterdir())
    (tmp_path / "demo.json").write_text("{}")  # the developer's own demo marker stays
    assert private_var_dir("main", tmp_path).parent == tmp_path / XDIST_FOLDER
    assert (tmp_path / "demo.json").exists()


def test_this_process_runs_in_a_private_var_dir() -> None:
    """A developer's `var/` (a demo marker adds a query to every page) never reaches a test."""
    assert Path(settings.VAR_DIR).parent.name == XDIST_FOLDER


def test_the_run_uses_a_private_folder_below_a_writable_ram_folder(tmp_path: Path) -> None:
    root = ram_temp_root(None, candidate=tmp_path, min_free=0)
    assert root == tmp_path / f"yardstick-tests-{os.getuid()}"
    assert root.is_dir()
    assert root.stat().st_mode & 0o777 == 0o711  # others pass through, never list nor write
    root.chmod(0o700)
    assert ram_temp_root(None, candidate=tmp_path, min_free=0) == root  # reused
    assert root.stat().st_mode & 0o777 == 0o711


def test_the_default_is_kept_without_room_or_without_the_folder(tmp_path: Path) -> None:
    assert ram_temp_root(None, candidate=tmp_path, min_free=2**62) is None
    assert ram_temp_root(None, candidate=tmp_path / "absent", min_free=0) is None
    (tmp_path / "file").write_text("x")
    assert ram_temp_root(None, candidate=tmp_path / "file", min_free=0) is None


def test_a_planted_link_is_never_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / f"yardstick-tests-{os.getuid()}").symlink_to(elsewhere)
    assert ram_temp_root(None, candidate=shared, min_free=0) is None


def test_the_variable_names_the_folder_or_keeps_the_default(tmp_path: Path) -> None:
    assert ram_temp_root(str(tmp_path), candidate=Path("/nonexistent")) == tmp_path
    assert ram_temp_root("", candidate=tmp_path, min_free=0) is None


@pytest.mark.skipif(
    os.environ.get("YARDSTICK_TEST_TMPDIR") is not None or not Path("/dev/shm").is_dir(),
    reason="the run's folder was chosen by YARDSTICK_TEST_TMPDIR, or there is no /dev/shm",
)
def test_this_run_keeps_its_temporary_files_in_ram(tmp_path: Path) -> None:
    expected = ram_temp_root(None)
    if expected is None:
        pytest.skip("/dev/shm has too little room on this machine")
    assert tempfile.gettempdir() == str(expected)
    assert tmp_path.is_relative_to(expected)
