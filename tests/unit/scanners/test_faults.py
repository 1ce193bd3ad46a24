"""Workspace faults: a disk that fills up while cloning leaves nothing half-written behind.

The full disk is simulated without privileges: RLIMIT_FSIZE caps the size of any file the
test process and its children (git) write, so git's write of the pack fails with EFBIG the
way it would with ENOSPC (SIGXFSZ is ignored, so it is an error, not a kill).
"""

from __future__ import annotations

import os
import resource
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scanners.workspace import RepositoryError, Workspace, WorkspacePolicy
from tests.gitrepo import make_repo

pytestmark = pytest.mark.timeout(120)


@contextmanager
def disk_full_after(limit_bytes: int) -> Iterator[None]:
    """No file written (by us or a child) may grow past `limit_bytes` inside the block."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_clone_that_fills_the_disk_fails_cleanly_and_recovers(tmp_path: Path) -> None:
    source = make_repo(tmp_path / "big", {"blob.bin": os.urandom(3 * 1024 * 1024)})
    policy = WorkspacePolicy(allow_local_paths=True, cache_dir=tmp_path / "cache")
    workspace = Workspace(policy)
    with (
        disk_full_after(512 * 1024),
        pytest.raises(RepositoryError) as failure,
        workspace.checkout(str(source)),
    ):
        pytest.fail("the checkout cannot succeed on a full disk")
    assert "git clone failed" in str(failure.value)
    # Nothing half-written: no mirror, no partial clone, no scratch tree.
    assert list((policy.cache_dir / "mirrors").glob("*.git")) == []
    assert list((policy.cache_dir / "mirrors").glob(".partial-*")) == []
    assert list((policy.cache_dir / "checkouts").iterdir()) == []
    # Space is back: the next scan clones and checks out normally.
    with workspace.checkout(str(source)) as checkout:
        assert (checkout.path / "blob.bin").stat().st_size == 3 * 1024 * 1024
