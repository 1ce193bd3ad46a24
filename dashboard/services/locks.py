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


@contextmanager
def repository_lock(repository_id: int) -> Iterator[bool]:
    """Try to take the repository's lock without waiting; yield whether it was taken."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_NAMESPACE, repository_id])
            acquired = bool(cursor.fetchone()[0])
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_NAMESPACE, repository_id])
        return
    folder = settings.VAR_DIR / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"repository-{repository_id}.lock", os.O_CREAT | os.O_RDWR, 0o600)
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
