"""Build real git repositories in temporary folders for the engine's tests."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from dashboard.demo.files import GOLDEN_DIR

FileMap = Mapping[str, str | bytes | None]


def git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run git in `repo` with a fixed identity; return stdout."""
    full_env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        **(env or {}),
    }
    return subprocess.run(
        ["git", *args], cwd=repo, env=full_env, check=True, capture_output=True, text=True
    ).stdout


def write_files(root: Path, files: FileMap) -> None:
    """Write files (None deletes, and so does a folder the deletion leaves empty) below `root`."""
    for rel, content in files.items():
        path = root / rel
        if content is None:
            if path.exists():
                path.unlink()
                _prune_empty_parents(path.parent, root)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _prune_empty_parents(folder: Path, root: Path) -> None:
    """Remove `folder` and its parents up to `root` (excluded) while they are empty.

    A repository built from a file map never holds an empty folder (git tracks none), so
    one built by copying and deleting must not either: rules look for folders.
    """
    while folder != root and root in folder.parents and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def commit_all(repo: Path, message: str, when: datetime | None = None) -> str:
    """Stage everything and commit; return the new sha."""
    git(repo, "add", "-A")
    stamp = (when or datetime.now(UTC)).isoformat()
    git(
        repo,
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        message,
        env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
    )
    return git(repo, "rev-parse", "HEAD").strip()


def make_repo(root: Path, files: FileMap, message: str = "feat: initial commit") -> Path:
    """Create a git repository at `root` holding `files` in one commit on `main`."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    write_files(root, files)
    commit_all(root, message)
    return root


def golden_files() -> dict[str, str | bytes | None]:
    """The fully compliant project (`GOLDEN_DIR`) as a path -> content map (a fresh copy)."""
    return dict(_golden_files())


@functools.cache
def _golden_files() -> dict[str, str | bytes | None]:
    out: dict[str, str | bytes | None] = {}
    caches = {".ruff_cache", ".mypy_cache", ".pytest_cache", "__pycache__", ".venv"}
    for path in sorted(GOLDEN_DIR.rglob("*")):
        if path.is_file() and not caches.intersection(path.relative_to(GOLDEN_DIR).parts):
            rel = path.relative_to(GOLDEN_DIR).as_posix()
            # Fixture files that git would otherwise ignore are stored with a `.fixture` suffix.
            rel = rel.removesuffix(".fixture")
            out[rel] = path.read_bytes() if path.suffix == ".bin" else path.read_text("utf-8")
    return out


def golden_repo(root: Path, changes: FileMap | None = None, prefix: str = "") -> Path:
    """A git repository holding the golden project (under `prefix`), with `changes` applied.

    The same repository `make_repo` would build from the merged file map (one commit on
    `main`, no empty folder), made faster: the golden files are copied, already hashed into
    git's object store, from a staged template built once per process (about a thousand rule
    cases start from the golden project).
    """
    if root.exists():
        files: dict[str, str | bytes | None] = {
            f"{prefix}{rel}": content for rel, content in golden_files().items()
        }
        files.update(changes or {})
        return make_repo(root, {k: v for k, v in files.items() if v is not None})
    root.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(_staged_golden(prefix), root, symlinks=True)
    write_files(root, changes or {})
    commit_all(root, "feat: initial commit")
    return root


@functools.cache
def _staged_golden(prefix: str) -> Path:
    """A folder holding the golden project under `prefix`, `git add`-ed but not committed.

    Small to copy: no sample hooks, the objects in one pack. Its index trusts size and
    mtime alone (copies keep mtimes, not inodes or ctimes), so `git add` in a copy hashes
    only the files a case changed.
    """
    scratch = Path(tempfile.mkdtemp(prefix="golden-staged-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    root = scratch / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main", "--template=")
    git(root, "config", "core.checkStat", "minimal")
    git(root, "config", "core.trustctime", "false")
    write_files(root, {f"{prefix}{rel}": text for rel, text in golden_files().items()})
    git(root, "add", "-A")
    git(root, "repack", "-a", "-d", "-q")
    git(root, "prune-packed")
    return root
