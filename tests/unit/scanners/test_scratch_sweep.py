"""Scratch checkouts left by a killed worker are swept; one in use is kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scanners.workspace import Workspace, WorkspacePolicy
from tests.gitrepo import make_repo

ROOT = Path(__file__).resolve().parents[3]

# Checks a repository out, says where, and waits inside the checkout to be killed.
_HOLDER = """
import sys, time
from pathlib import Path
from scanners.workspace import Workspace, WorkspacePolicy
policy = WorkspacePolicy(allow_local_paths=True, cache_dir=Path(sys.argv[1]), clone_timeout_s=60)
with Workspace(policy).checkout(sys.argv[2]) as checkout:
    print(checkout.path, flush=True)
    time.sleep(120)
"""


@pytest.fixture
def policy(tmp_path: Path) -> WorkspacePolicy:
    return WorkspacePolicy(allow_local_paths=True, cache_dir=tmp_path / "cache", clone_timeout_s=60)


def _hold_checkout(policy: WorkspacePolicy, repo: Path) -> tuple[subprocess.Popen[str], Path]:
    """Another process inside `checkout()`: (the process, its scratch folder)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(policy.cache_dir), str(repo)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    tree = Path(holder.stdout.readline().strip())
    if not (tree / "README.md").is_file():
        holder.kill()
        holder.communicate(timeout=30)
        pytest.fail("the holder process did not check the repository out")
    return holder, tree.parent


def test_the_sweep_removes_the_scratch_checkout_of_a_killed_worker(
    policy: WorkspacePolicy, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"README.md": "hello\n", "app/main.py": "x = 1\n"})
    holder, scratch = _hold_checkout(policy, repo)
    workspace = Workspace(policy)
    try:
        assert workspace.sweep_scratch(older_than_s=0) == 0  # a live process holds it
        assert scratch.is_dir()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.communicate(timeout=30)
    assert scratch.is_dir()  # the killed process could not clean up
    assert workspace.sweep_scratch(older_than_s=3600) == 0  # too young to judge: kept
    assert scratch.is_dir()
    assert workspace.sweep_scratch(older_than_s=0) == 1
    assert not scratch.exists()
    assert list((policy.cache_dir / "checkouts").iterdir()) == []


def test_the_sweep_keeps_a_checkout_in_use(policy: WorkspacePolicy, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"README.md": "hello\n"})
    workspace = Workspace(policy)
    with workspace.checkout(str(repo)) as checkout:
        assert Workspace(policy).sweep_scratch(older_than_s=0) == 0
        assert (checkout.path / "README.md").read_text() == "hello\n"
    assert list((policy.cache_dir / "checkouts").iterdir()) == []


def test_the_sweep_removes_a_dead_partial_clone_but_never_a_mirror(
    policy: WorkspacePolicy, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"README.md": "hello\n"})
    workspace = Workspace(policy)
    mirror = workspace.sync(str(repo))
    partial = workspace.mirrors_dir / ".partial-dead"
    (partial / "repo.git").mkdir(parents=True)
    long_ago = time.time() - 7200
    for folder in (partial, mirror):
        os.utime(folder, (long_ago, long_ago))
    assert workspace.sweep_scratch(older_than_s=3600) == 1
    assert not partial.exists()
    assert (mirror / "HEAD").is_file()
