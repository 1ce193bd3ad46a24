"""The golden project (`GOLDEN_DIR`) is what every rule must pass on: keep it honest.

It must parse, its lock must match its pyproject, it must load into a real git repository
with the files our own `.gitignore` hides restored, and the standard's ruff run must be clean.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from scanners.deps import normalise, parse_requirements
from tests.gitrepo import GOLDEN_DIR, git, golden_files, golden_repo

# The standard's rule set (STY-001), run with the scanner's own config, never the project's.
RUFF_SELECT = "E,F,W,I,N,UP,B,S,ASYNC,ANN,D,T20,DTZ,PL,RUF"
RUFF_CHECK = [
    "check",
    "--isolated",
    "--no-cache",
    "--line-length",
    "100",
    "--select",
    RUFF_SELECT,
    "--config",
    "lint.pydocstyle.convention='google'",
    "--per-file-ignores",
    "tests/**:S101",
    "--output-format",
    "concise",
    ".",
]
RUFF_FORMAT = ["format", "--isolated", "--no-cache", "--check", "--line-length", "100", "."]

# Paths the standard's project tree (and the static rules) expect in a compliant project.
REQUIRED_PATHS = (
    "pyproject.toml",
    "uv.lock",
    ".python-version",
    "README.md",
    "CHANGELOG.md",
    ".gitignore",
    ".env.example",
    ".pre-commit-config.yaml",
    "alembic.ini",
    "Dockerfile",
    ".github/workflows/ci.yml",
    ".github/dependabot.yml",
    "docs/adr/0001-record-architecture-decisions.md",
    "docs/architecture.md",
    "alembic/env.py",
    "alembic/versions/0001_initial.py",
    "src/main.py",
    "src/exceptions.py",
    "src/middleware.py",
    "src/api/routes/__init__.py",
    "src/api/dependencies.py",
    "src/services/__init__.py",
    "src/repositories/__init__.py",
    "src/repositories/base.py",
    "src/models/__init__.py",
    "src/schemas/__init__.py",
    "src/core/__init__.py",
    "src/core/config.py",
    "src/core/security.py",
    "src/core/database.py",
    "src/core/logging.py",
    "tests/conftest.py",
)


def ruff(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the ruff that is installed next to this interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def lock_mismatches(pyproject: dict[str, Any], lock: dict[str, Any]) -> list[str]:
    """Requirements of `pyproject` (runtime and dev groups) missing from the lock's root metadata.

    A requirement matches when name, extras and version specifier are the same as in the
    `[package.metadata]` of the lock's root package (what `uv lock --check` compares).
    """
    project = pyproject["project"]
    root = next(
        (pkg for pkg in lock.get("package", []) if pkg.get("name") == normalise(project["name"])),
        None,
    )
    if root is None:
        return [f"no root package {project['name']!r} in the lock"]
    metadata = root.get("metadata", {})
    locked = {"": metadata.get("requires-dist", [])}
    locked.update(metadata.get("requires-dev", {}))
    declared = {"": project.get("dependencies", [])}
    declared.update(pyproject.get("dependency-groups", {}))
    missing = []
    for group, raws in declared.items():
        entries = {
            (
                normalise(entry["name"]),
                frozenset(entry.get("extras", [])),
                entry.get("specifier", ""),
            )
            for entry in locked.get(group, [])
        }
        for req in parse_requirements(raws):
            if (req.name, req.extras, req.specifier) not in entries:
                missing.append(f"{group or 'runtime'}: {req.raw}")
    return missing


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The golden project as a real git repository."""
    return golden_repo(tmp_path_factory.mktemp("golden") / "repo")


def test_golden_files_required_layout_present() -> None:
    """Every file the standard's tree names is in the fixture."""
    files = golden_files()

    missing = [path for path in REQUIRED_PATHS if path not in files]

    assert missing == []


