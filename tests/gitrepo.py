"""Build real git repositories in temporary folders for the engine's tests."""

from __future__ import annotations

import os
import subprocess
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
    """Write files (None deletes) below `root`."""
    for rel, content in files.items():
        path = root / rel
        if content is None:
            if path.exists():
                path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


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
    """The fully compliant project (`GOLDEN_DIR`) as a path -> content map."""
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
    """A git repository holding the golden project (under `prefix`), with `changes` applied."""
    files: dict[str, str | bytes | None] = {
        f"{prefix}{rel}": content for rel, content in golden_files().items()
    }
    for rel, content in (changes or {}).items():
        files[rel] = content
    return make_repo(root, {k: v for k, v in files.items() if v is not None})
