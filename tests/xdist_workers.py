"""Per-worker resources under pytest-xdist (a plugin: `-p tests.xdist_workers` in addopts).

`uv run pytest` runs the suite in several processes (`-n auto`); whatever one process owned
must belong to one worker. This plugin runs before pytest-django sets Django up, so the
settings, and every process a test spawns (real Celery workers, quickstart, gunicorn), read
the worker's own values from the environment:

- the test database: pytest-django suffixes its name (`test_<db>_gw0`, `test_<db>_gw1`…; the
  SQLite one is a file per process anyway);
- `VAR_DIR` becomes `<VAR_DIR>/xdist/<worker>`: the filesystem broker's folders, the file
  cache, file locks, mirrors, scratch folders and the development secret;
  a serial run (`-n0`) uses `<VAR_DIR>/xdist/main`. Each folder is emptied when its process
  starts, so nothing a developer's own server left in `var/` (the demo's marker, a cache, a
  queue) reaches a test, and one run leaves nothing to the next;
- Redis: worker `gwN` uses the broker's database number + N (`redis://…/8` gives gw0 db 8,
  gw1 db 9…), and so does the cache (the broker's Redis, or `CACHE_URL`'s database + N). A
  run on W workers needs databases base…base+W-1.


Whatever the number of workers, the run's temporary files (pytest's `tmp_path`, `tempfile`,
and the processes the tests start) go to a RAM-backed folder when the machine has one
(`/dev/shm`, a tmpfs): the suite builds about a thousand small git repositories, and creating
files there is several times faster than on disk. `YARDSTICK_TEST_TMPDIR` names another folder;
`YARDSTICK_TEST_TMPDIR=` (empty) keeps the system's default.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

XDIST_FOLDER = "xdist"
#: The developer's own VAR_DIR, remembered for the xdist workers the run starts.
VAR_ROOT_ENV = "YARDSTICK_TESTS_VAR_ROOT"


def worker_index(worker: str) -> int:
    """`gw3` -> 3."""
    return int(worker.removeprefix("gw"))


def shifted_redis_url(url: str, offset: int) -> str:
    """A redis:// URL whose database number is moved up by `offset` (no number: db 0)."""
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"}:
        return url
    path = parts.path.strip("/")
    base = int(path) if path.isdigit() else 0
    if path and not path.isdigit():
        raise pytest.UsageError(f"cannot give xdist workers their own Redis database: {url}")
    return urlunsplit(parts._replace(path=f"/{base + offset}"))


def worker_environment(worker: str) -> dict[str, str]:
    """The environment variables that give xdist worker `worker` its own resources."""
    from dashboard.config import load_config  # Django-free; reads the environment and .env

    config = load_config()
    index = worker_index(worker)
    env = {
        "VAR_DIR": str(
            private_var_dir(worker, Path(os.environ.get(VAR_ROOT_ENV) or config.VAR_DIR))
        )
    }
    if config.CELERY_BROKER_URL:
        env["CELERY_BROKER_URL"] = shifted_redis_url(config.CELERY_BROKER_URL, index)
    if config.CACHE_URL and urlsplit(config.CACHE_URL).scheme in {"redis", "rediss"}:
        env["CACHE_URL"] = shifted_redis_url(config.CACHE_URL, index)
    return env


def private_var_dir(process: str, var_root: Path) -> Path:
    """The VAR_DIR of one test process (`gw0`…, or `main`), emptied for a fresh start."""
    folder = var_root / XDIST_FOLDER / process
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


#: A RAM-backed folder is used for temporary files only with this much room left in it.
RAM_TMP_MIN_FREE = 2 * 1024**3
RAM_TMP = Path("/dev/shm")  # a folder of our own is made below it, mode 0711


def ram_temp_root(
    override: str | None, candidate: Path = RAM_TMP, min_free: int = RAM_TMP_MIN_FREE
) -> Path | None:
    """The folder for the run's temporary files, or None for the system's default.

    `override` is `YARDSTICK_TEST_TMPDIR`: a folder (used as it is), or "" (the default).
    Otherwise a private folder below `candidate` when that is a writable directory with
    `min_free` bytes free.
    """
    if override is not None:
        return Path(override) if override else None
    try:
        if not (candidate.is_dir() and os.access(candidate, os.W_OK | os.X_OK)):
            return None
        if shutil.disk_usage(candidate).free < min_free:
            return None
        root = candidate / f"yardstick-tests-{os.getuid()}"
        root.mkdir(mode=0o711, exist_ok=True)
        if root.is_symlink() or root.stat().st_uid != os.getuid():
            return None  # somebody else's folder, or a link planted in a shared place
        # Others may pass through (the deep scan's sandbox user and the postgres user reach
        # the folders made for them below, as below /tmp), never list it nor write in it.
        root.chmod(0o711)
    except OSError:
        return None
    return root


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests() -> None:
    """Before pytest-django imports the settings: temporary folder, VAR_DIR and Redis dbs."""
    # The nightly advisory refresh downloads from the internet: never from a test run, even
    # when a test's Celery beat happens to be up at 01:30 (tests give a local source).
    os.environ.setdefault("ADVISORY_SOURCE", "")
    root = ram_temp_root(os.environ.get("YARDSTICK_TEST_TMPDIR"))
    if root is not None:
        os.environ["TMPDIR"] = str(root)  # inherited by xdist workers and spawned processes
        tempfile.tempdir = None  # `tempfile.gettempdir()` reads TMPDIR again
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        os.environ.update(worker_environment(worker))
        return
    # The serial run, or xdist's controller (which runs no test; its workers inherit the root).
    from dashboard.config import load_config  # Django-free; reads the environment and .env

    var_root = load_config().VAR_DIR
    os.environ[VAR_ROOT_ENV] = str(var_root)
    os.environ["VAR_DIR"] = str(private_var_dir("main", var_root))