def test_golden_python_every_file_parses() -> None:
    """Every Python file of the fixture is valid Python 3.13."""
    sources = {rel: text for rel, text in golden_files().items() if rel.endswith(".py")}
    errors = []
    for rel, text in sources.items():
        assert isinstance(text, str)
        try:
            ast.parse(text, filename=rel, feature_version=(3, 13))
        except SyntaxError as exc:
            errors.append(f"{rel}:{exc.lineno}: {exc.msg}")

    assert len(sources) > 40
    assert errors == []


def test_golden_lock_matches_pyproject_no_mismatch() -> None:
    """uv.lock was produced from the fixture's pyproject (DEP-004 holds)."""
    pyproject = tomllib.loads((GOLDEN_DIR / "pyproject.toml").read_text("utf-8"))
    lock = tomllib.loads((GOLDEN_DIR / "uv.lock").read_text("utf-8"))

    assert lock_mismatches(pyproject, lock) == []


def test_lock_mismatches_changed_requirement_reports_it() -> None:
    """The lock check notices a requirement the lock does not know."""
    pyproject = tomllib.loads((GOLDEN_DIR / "pyproject.toml").read_text("utf-8"))
    lock = tomllib.loads((GOLDEN_DIR / "uv.lock").read_text("utf-8"))
    pyproject["project"]["dependencies"].append("requests>=2.32")
    pyproject["dependency-groups"]["dev"].remove("pytest>=9.2")
    pyproject["dependency-groups"]["dev"].append("pytest>=9.3")

    assert lock_mismatches(pyproject, lock) == ["runtime: requests>=2.32", "dev: pytest>=9.3"]


def test_golden_repo_tracks_env_example_and_strips_fixture_suffix(golden: Path) -> None:
    """Files our .gitignore hides are stored as `*.fixture` and restored without the suffix."""
    tracked = set(git(golden, "ls-files").splitlines())
    stored = {p.relative_to(GOLDEN_DIR).as_posix() for p in GOLDEN_DIR.rglob("*.fixture")}

    assert ".env.example" in tracked
    assert stored, "the fixture stores at least one `.fixture` file"
    assert {rel.removesuffix(".fixture") for rel in stored} <= tracked
    assert not [rel for rel in tracked if rel.endswith(".fixture")]


def test_golden_repo_single_conventional_commit(golden: Path) -> None:
    """The history rules see one Conventional Commit."""
    subjects = git(golden, "log", "--format=%s").splitlines()

    assert subjects == ["feat: initial commit"]


def test_golden_repo_ignores_what_must_not_be_committed(golden: Path) -> None:
    """The fixture's .gitignore ignores .env, logs/, __pycache__/ and .pytest_cache/ (STR-007)."""
    probes = [
        ".env",
        ".env.production",
        "logs/app.log",
        "src/__pycache__/main.cpython-313.pyc",
        ".pytest_cache/v/cache/lastfailed",
    ]

    ignored = git(golden, "check-ignore", "--no-index", *probes).splitlines()

    assert ignored == probes
    with pytest.raises(subprocess.CalledProcessError):  # exit 1: not ignored
        git(golden, "check-ignore", "--no-index", "-q", ".env.example")


def test_golden_repo_ruff_standard_rules_exit_zero(golden: Path) -> None:
    """The standard's ruff rule set finds nothing in the fixture (STY-001)."""
    result = ruff(*RUFF_CHECK, cwd=golden)

    assert result.returncode == 0, result.stdout + result.stderr


def test_golden_repo_ruff_format_exit_zero(golden: Path) -> None:
    """The fixture is formatted at line length 100 (STY-002)."""
    result = ruff(*RUFF_FORMAT, cwd=golden)

    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_check_violating_change_exits_nonzero(tmp_path: Path) -> None:
    """The same ruff run fails once the fixture gains a violation."""
    repo = golden_repo(tmp_path / "repo", {"src/debug.py": '"""Debug."""\n\nprint("hi")\n'})

    result = ruff(*RUFF_CHECK, cwd=repo)

    assert result.returncode == 1
    assert "src/debug.py:3:1: T201" in result.stdout
