"""Git history queries: commits, file histories, dependency changes, branches, shallow clones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scanners.analysis.history import Branch, History, HistoryUnavailable, dependency_arrays
from scanners.context import RepoContext
from tests.gitrepo import commit_all, git, make_repo, write_files

MIGRATION = "alembic/versions/0001_initial.py"
HOUR = timedelta(hours=1)


def pyproject(*deps: str, dev: tuple[str, ...] = ()) -> str:
    quoted = ", ".join(f'"{d}"' for d in deps)
    groups = ", ".join(f'"{d}"' for d in dev)
    return (
        f'[project]\nname = "svc"\nversion = "0"\ndependencies = [{quoted}]\n'
        f"[dependency-groups]\ndev = [{groups}]\n"
    )


def history(repo: Path) -> History:
    return RepoContext(repo).history


def change(repo: Path, files: dict[str, str | None], message: str, **kw: datetime) -> str:
    write_files(repo, files)
    return commit_all(repo, message, **kw)


# ----- commits and shallow clones -----------------------------------------------------------
def test_commits_newest_first_without_merges_unless_asked(tmp_path: Path) -> None:
    start = datetime.now(UTC)
    repo = make_repo(tmp_path / "repo", {"a.txt": "1"}, message="feat: start")
    git(repo, "checkout", "-q", "-b", "feature/x")
    change(repo, {"b.txt": "2"}, "feat: side work\n\nWith a body.", when=start + HOUR)
    git(repo, "checkout", "-q", "main")
    change(repo, {"c.txt": "3"}, "fix: main work", when=start + 2 * HOUR)
    stamp = (start + 3 * HOUR).isoformat()
    git(
        repo, "merge", "-q", "--no-ff", "-m", "Merge branch 'feature/x'", "feature/x",
        env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
    )  # fmt: skip
    h = history(repo)
    assert [c.subject for c in h.commits(10)] == [
        "fix: main work",
        "feat: side work",
        "feat: start",
    ]
    with_merges = h.commits(10, include_merges=True)
    assert with_merges[0].subject == "Merge branch 'feature/x'"
    assert len(with_merges[0].parents) == 2  # a merge commit
    assert h.commits(10)[1].body == "With a body."
    assert len(h.commits(2)) == 2
    assert h.depth == 4
    assert not h.is_shallow


def test_shallow_clone_without_enough_depth_is_unavailable(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin", {MIGRATION: "rev = '1'\n", "uv.lock": "v1"})
    for i in range(3):
        change(origin, {"uv.lock": f"v{i + 2}", f"f{i}.txt": "x"}, f"chore: step {i}")
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", "shallow")
    h = history(tmp_path / "shallow")
    assert h.is_shallow
    assert h.depth == 1
    with pytest.raises(HistoryUnavailable, match="shallow clone with 1 commit"):
        h.commits(50)
    with pytest.raises(HistoryUnavailable, match="predates the fetched history"):
        h.file_histories([MIGRATION])
    with pytest.raises(HistoryUnavailable, match="may predate"):
        h.last_change(MIGRATION)
    assert [c.subject for c in h.commits(1)] == ["chore: step 2"]  # what is there is usable
    with pytest.raises(HistoryUnavailable):  # the boundary commit seems to touch every file
        h.last_change("uv.lock")


def test_deep_enough_shallow_clone_serves_the_window(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin", {"a.txt": "0"})
    for i in range(4):
        change(origin, {"a.txt": str(i + 1)}, f"feat: {i}")
    git(tmp_path, "clone", "-q", "--depth", "3", f"file://{origin}", "shallow")
    h = history(tmp_path / "shallow")
    assert [c.subject for c in h.commits(3)] == ["feat: 3", "feat: 2", "feat: 1"]
    with pytest.raises(HistoryUnavailable):
        h.commits(4)
    last = h.last_change("a.txt")
    assert last is not None
    assert last.subject == "feat: 3"


def test_no_git_and_no_commit_are_unavailable(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.py").write_text("x = 1\n")
    h = history(plain)
    for query in (h.commits, h.branches, lambda: h.last_change("a.py")):
        with pytest.raises(HistoryUnavailable, match="not a git repository"):
            query()
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "main")
    with pytest.raises(HistoryUnavailable, match="no commits"):
        history(empty).commits()
    assert HistoryUnavailable("why").reason == "why"


# ----- file histories (DB-004) and last change (DEP-006) ------------------------------------
def test_migration_edited_after_its_add_is_detected(tmp_path: Path) -> None:
    second = "alembic/versions/0002 add notes.py"  # a space, kept literally
    repo = make_repo(tmp_path / "repo", {MIGRATION: "rev = '1'\n"}, message="feat: initial")
    added = change(repo, {second: "rev = '2'\n"}, "feat: notes")
    edited = change(repo, {MIGRATION: "rev = '1' # edited\n"}, "fix: edit an applied migration")
    change(repo, {"README.md": "x"}, "docs: unrelated")
    found = history(repo).file_histories([MIGRATION, second, "never/there.py"])
    first, other = found[MIGRATION], found[second]
    assert first.added is not None
    assert first.added.subject == "feat: initial"
    assert [c.sha for c in first.modified] == [edited]
    assert other.added is not None
    assert (other.added.sha, other.modified) == (added, [])
    assert found["never/there.py"].added is None


def test_other_files_of_the_same_folder_do_not_count(tmp_path: Path) -> None:
    """The log is read per folder; files of the folder that were not asked for are skipped."""
    sibling = "alembic/versions/0003_later.py"
    repo = make_repo(tmp_path / "repo", {MIGRATION: "rev = '1'\n"}, message="feat: initial")
    change(repo, {sibling: "rev = '3'\n"}, "feat: later")
    change(repo, {sibling: "rev = '3' # edited\n"}, "fix: edit the later one")
    change(repo, {"alembic/versions/sub/x.py": "y = 1\n"}, "feat: below")
    found = history(repo).file_histories([MIGRATION])
    assert list(found) == [MIGRATION]
    assert found[MIGRATION].added is not None
    assert found[MIGRATION].modified == []


def test_a_deleted_and_re_added_file_counts_from_its_new_add(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {MIGRATION: "1\n"})
    change(repo, {MIGRATION: "2\n"}, "fix: edit")
    change(repo, {MIGRATION: None}, "chore: drop")
    readded = change(repo, {MIGRATION: "3\n"}, "feat: squash migrations")
    entry = history(repo).file_histories([MIGRATION])[MIGRATION]
    assert entry.added is not None
    assert (entry.added.sha, entry.modified) == (readded, [])
    assert history(repo).file_histories([]) == {}


def test_last_change_gives_the_newest_commit_touching_a_path(tmp_path: Path) -> None:
    old = datetime(2025, 1, 10, 12, tzinfo=UTC)
    repo = make_repo(tmp_path / "repo", {"README.md": "x"})
    change(repo, {"uv.lock": "1"}, "chore: lock", when=old)
    change(repo, {"uv.lock": "2"}, "chore: relock", when=old + timedelta(days=40))
    change(repo, {"README.md": "y"}, "docs: later", when=old + timedelta(days=90))
    last = history(repo).last_change("uv.lock")
    assert last is not None
    assert (last.subject, last.committed) == ("chore: relock", old + timedelta(days=40))
    assert history(repo).last_change("missing.lock") is None


# ----- dependency changes (DEP-005) ----------------------------------------------------------
def test_dependency_change_without_lock_change_is_detected(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"pyproject.toml": pyproject("fastapi"), "uv.lock": "1"})
    change(repo, {"pyproject.toml": pyproject("fastapi", "httpx")}, "feat: add httpx")
    with_lock = change(
        repo, {"pyproject.toml": pyproject("fastapi", "httpx", dev=("pytest",)), "uv.lock": "2"},
        "chore: add pytest",
    )  # fmt: skip
    change(
        repo,
        {"pyproject.toml": pyproject("httpx", "fastapi") + "# reordered\n"},
        "chore: reorder, drop pytest",
    )
    change(repo, {"pyproject.toml": pyproject("httpx", "fastapi").replace("version", "descr")},
           "chore: metadata only")  # fmt: skip
    changes = history(repo).dependency_changes("pyproject.toml", "uv.lock", n=50)
    summary = [(c.commit.subject, c.lock_changed, c.changed) for c in changes]
    assert summary == [
        ("chore: reorder, drop pytest", False, ("dependency-groups.dev",)),
        ("chore: add pytest", True, ("dependency-groups.dev",)),
        ("feat: add httpx", False, ("project.dependencies",)),
        ("feat: initial commit", True, ("dependency-groups.dev", "project.dependencies")),
    ]
    assert changes[1].commit.sha == with_lock


def test_dependency_changes_stay_in_the_window_and_skip_unparsable_versions(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo", {"pyproject.toml": pyproject("fastapi"), "uv.lock": "1"})
    change(repo, {"pyproject.toml": "[project\nbroken"}, "chore: break the file")
    change(repo, {"pyproject.toml": pyproject("fastapi", "redis")}, "feat: redis")
    change(repo, {"README.md": "x"}, "docs: readme")
    h = history(repo)
    assert h.dependency_changes("pyproject.toml", "uv.lock", n=1) == []
    assert h.dependency_changes("pyproject.toml", "uv.lock", n=2) == []  # parent unparsable
    whole = h.dependency_changes("pyproject.toml", "uv.lock", n=10)
    assert [c.commit.subject for c in whole] == ["feat: initial commit"]


def test_dependency_arrays_read_every_table() -> None:
    doc = {
        "project": {"dependencies": ["b>=1", "a"], "optional-dependencies": {"x": ["c"]}},
        "dependency-groups": {"dev": ["pytest", {"include-group": "lint"}]},
        "tool": {"uv": {"dev-dependencies": ["ruff"]}},
    }
    assert dependency_arrays(doc) == {
        "project.dependencies": ("a", "b>=1"),
        "project.optional-dependencies.x": ("c",),
        "dependency-groups.dev": ("pytest", "{'include-group': 'lint'}"),
        "tool.uv.dev-dependencies": ("ruff",),
    }
    assert dependency_arrays({"project": "nonsense"}) == {}


# ----- branches (WF-003) ----------------------------------------------------------------------
def test_branches_include_local_and_remote_tracking_refs(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin", {"a.txt": "1"})
    for name in ("feature/login", "wip-stuff"):
        git(origin, "branch", name)
    git(tmp_path, "clone", "-q", f"file://{origin}", "clone")
    clone = tmp_path / "clone"
    git(clone, "branch", "bugfix/local")
    assert history(clone).branches() == [
        Branch("bugfix/local"),
        Branch("main"),
        Branch("feature/login", "origin"),
        Branch("main", "origin"),
        Branch("wip-stuff", "origin"),
    ]
