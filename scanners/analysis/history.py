"""Read-only git history of the checkout for the history rules (DB-004, DEP-005/006, WF-002/003).

How much history the workspace must hold: WF-002 reads the last 100 non-merge commits,
DEP-005 the last 50; DB-004 needs each migration file's history back to the commit that
added it, DEP-006 the last commit that touched `uv.lock`, WF-003 the branch names (local
heads and remote-tracking refs, which is where a scratch clone of the mirror keeps them).
The `Workspace` keeps a full mirror and clones it with full history, so all of this is there.
A shallow clone works when its depth covers the window asked for; otherwise, and when there
is no git repository or no commit at all, the queries raise `HistoryUnavailable(reason)`,
which rules turn into `not_applicable`.

Git runs through GitPython's command wrapper with fixed argument lists (pathspecs are
`:(literal)` and follow `--`); blobs are read through GitPython's object database with a size
limit. Nothing is written to the repository.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from scanners import tomlparse

MAX_TOML_BYTES = 1024 * 1024
GIT_TIMEOUT_S = 60.0
_FORMAT = "--format=%x1e%H%x1f%P%x1f%at%x1f%ct%x1f%s%x1f%b%x1d"


class HistoryUnavailable(Exception):
    """The history a rule needs is not in the checkout (no git, no commit, too shallow)."""

    def __init__(self, reason: str) -> None:
        """Keep the reason a rule reports."""
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """One commit's metadata."""

    sha: str
    subject: str
    body: str
    authored: datetime
    committed: datetime
    parents: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        """The abbreviated sha, for messages."""
        return self.sha[:10]


@dataclass(slots=True)
class FileHistory:
    """The commit that added a file and the later commits that modified it (oldest first)."""

    path: str
    added: CommitInfo | None = None
    modified: list[CommitInfo] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DependencyChange:
    """A commit that changed pyproject's dependency arrays, and whether it changed the lock."""

    commit: CommitInfo
    lock_changed: bool
    changed: tuple[str, ...]  # the arrays that changed: "project.dependencies", ...


@dataclass(frozen=True, slots=True)
class Branch:
    """A branch name; `remote` is set for remote-tracking refs (`origin`)."""

    name: str
    remote: str | None = None


