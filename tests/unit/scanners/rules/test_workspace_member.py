"""Rules judged at the project discovery picks: uv workspace members, monorepo services.

The service is the golden project moved to `backend/`, a member of a uv workspace whose root
holds only tool settings and the lock (the layout `uv init` + `uv init backend` writes). Found
without `--project-dir`: the member holds the app, the root does not.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from scanners.context import RepoContext
from scanners.engine import evaluate_rule
from tests.gitrepo import commit_all, make_repo, write_files
from tests.unit.scanners.rules.harness import (
    FAIL,
    PASS,
    Case,
    case_ids,
    check,
    golden_files,
    line_number,
    replace_once,
    spec_for,
)

GOLDEN_LOCK = str(golden_files()["uv.lock"])
GOLDEN_PYPROJECT = str(golden_files()["pyproject.toml"])
#: The golden lock as uv writes it for a workspace: the member's source is its folder.
WORKSPACE_LOCK = replace_once(
    GOLDEN_LOCK, 'source = { virtual = "." }', 'source = { virtual = "backend" }'
)
WORKSPACE_ROOT = (
    '[dependency-groups]\ndev = ["ruff>=0.15"]\n\n[tool.uv.workspace]\nmembers = ["backend"]\n'
)
MEMBER = {"uv.lock": None}  # the member keeps no lock of its own
WORKSPACE = {"pyproject.toml": WORKSPACE_ROOT, "uv.lock": WORKSPACE_LOCK, "README.md": "# mono\n"}
STALE = replace_once(GOLDEN_PYPROJECT, "dependencies = [\n", 'dependencies = [\n    "rich>=13",\n')


def member_case(name: str, status: object = None, **kwargs: object) -> Case:
    """A case of the workspace layout (kwargs override changes/repo_changes/expectations)."""
    fields: dict[str, object] = {
        "changes": MEMBER,
        "prefix": "backend/",
        "repo_changes": WORKSPACE,
        **kwargs,
    }
    if status is not None:
        fields["status"] = status
    return Case(name, **fields)  # type: ignore[arg-type]


DEP001 = [
    member_case("member judged with the workspace root's lock", message="uv workspace"),
    member_case("member named by the user", project_dir="backend", message="uv workspace"),
    member_case(
        "member with no lock anywhere",
        FAIL,
        repo_changes={**WORKSPACE, "uv.lock": None},
        path="uv.lock",
        message="uv lock",
        absent=("backend/uv.lock",),
    ),
    # A folder that is not a workspace member does not borrow a lock from above it.
    member_case(
        "not a member: the root's lock is not its lock",
        FAIL,
        repo_changes={**WORKSPACE, "pyproject.toml": "[tool.ruff]\nline-length = 99\n"},
        path="backend/uv.lock",
    ),
]


@pytest.mark.parametrize("case", DEP001, ids=case_ids(DEP001))
def test_dep001_member_uses_the_workspace_lock(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "DEP-001", case)


DEP004 = [
    member_case("member matches its entry in the workspace lock", message="matches"),
    member_case(
        "member stale against the workspace lock",
        FAIL,
        changes={**MEMBER, "pyproject.toml": STALE},
        path="backend/pyproject.toml",
        line=line_number(STALE, '"rich>=13"'),
    ),
]


@pytest.mark.parametrize("case", DEP004, ids=case_ids(DEP004))
def test_dep004_member_entry_of_the_workspace_lock(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "DEP-004", case)


@pytest.mark.parametrize("rule_id", ["FW-001", "FW-002", "VER-001"])
def test_member_service_passes_where_the_root_would_fail(tmp_path: Path, rule_id: str) -> None:
    """Judged at the root, no [project] table: FastAPI undeclared, no requires-python."""
    check(tmp_path, rule_id, member_case("member holding the app"))


MONOREPO_FILES = {
    "README.md": "# services\n",
    "services/notes/pyproject.toml": GOLDEN_PYPROJECT,
    "services/notes/uv.lock": GOLDEN_LOCK,
    "services/notes/src/main.py": str(golden_files()["src/main.py"]),
    "services/mail/requirements.txt": "fastapi==0.115.0\n",
    "services/mail/mail/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
}


def test_monorepo_judges_the_declared_service_unless_another_is_named(tmp_path: Path) -> None:
    """services/mail sorts first, but a declared project beats a requirements-only one."""
    check(tmp_path / "a", "DEP-001", Case("unnamed", files=MONOREPO_FILES))
    named = Case("named", status=FAIL, files=MONOREPO_FILES, project_dir="services/mail")
    check(tmp_path / "b", "DEP-001", replace(named, path="services/mail/pyproject.toml"))


def test_requirements_only_service_is_judged_in_its_folder(tmp_path: Path) -> None:
    files = {
        "README.md": "# api\n",
        "api/requirements.txt": "fastapi==0.115.0\n",
        "api/app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    }
    check(
        tmp_path,
        "DEP-001",
        Case("requirements only", status=FAIL, files=files, path="api/pyproject.toml"),
    )


def _history(tmp_path: Path, *, member_lock_updated: bool) -> Path:
    """A service with its own lock, a dependency added, then moved into a uv workspace."""
    service = {f"backend/{rel}": text for rel, text in golden_files().items()}
    root = make_repo(tmp_path / "repo", {**service, "README.md": "# mono\n"})
    lock = GOLDEN_LOCK + "# relocked\n" if member_lock_updated else GOLDEN_LOCK
    write_files(root, {"backend/pyproject.toml": STALE, "backend/uv.lock": lock})
    commit_all(root, "feat: pretty output")
    write_files(root, {**WORKSPACE, "backend/uv.lock": None})
    commit_all(root, "build: one uv workspace for the repository")
    return root


@pytest.mark.parametrize(("updated", "status"), [(True, PASS), (False, FAIL)])
def test_dep005_a_members_own_lock_counts_before_the_workspace(
    tmp_path: Path, updated: bool, status: object
) -> None:
    root = _history(tmp_path, member_lock_updated=updated)
    result = evaluate_rule(spec_for("DEP-005"), RepoContext(root)).result
    assert result.status == status, result.message


#: The service is the workspace root; its members are libraries (no app of their own).
ROOT_SERVICE = {
    "pyproject.toml": GOLDEN_PYPROJECT + '\n[tool.uv.workspace]\nmembers = ["libs/*"]\n',
    "libs/money/pyproject.toml": '[project]\nname = "money"\nversion = "1"\n',
    "libs/money/money/__init__.py": "def cents(x: int) -> int:\n    return x * 100\n",
}


@pytest.mark.parametrize("rule_id", ["DEP-001", "DEP-004", "FW-001", "VER-001"])
def test_a_workspace_root_that_is_the_service_is_judged_at_the_root(
    tmp_path: Path, rule_id: str
) -> None:
    result = check(tmp_path, rule_id, Case("root service", repo_changes=ROOT_SERVICE))
    assert all(not (e.path or "").startswith("libs/") for e in result.evidence)
