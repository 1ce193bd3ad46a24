"""Scratch folders (checkouts, partial clones, deep-scan copies) that a killed worker cannot
leave behind for good.

Each scratch folder holds a marker file locked (`flock`) for as long as it is in use. The lock
lives with the process: a worker killed with SIGKILL leaves its folder behind but not the
lock, so `sweep` can tell a dead worker's folder (lock free) from a live one's (lock held),
across processes, without any registry of its own. Folders younger than `older_than_s` are
kept whatever their lock says (one being created has no lock yet).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

MARKER = ".in-use"


def remove_tree(path: Path) -> None:
    """Remove a scratch tree, even one a sandbox made unreadable."""

    def retry(func: object, name: str, _: object) -> None:
        with suppress(FileNotFoundError):
            os.chmod(os.path.dirname(name), stat.S_IRWXU)
            with_retry = os.rmdir if os.path.isdir(name) and not os.path.islink(name) else os.unlink
            with_retry(name)

    shutil.rmtree(path, onexc=retry)


@contextmanager
def scratch_dir(root: Path, prefix: str) -> Iterator[Path]:
    """A new folder under `root`, marked in use until the block exits, then removed."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    try:
        fd = os.open(folder / MARKER, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield folder
        finally:
            os.close(fd)  # releases the lock
    finally:
        with suppress(OSError):  # what cannot be removed now, the sweeper removes later
            remove_tree(folder)


def in_use(folder: Path) -> bool:
    """Whether a live process holds the folder's marker lock."""
    try:
        fd = os.open(folder / MARKER, os.O_RDWR)
    except FileNotFoundError:
        return False  # never marked (or marking had not started): age alone decides
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def sweep(root: Path, prefix: str, older_than_s: float) -> int:
    """Remove `root`'s `prefix*` folders older than `older_than_s` that no process holds."""
    cutoff = time.time() - older_than_s
    removed = 0
    try:
        entries = list(root.iterdir())
    except FileNotFoundError:
        return 0
    for entry in entries:
        if not entry.name.startswith(prefix) or entry.is_symlink() or not entry.is_dir():
            continue
        try:
            if entry.stat().st_mtime > cutoff or in_use(entry):
                continue
            remove_tree(entry)
        except FileNotFoundError:
            continue  # removed meanwhile by its own process
        removed += 1
    return removed
