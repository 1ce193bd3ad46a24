"""Write a profile's year as a real git repository with dated commits.

The history is rendered in memory (one tree per commit) and written with `git fast-import`:
one process per repository, commits carrying their author and committer dates.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dashboard.demo.catalog import Profile
from dashboard.demo.defects import DEFECTS, SHAPES
from dashboard.demo.files import Files, flask_project, model_project, uv_lock

_CASUAL = ("fixed stuff", "update", "wip", "changes", "more fixes", "cleanup", "misc")
_FEATURES = (
    ("feat(notes): tags on notes", "added tags"),
    ("feat: pagination links in list responses", "pagination"),
    ("fix: off-by-one in page count", "fix paging"),
    ("perf: index notes by owner", "index"),
    ("docs: document the error format", "docs"),
    ("refactor: split the note service", "refactoring"),
)


@dataclass(frozen=True, slots=True)
class Commit:
    """One commit of a generated history."""

    when: datetime
    message: str
    author: str
    files: Files


@dataclass
class _State:
    defects: set[str]
    lock_revision: int = 0
    migrations: dict[int, str] = field(default_factory=dict)
    changelog: list[str] = field(default_factory=list)


def _migration(number: int, edits: int = 0) -> str:
    note = f"\n# Edited after release ({edits}).\n" if edits else ""
    return (
        f'"""Add index {number} on notes.\n\nRevision ID: {number:04d}\n'
        f'Revises: {number - 1:04d}\n"""\n\n'
        "from collections.abc import Sequence\n\nfrom alembic import op\n\n"
        f'revision: str = "{number:04d}"\ndown_revision: str | None = "{number - 1:04d}"\n'
        "branch_labels: str | Sequence[str] | None = None\n"
        "depends_on: str | Sequence[str] | None = None\n\n\n"
        "def upgrade() -> None:\n"
        f'    """Create the index."""\n'
        f'    op.create_index("ix_notes_{number}", "notes", ["owner_id"])\n\n\n'
        "def downgrade() -> None:\n"
        f'    """Drop the index."""\n'
        f'    op.drop_index("ix_notes_{number}", table_name="notes")\n{note}'
    )


def render(profile: Profile, state: _State, rng_seed: int) -> Files:
    """The tree of `profile` in `state` (deterministic for a seed)."""
    rng = random.Random(rng_seed)  # noqa: S311 - demo data, not security
    base = flask_project if profile.base == "flask" else model_project
    files = base(profile.name)
    if "pyproject.toml" in files and "uv.lock" in files:
        files["uv.lock"] = uv_lock(files["pyproject.toml"], state.lock_revision)
    for key in sorted(state.defects):
        files = DEFECTS[key].apply(files, rng)
    if "alembic/env.py" in files:
        for number, text in state.migrations.items():
            files[f"alembic/versions/{number:04d}_index_{number}.py"] = text
    if state.changelog and "CHANGELOG.md" in files:
        entries = "".join(f"- {line}\n" for line in state.changelog)
        files["CHANGELOG.md"] = files["CHANGELOG.md"].replace(
            "## [Unreleased]\n", f"## [Unreleased]\n\n### Changed\n{entries}", 1
        )
    return SHAPES[profile.shape](files)


def _message(
    conventional: str, casual: str, style: str, progress: float, rng: random.Random
) -> str:
    if style == "casual" or (style == "adopting" and progress < 0.5):
        return casual
    if style == "mixed" and rng.random() < 0.5:
        return casual
    return conventional


def history(
    profile: Profile, authors: list[str], now: datetime, seed: int, days: int = 365
) -> list[Commit]:
    """The profile's commits, oldest first: the first near `days` ago, the last in days."""
    rng = random.Random(f"{seed}:{profile.name}")  # noqa: S311 - demo data, not security
    state = _State(set(profile.start))
    first = now - timedelta(days=days - rng.randint(1, 10), hours=rng.randint(0, 8))
    last = now - timedelta(days=rng.randint(1, 6), hours=rng.randint(1, 8))
    steps = len(profile.events)
    commits = [Commit(first, "feat: initial import", authors[0], render(profile, state, seed))]
    for i, event in enumerate(profile.events, start=1):
        when = first + (last - first) * i / steps
        if i < steps:
            when += timedelta(days=rng.uniform(-6, 6))
        conventional, casual = _apply(event, state, rng)
        message = _message(conventional, casual, profile.style, i / steps, rng)
        tree = render(profile, state, seed)
        commits.append(Commit(when, message, rng.choice(authors), tree))
    return commits


def _apply(event: str, state: _State, rng: random.Random) -> tuple[str, str]:
    if event.startswith(("+", "-")):
        defect = DEFECTS[event[1:]]
        if event[0] == "+":
            state.defects.add(defect.key)
            return defect.broke, rng.choice(_CASUAL)
        state.defects.discard(defect.key)
        return defect.fixed, rng.choice(_CASUAL)
    if event == "migration":
        number = max(state.migrations, default=1) + 1
        state.migrations[number] = _migration(number)
        return f"feat(db): migration {number:04d}", "new migration"
    if event == "edit_migration" and state.migrations:
        number = max(state.migrations)
        edits = state.migrations[number].count("Edited after release") + 1
        state.migrations[number] = _migration(number, edits)
        return f"fix(db): correct migration {number:04d}", "fix migration"
    if event == "lock":
        state.lock_revision += 1
        return "chore(deps): monthly dependency update", "bump deps"
    conventional, casual = _FEATURES[len(state.changelog) % len(_FEATURES)]
    state.changelog.append(conventional.split(": ", 1)[1])
    return conventional, casual


def _stamp(when: datetime) -> str:
    return f"{int(when.timestamp())} +0000"


def _data(text: str) -> bytes:
    raw = text.encode("utf-8")
    return b"data %d\n%s\n" % (len(raw), raw)


def fast_import_stream(commits: list[Commit]) -> bytes:
    """A `git fast-import` stream of `commits` on `refs/heads/main` (full trees each)."""
    out = bytearray()
    for mark, commit in enumerate(commits, start=1):
        email = commit.author.lower().replace(" ", ".") + "@example.com"
        ident = f"{commit.author} <{email}> {_stamp(commit.when)}"
        out += f"commit refs/heads/main\nmark :{mark}\nauthor {ident}\ncommitter {ident}\n".encode()
        out += _data(commit.message)
        if mark > 1:
            out += f"from :{mark - 1}\n".encode()
        out += b"deleteall\n"
        for rel, text in sorted(commit.files.items()):
            out += f"M 100644 inline {rel}\n".encode() + _data(text)
        out += b"\n"
    return bytes(out)


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
    }
    result = subprocess.run(  # noqa: S603 - fixed git argv
        ["git", *args],  # noqa: S607
        cwd=repo,
        env=env,
        input=stdin,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode()


def write_repository(path: Path, commits: list[Commit]) -> list[str]:
    """(Re)create a git repository at `path` holding `commits`; return their shas in order."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    _git(path, "fast-import", "--quiet", "--done", stdin=fast_import_stream(commits) + b"done\n")
    _git(path, "checkout", "-q", "-f", "main")
    shas = _git(path, "rev-list", "--reverse", "main").split()
    if len(shas) != len(commits):
        raise RuntimeError(f"{path}: wrote {len(shas)} commits, expected {len(commits)}")
    return shas


def utc_now() -> datetime:
    """The current time, UTC (one place to read the clock)."""
    return datetime.now(UTC)