class History:
    """Queries over the history of one checkout (see the module docstring)."""

    def __init__(self, repo: Any | None) -> None:
        """Wrap a GitPython `Repo` (None: not a git repository)."""
        self._repo: Any = repo

    # ----- state ------------------------------------------------------------------------
    @cached_property
    def head(self) -> str:
        """The checked-out commit; raises HistoryUnavailable without one."""
        if self._repo is None:
            raise HistoryUnavailable("not a git repository")
        try:
            return self._git("rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip()
        except HistoryUnavailable:
            raise HistoryUnavailable("the repository has no commits") from None

    @cached_property
    def boundary(self) -> frozenset[str]:
        """Commits whose parents a shallow clone did not fetch (empty for a full clone)."""
        if self._repo is None:
            return frozenset()
        git_dir = Path(getattr(self._repo, "common_dir", None) or self._repo.git_dir)
        try:
            text = (git_dir / "shallow").read_text("ascii")
        except (OSError, UnicodeDecodeError):
            return frozenset()
        return frozenset(line.strip() for line in text.splitlines() if line.strip())

    @property
    def is_shallow(self) -> bool:
        """Whether the checkout is a shallow clone."""
        return bool(self.boundary)

    @cached_property
    def depth(self) -> int:
        """Commits reachable from HEAD (all of them in a full clone)."""
        return int(self._git("rev-list", "--count", self.head).strip() or 0)

    def require(self, commits: int) -> None:
        """Raise HistoryUnavailable unless `commits` commits (or the whole history) are here."""
        _ = self.head  # raises without a repository or a commit
        if self.is_shallow and self.depth < commits:
            raise HistoryUnavailable(
                f"shallow clone with {self.depth} commit(s); this check reads {commits}: "
                "scan a full clone"
            )

    # ----- queries ----------------------------------------------------------------------
    def commits(self, n: int = 100, *, include_merges: bool = False) -> list[CommitInfo]:
        """The last `n` commits from HEAD, newest first (merges left out unless asked)."""
        self.require(n)
        merges = [] if include_merges else ["--no-merges"]
        out = self._git("log", f"--max-count={n}", *merges, _FORMAT, self.head, "--")
        return [commit for commit, _ in _parse_log(out)]

    def file_histories(self, paths: Iterable[str]) -> dict[str, FileHistory]:
        """How each path was added and then modified, from one `git log` over all of them."""
        wanted = sorted(set(paths))
        result = {p: FileHistory(p) for p in wanted}
        if not wanted:
            return result
        # Their folders as pathspecs, not each path: git matches a few folder prefixes far
        # faster than many literal paths (on a 17,000-commit history, 0.45 s of CPU instead
        # of 1.2 s for 52 migrations); changes to the folders' other files are skipped below.
        folders = sorted({path.rpartition("/")[0] or path for path in wanted})
        out = self._git(
            "log", "--no-renames", "--name-status", _FORMAT, self.head, "--", *_literal(folders)
        )
        for commit, changes in reversed(_parse_log(out)):  # oldest first
            for status, path in changes:
                entry = result.get(path)
                if entry is None:
                    continue
                if entry.added is None and commit.sha in self.boundary:
                    raise HistoryUnavailable(
                        f"shallow clone: {path} predates the fetched history; scan a full clone"
                    )
                if status == "A" or entry.added is None:
                    entry.added, entry.modified = commit, []
                elif status in {"M", "T"}:
                    entry.modified.append(commit)
        return result

    def last_change(self, path: str) -> CommitInfo | None:
        """The newest commit that touched `path`, or None when none did."""
        out = self._git("log", "--max-count=1", _FORMAT, self.head, "--", *_literal([path]))
        found = _parse_log(out)
        if not found:
            return None
        commit = found[0][0]
        if commit.sha in self.boundary:
            raise HistoryUnavailable(
                f"shallow clone: the last change of {path} may predate the fetched history"
            )
        return commit

    def dependency_changes(
        self, pyproject: str, lock: str | tuple[str, ...], n: int = 50
    ) -> list[DependencyChange]:
        """Commits among the last `n` non-merge ones that changed pyproject's dependencies.

        `lock`: the lock path, or several (a workspace member's lock now and its own before
        the workspace); a commit that changed any of them changed the lock.
        """
        locks = (lock,) if isinstance(lock, str) else lock
        window = {c.sha: c for c in self.commits(n)}
        out = self._git(
            "log", "--no-merges", "--no-renames", "--name-only", f"--max-count={n}", _FORMAT,
            self.head, "--", *_literal([pyproject, *locks]),
        )  # fmt: skip
        changes = []
        for commit, touched in _parse_log(out):
            names = {path for _, path in touched}
            if commit.sha not in window or pyproject not in names:
                continue
            if commit.sha in self.boundary:
                continue  # its parent was not fetched: what changed is unknown
            before = self._dependencies(commit.parents[0], pyproject) if commit.parents else {}
            after = self._dependencies(commit.sha, pyproject)
            if before is None or after is None:
                continue  # unreadable or not TOML on one side: no claim either way
            changed = tuple(sorted(k for k in before.keys() | after.keys()
                                   if before.get(k) != after.get(k)))  # fmt: skip
            if changed:
                changes.append(DependencyChange(commit, not names.isdisjoint(locks), changed))
        return changes

    def branches(self) -> list[Branch]:
        """Local branches and remote-tracking branches (without `HEAD`), sorted."""
        _ = self.head  # raises without a repository or a commit
        remotes = sorted((r.name for r in self._repo.remotes), key=len, reverse=True)
        out = self._git("for-each-ref", "--format=%(refname)", "refs/heads", "refs/remotes")
        found: set[Branch] = set()
        for ref in out.splitlines():
            if ref.startswith("refs/heads/"):
                found.add(Branch(ref.removeprefix("refs/heads/")))
            elif ref.startswith("refs/remotes/"):
                rest = ref.removeprefix("refs/remotes/")
                remote = next((r for r in remotes if rest.startswith(f"{r}/")), None)
                remote = remote or rest.split("/", 1)[0]
                name = rest[len(remote) + 1 :]
                if name and name != "HEAD":
                    found.add(Branch(name, remote))
        return sorted(found, key=lambda b: (b.remote or "", b.name))

    # ----- plumbing ---------------------------------------------------------------------
    def _dependencies(self, rev: str, path: str) -> dict[str, tuple[str, ...]] | None:
        """Dependency arrays of `path` at `rev`; {} when absent, None when unreadable."""
        try:
            blob = self._repo.commit(rev).tree.join(path)
        except KeyError:
            return {}
        except (ValueError, OSError) as exc:
            raise HistoryUnavailable(f"cannot read {path} at {rev[:10]}: {exc}") from None
        if getattr(blob, "type", None) != "blob" or blob.size > MAX_TOML_BYTES:
            return None
        try:
            return dependency_arrays(tomlparse.loads(blob.data_stream.read().decode("utf-8")))
        except (UnicodeDecodeError, tomlparse.TOMLDecodeError, RecursionError):
            return None

    def _git(self, *args: str) -> str:
        from git.exc import GitCommandError

        if self._repo is None:
            raise HistoryUnavailable("not a git repository")
        command = ["git", "-c", "core.quotepath=off", "--no-pager", *args]
        try:
            out = self._repo.git.execute(
                command, stdout_as_string=False, kill_after_timeout=GIT_TIMEOUT_S
            )
        except GitCommandError as exc:
            raise HistoryUnavailable(f"git {args[0]} failed: {_stderr(exc)}") from None
        return bytes(out).decode("utf-8", "replace")


def dependency_arrays(doc: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Every dependency array of a pyproject document, entries sorted (order is no change)."""
    out: dict[str, tuple[str, ...]] = {}
    raw = doc.get("project")
    project: dict[str, Any] = raw if isinstance(raw, dict) else {}
    _add(out, "project.dependencies", project.get("dependencies"))
    for table, prefix in (
        (project.get("optional-dependencies"), "project.optional-dependencies"),
        (doc.get("dependency-groups"), "dependency-groups"),
    ):
        if isinstance(table, dict):
            for name, items in table.items():
                _add(out, f"{prefix}.{name}", items)
    tool = doc.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    if isinstance(uv, dict):
        _add(out, "tool.uv.dev-dependencies", uv.get("dev-dependencies"))
    return out


def _add(out: dict[str, tuple[str, ...]], key: str, items: object) -> None:
    if isinstance(items, list):
        out[key] = tuple(sorted(" ".join(str(i).split()) for i in items))


def _literal(paths: Sequence[str]) -> list[str]:
    return [f":(literal){p}" for p in paths]


def _parse_log(out: str) -> list[tuple[CommitInfo, list[tuple[str, str]]]]:
    """Commits of a `_FORMAT` log with their `--name-status`/`--name-only` lines."""
    found = []
    for record in out.split("\x1e"):
        if "\x1d" not in record:
            continue
        header, _, rest = record.partition("\x1d")
        fields = header.split("\x1f")
        if len(fields) < 6:
            continue
        sha, parents, authored, committed, subject, body = fields[:6]
        commit = CommitInfo(
            sha=sha,
            subject=subject,
            body=body.strip(),
            authored=_stamp(authored),
            committed=_stamp(committed),
            parents=tuple(parents.split()),
        )
        changes = []
        for line in rest.splitlines():
            if not line.strip():
                continue
            status, tab, path = line.partition("\t")
            changes.append((status[:1], path) if tab else ("", line))
        found.append((commit, changes))
    return found


def _stamp(value: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(0, tz=UTC)


def _stderr(exc: Exception) -> str:
    text = getattr(exc, "stderr", "") or str(exc)
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return (lines[-1] if lines else "no message").removeprefix("stderr: ")[:300].strip("'")
