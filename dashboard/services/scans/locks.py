"""One scan per repository at a time, across workers and hosts.

PostgreSQL: a session-level advisory lock, released by the server if the worker dies.
SQLite (the embedded single-machine mode): an flock on a file, released by the kernel if the
process dies. Either way a killed worker never leaves a repository locked.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

_NAMESPACE = 0x59_41_52_44  # "YARD": keeps our advisory keys apart from other applications'


#: Advisory key spaces: one scan per repository; one run per deep scan.
_REPOSITORY, _DEEP_SCAN = _NAMESPACE, _NAMESPACE + 1


@contextmanager
def repository_lock(repository_id: int) -> Iterator[bool]:
    """Try to take the repository's lock without waiting; yield whether it was taken."""
    with _try_lock(_REPOSITORY, repository_id, f"repository-{repository_id}") as acquired:
        yield acquired


@contextmanager
def deep_scan_lock(scan_id: int) -> Iterator[bool]:
    """Try to take a deep scan's lock without waiting: held while its worker runs it, so a
    redelivered message can tell a live run (lock taken) from a dead worker's (lock free)."""
    with _try_lock(_DEEP_SCAN, scan_id, f"deep-scan-{scan_id}") as acquired:
        yield acquired


@contextmanager
def _try_lock(namespace: int, key: int, name: str) -> Iterator[bool]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, key])
            acquired = bool(cursor.fetchone()[0])
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, key])
        return
    folder = settings.VAR_DIR / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{name}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            acquired = True
        except BlockingIOError:
            acquired = False
        try:
            yield acquired
        finally:
            if acquired:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
