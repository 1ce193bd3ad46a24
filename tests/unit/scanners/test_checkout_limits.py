"""A commit whose checkout would be too large is refused before anything is written: a real
git bomb (nested trees reusing one tree object) is a few KiB in the mirror."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import IO

import pytest

from scanners.workspace import RepositoryError, Workspace, WorkspacePolicy
from tests.gitrepo import git


def _mktree(repo: Path, entries: list[tuple[str, str, str]]) -> str:
    """A tree object of (mode, name, object id) entries."""
    kinds = {"100644": "blob", "040000": "tree"}
    listing = "".join(f"{mode} {kinds[mode]} {sha}\t{name}\n" for mode, name, sha in entries)
    return _git_input(repo, ["mktree"], listing)


def _git_input(repo: Path, args: list[str], text: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(
        ["git", *args], cwd=repo, input=text, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _bomb(root: Path, *, fanout: int, levels: int, content: bytes = b"boom\n") -> Path:
    """A repository whose one commit holds fanout**(levels + 1) files through `levels`
    nested trees, each level `fanout` names for the one tree object below."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    blob_file = root / "blob"
    blob_file.write_bytes(content)
    blob = git(root, "hash-object", "-w", str(blob_file)).strip()
    blob_file.unlink()
    tree = _mktree(root, [("100644", f"f{i}", blob) for i in range(fanout)])
    for _level in range(levels):
        tree = _mktree(root, [("040000", f"d{i}", tree) for i in range(fanout)])
    env = {
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    commit = git(root, "commit-tree", tree, "-m", "feat: bomb", env=env).strip()
    git(root, "update-ref", "refs/heads/main", commit)
    return root


def _check_out(workspace: Workspace, url: str) -> None:
    with workspace.checkout(url):
        pytest.fail("the commit was checked out")


def _disk_use(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file())


@pytest.fixture
def policy(tmp_path: Path) -> WorkspacePolicy:
    return WorkspacePolicy(allow_local_paths=True, cache_dir=tmp_path / "cache", clone_timeout_s=60)


def test_a_git_bomb_is_refused_quickly_before_anything_is_checked_out(
    policy: WorkspacePolicy, tmp_path: Path
) -> None:
    bomb = _bomb(tmp_path / "bomb", fanout=10, levels=4)  # 100,000 files, 6 objects
    assert _disk_use(bomb / ".git") < 200_000
    workspace = Workspace(policy)
    started = time.monotonic()
    with pytest.raises(RepositoryError, match=r"more than 50000 files, the limit"):
        _check_out(workspace, str(bomb))
    assert time.monotonic() - started < 20
    assert list((policy.cache_dir / "checkouts").iterdir()) == []
    assert _disk_use(policy.cache_dir) < 2_000_000  # the mirror only: nothing checked out


def test_files_adding_up_past_the_byte_limit_are_refused(
    policy: WorkspacePolicy, tmp_path: Path
) -> None:
    repo = _bomb(tmp_path / "heavy", fanout=4, levels=1, content=os.urandom(100_000))
    with pytest.raises(RepositoryError, match=r"add up to more than 1 MiB"):
        _check_out(Workspace(replace(policy, max_checkout_bytes=1024**2)), str(repo))
    small = replace(policy, max_checkout_bytes=2 * 1024**2)  # 16 x 100 kB fit
    with Workspace(small).checkout(str(repo)) as checkout:
        assert (checkout.path / "d3" / "f3").stat().st_size == 100_000


def test_a_path_nested_past_the_depth_limit_is_refused(
    policy: WorkspacePolicy, tmp_path: Path
) -> None:
    repo = _bomb(tmp_path / "deep", fanout=1, levels=50)  # one file, 51 levels deep
    with pytest.raises(RepositoryError, match=r"a path 51 levels deep, more than the limit of 40"):
        _check_out(Workspace(policy), str(repo))
    assert list((policy.cache_dir / "checkouts").iterdir()) == []


def test_listing_a_tree_past_the_time_limit_stops_git_and_says_so(
    policy: WorkspacePolicy, tmp_path: Path
) -> None:
    bomb = _bomb(tmp_path / "bomb", fanout=10, levels=4)
    workspace = Workspace(replace(policy, clone_timeout_s=0.5))

    def slow_reader(stream: IO[bytes]) -> bytes:
        time.sleep(1.5)  # git fills the pipe and waits; the timer kills it meanwhile
        return stream.read()

    with pytest.raises(RepositoryError, match=r"git ls-tree: timed out after 0.5s"):
        workspace._git.read(["ls-tree", "-r", "-l", "-z", "HEAD"], bomb, slow_reader)


def test_a_failing_listing_is_a_repository_error(policy: WorkspacePolicy, tmp_path: Path) -> None:
    repo = _bomb(tmp_path / "small", fanout=1, levels=0)
    with pytest.raises(RepositoryError, match=r"git ls-tree failed: fatal: not a tree object"):
        Workspace(policy)._git.read(["ls-tree", "-r", "0" * 40], repo, lambda out: out.read())
