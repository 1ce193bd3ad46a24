"""History rules DEP-005, DEP-006, DB-004, WF-002, WF-003 on real git histories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scanners.context import RepoContext
from scanners.engine import evaluate_rule
from scanners.results import RuleResult
from scanners.rules.wf import is_conventional
from tests.gitrepo import commit_all, git, golden_files, golden_repo, make_repo, write_files
from tests.unit.scanners.rules.harness import FAIL, NOT_APPLICABLE, PASS, spec_for

GOLDEN = golden_files()
PYPROJECT = str(GOLDEN["pyproject.toml"])
MIGRATION = "alembic/versions/0001_initial.py"
NOW = datetime.now(UTC)
DAY = timedelta(days=1)


def run(root: Path, rule_id: str) -> RuleResult:
    return evaluate_rule(spec_for(rule_id), RepoContext(root)).result


def change(root: Path, files: dict[str, str | None], message: str, when: datetime = NOW) -> str:
    write_files(root, files)
    return commit_all(root, message, when=when)


def shallow_clone(tmp_path: Path, origin: Path) -> Path:
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", "shallow")
    return tmp_path / "shallow"


def plain_folder(tmp_path: Path) -> Path:
    root = tmp_path / "plain"
    root.mkdir()
    write_files(root, {rel: text for rel, text in GOLDEN.items() if text is not None})
    return root


def golden_with_commits(tmp_path: Path, count: int, message: str = "chore: step {i}") -> Path:
    root = golden_repo(tmp_path / "repo")
    for i in range(count):
        change(root, {f"notes/step{i}.txt": str(i)}, message.format(i=i))
    return root


# ----- DEP-005 -------------------------------------------------------------------------------
def test_dep005_golden_passes(tmp_path: Path) -> None:
    result = run(golden_repo(tmp_path / "repo"), "DEP-005")
    assert result.status == PASS, result.message


def test_dep005_dependency_added_without_lock_fails(tmp_path: Path) -> None:
    root = golden_repo(tmp_path / "repo")
    added = PYPROJECT.replace('    "redis>=8.1",\n', '    "redis>=8.1",\n    "rich>=14",\n', 1)
    sha = change(root, {"pyproject.toml": added}, "feat: pretty output")
    result = run(root, "DEP-005")
    assert result.status == FAIL, result.message
    (evidence,) = result.evidence
    assert evidence.path == "pyproject.toml"
    assert sha[:10] in evidence.message
    assert "project.dependencies" in evidence.message
    assert "1 of 2" in result.message


def test_dep005_reordered_or_unrelated_edits_without_lock_pass(tmp_path: Path) -> None:
    root = golden_repo(tmp_path / "repo")
    reordered = PYPROJECT.replace('    "alembic>=1.20",\n', "", 1).replace(
        '    "uvicorn[standard]>=0.54",\n', '    "uvicorn[standard]>=0.54",\n    "alembic>=1.20",\n'
    )
    change(root, {"pyproject.toml": reordered}, "style: sort nothing in particular")
    described = reordered.replace("Notes service", "The notes service", 1)
    change(root, {"pyproject.toml": described}, "docs: describe the project")
    result = run(root, "DEP-005")
    assert result.status == PASS, result.message


def test_dep005_backend_project_with_its_lock_passes(tmp_path: Path) -> None:
    root = golden_repo(tmp_path / "repo", prefix="backend/")
    added = PYPROJECT.replace('    "redis>=8.1",\n', '    "redis>=8.1",\n    "rich>=14",\n', 1)
    lock = str(GOLDEN["uv.lock"]) + "\n# relocked\n"
    change(root, {"backend/pyproject.toml": added, "backend/uv.lock": lock}, "feat: add rich")
    tools = '[project]\nname = "tools"\ndependencies = ["x"]\n'
    change(root, {"tools/pyproject.toml": tools}, "chore: tools without a lock")
    result = run(root, "DEP-005")
    assert result.status == PASS, result.message
    assert "2 dependency change(s)" in result.message


def test_dep005_shallow_clone_is_not_applicable(tmp_path: Path) -> None:
    origin = golden_with_commits(tmp_path, 3)
    result = run(shallow_clone(tmp_path, origin), "DEP-005")
    assert result.status == NOT_APPLICABLE
    assert "shallow clone" in result.message


# ----- DEP-006 -------------------------------------------------------------------------------
def test_dep006_fresh_lock_passes(tmp_path: Path) -> None:
    result = run(golden_repo(tmp_path / "repo"), "DEP-006")
    assert result.status == PASS, result.message


def test_dep006_old_lock_fails(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    files = {rel: text for rel, text in GOLDEN.items() if text is not None}
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write_files(root, files)
    commit_all(root, "feat: start", when=NOW - 40 * DAY)
    change(root, {"README.md": "# Notes\n"}, "docs: shorter readme", when=NOW - DAY)
    result = run(root, "DEP-006")
    assert result.status == FAIL, result.message
    assert result.evidence[0].path == "uv.lock"
    assert "40 day(s) ago" in result.message


def test_dep006_old_project_with_recent_lock_update_passes(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write_files(root, {rel: text for rel, text in GOLDEN.items() if text is not None})
    commit_all(root, "feat: start", when=NOW - 400 * DAY)
    relocked = str(GOLDEN["uv.lock"]) + "\n# upgraded\n"
    change(root, {"uv.lock": relocked}, "chore(deps): monthly upgrade", when=NOW - 34 * DAY)
    result = run(root, "DEP-006")
    assert result.status == PASS, result.message


@pytest.mark.parametrize("rule_id", ["DEP-005", "DEP-006", "DB-004", "WF-002", "WF-003"])
def test_history_rules_outside_git_are_not_applicable(tmp_path: Path, rule_id: str) -> None:
    result = run(plain_folder(tmp_path), rule_id)
    assert result.status == NOT_APPLICABLE
    assert result.message == "not a git repository"


def test_dep006_without_lock_is_not_applicable(tmp_path: Path) -> None:
    result = run(golden_repo(tmp_path / "repo", {"uv.lock": None}), "DEP-006")
    assert result.status == NOT_APPLICABLE
    assert "DEP-001" in result.message


# ----- DB-004 --------------------------------------------------------------------------------
def test_db004_golden_passes(tmp_path: Path) -> None:
    result = run(golden_repo(tmp_path / "repo"), "DB-004")
    assert result.status == PASS, result.message


def test_db004_edited_revision_fails(tmp_path: Path) -> None:
    root = golden_repo(tmp_path / "repo")
    edited = str(GOLDEN[MIGRATION]) + "\n# tweak an old revision\n"
    sha = change(root, {MIGRATION: edited}, "fix: patch the first migration")
    result = run(root, "DB-004")
    assert result.status == FAIL, result.message
    (evidence,) = result.evidence
    assert evidence.path == MIGRATION
    assert sha[:10] in evidence.message
    assert "patch the first migration" in evidence.message


def test_db004_new_revisions_and_other_files_pass(tmp_path: Path) -> None:
    root = golden_repo(tmp_path / "repo", prefix="backend/")
    second = str(GOLDEN[MIGRATION]).replace("0001", "0002")
    change(root, {"backend/alembic/versions/0002_more.py": second}, "feat: second revision")
    change(root, {"backend/alembic/versions/README": "notes\n"}, "docs: versions readme")
    change(root, {"backend/alembic/versions/README": "more notes\n"}, "docs: more notes")
    result = run(root, "DB-004")
    assert result.status == PASS, result.message
    assert "2 revision file(s)" in result.message


def test_db004_without_revisions_is_not_applicable(tmp_path: Path) -> None:
    result = run(golden_repo(tmp_path / "repo", {MIGRATION: None}), "DB-004")
    assert result.status == NOT_APPLICABLE


def test_db004_shallow_clone_is_not_applicable(tmp_path: Path) -> None:
    origin = golden_with_commits(tmp_path, 2)
    result = run(shallow_clone(tmp_path, origin), "DB-004")
    assert result.status == NOT_APPLICABLE
    assert "shallow clone" in result.message


# ----- WF-002 --------------------------------------------------------------------------------
def test_wf002_golden_passes(tmp_path: Path) -> None:
    result = run(golden_repo(tmp_path / "repo"), "WF-002")
    assert result.status == PASS, result.message


def test_wf002_too_many_free_form_subjects_fail(tmp_path: Path) -> None:
    root = golden_with_commits(tmp_path, 7)
    change(root, {"a.txt": "a"}, "Update stuff")
    change(root, {"b.txt": "b"}, "WIP")
    result = run(root, "WF-002")
    assert result.status == FAIL, result.message
    assert "80% of the last 10" in result.message
    assert {e.message.split(" ", 1)[1] for e in result.evidence} == {"'Update stuff'", "'WIP'"}


def test_wf002_merges_left_out_and_ninety_percent_pass(tmp_path: Path) -> None:
    root = golden_with_commits(tmp_path, 8, "fix(api)!: change {i}")
    git(root, "checkout", "-q", "-b", "feature/x")
    change(root, {"x.txt": "x"}, 'Revert "fix(api)!: change 1"')
    git(root, "checkout", "-q", "main")
    change(root, {"y.txt": "y"}, "tidy up")
    git(root, "merge", "-q", "--no-ff", "-m", "Merge branch 'feature/x'", "feature/x")
    result = run(root, "WF-002")
    assert result.status == PASS, result.message
    assert "91% of the last 11" in result.message


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("feat: add notes", True),
        ("Fix(auth)!: rotate tokens", True),
        ("chore(deps-dev): bump ruff", True),
        ("feature: add notes", False),
        ("fix:no space", False),
        ("fixed the bug", False),
    ],
)
def test_is_conventional(subject: str, expected: bool) -> None:
    assert is_conventional(subject) is expected


# ----- WF-003 --------------------------------------------------------------------------------
def test_wf003_golden_passes(tmp_path: Path) -> None:
    result = run(golden_repo(tmp_path / "repo"), "WF-003")
    assert result.status == PASS, result.message


def test_wf003_free_form_branch_fails(tmp_path: Path) -> None:
    root = golden_repo(tmp_path / "repo")
    for name in ("wip-stuff", "features/notes", "develop"):
        git(root, "branch", name)
    result = run(root, "WF-003")
    assert result.status == FAIL, result.message
    assert [e.message.split("'")[1] for e in result.evidence] == ["features/notes", "wip-stuff"]


def test_wf003_convention_bots_and_remote_branches_pass(tmp_path: Path) -> None:
    origin = golden_repo(tmp_path / "origin")
    for name in ("feature/notes", "bugfix/login", "hotfix/cve", "dependabot/pip/ruff-1"):
        git(origin, "branch", name)
    git(tmp_path, "clone", "-q", f"file://{origin}", "clone")
    result = run(tmp_path / "clone", "WF-003")
    assert result.status == PASS, result.message


def test_wf003_remote_tracking_branch_counts(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin", {"a.txt": "a"})
    git(origin, "branch", "experiment")
    git(tmp_path, "clone", "-q", f"file://{origin}", "clone")
    result = run(tmp_path / "clone", "WF-003")
    assert result.status == FAIL
    assert "'experiment'" in result.evidence[0].message
