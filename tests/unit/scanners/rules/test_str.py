"""STR rules: layout, layers, core modules, tests, Alembic, root files, .gitignore, tracked junk."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.analysis.gitignore import GitIgnore, parse, translate
from tests.unit.scanners.rules.harness import (
    FAIL,
    WARN,
    Case,
    case_ids,
    check,
    golden_files,
    golden_gaps,
    run_rule,
)

GITIGNORE = """\
# Python
__pycache__/
*.py[cod]
.pytest_cache/
.venv/

# Local settings and runtime output
.env
.env.*
!.env.example
logs/
"""
BASE = golden_gaps(
    {
        ".gitignore": GITIGNORE,
        "README.md": "# Notes service\n",
        ".env.example": "DATABASE_URL=postgresql+asyncpg://localhost/notes\n",
        ".pre-commit-config.yaml": "repos: []\n",
        "docs/architecture.md": "# Architecture\n",
    }
)


def renamed(old: str, new: str) -> dict[str, str | bytes | None]:
    """Changes that move the golden folder `old/` to `new/`."""
    out: dict[str, str | bytes | None] = {}
    for rel, content in golden_files().items():
        if rel.startswith(f"{old}/"):
            out[rel] = None
            out[f"{new}/{rel[len(old) + 1 :]}"] = content
    return out


def removed(*folders: str) -> dict[str, str | bytes | None]:
    """Changes that delete every golden file below the given folders."""
    return {rel: None for rel in golden_files() if rel.startswith(tuple(f"{f}/" for f in folders))}


APP = renamed("src", "app")
MONO = {"README.md": "# Monorepo\n", "frontend/package.json": "{}\n"}

STR001 = [
    Case("golden passes"),
    Case("app layout passes", APP),
    Case("backend subfolder passes", prefix="backend/", repo_changes=MONO),
    Case(
        "modules as packages pass",
        {"src/exceptions.py": None, "src/exceptions/__init__.py": "X = 1\n"},
    ),
    Case("app with main preferred over src without", {**APP, "src/__init__.py": ""}),
    Case(
        "no middleware",
        {"src/middleware.py": None},
        FAIL,
        path="src/middleware.py",
        message="middleware",
    ),
    Case(
        "no exceptions in app layout",
        {**APP, "app/exceptions.py": None},
        FAIL,
        path="app/exceptions.py",
    ),
    Case(
        "backend without main",
        {"src/main.py": None},
        FAIL,
        path="backend/src/main.py",
        prefix="backend/",
    ),
    Case("flat layout", {**removed("src"), "main.py": "app = 1\n"}, FAIL, path="src"),
]


@pytest.mark.parametrize("case", STR001, ids=case_ids(STR001))
def test_str001_src_layout(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STR-001", case, BASE)


STR002 = [
    Case("golden passes"),
    Case("app layout passes", APP),
    Case("backend subfolder passes", prefix="backend/", repo_changes=MONO),
    Case(
        "routers and crud aliases pass",
        {**renamed("src/api/routes", "src/routers"), **renamed("src/repositories", "src/crud")},
    ),
    Case("no services", removed("src/services"), FAIL, path="src/services", message="1 layer"),
    Case(
        "models without init", {"src/models/__init__.py": None}, FAIL, path="src/models/__init__.py"
    ),
    Case(
        "routes without init in app layout",
        {**APP, "app/api/routes/__init__.py": None},
        FAIL,
        path="app/api/routes/__init__.py",
    ),
    Case(
        "layers in tests do not count",
        {**removed("src/schemas"), "tests/schemas/__init__.py": ""},
        FAIL,
        path="src/schemas",
    ),
    Case("no app package", {**removed("src"), "lib/x.py": ""}, FAIL, path="src"),
    Case(
        "backend without core",
        removed("src/core"),
        FAIL,
        path="backend/src/core",
        prefix="backend/",
    ),
]


@pytest.mark.parametrize("case", STR002, ids=case_ids(STR002))
def test_str002_layer_packages(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STR-002", case, BASE)


STR003 = [
    Case("golden passes"),
    Case("app layout passes", APP),
    Case("backend subfolder passes", prefix="backend/", repo_changes=MONO),
    Case(
        "logging_config.yaml stands in",
        {"src/core/logging.py": None, "logging_config.yaml": "version: 1\n"},
    ),
    Case(
        "config as a package passes",
        {"src/core/config.py": None, "src/core/config/__init__.py": "X = 1\n"},
    ),
    Case("crud base passes", renamed("src/repositories", "src/crud")),
    Case("no security", {"src/core/security.py": None}, FAIL, path="src/core/security.py"),
    Case("no logging", {"src/core/logging.py": None}, FAIL, path="src/core/logging.py"),
    Case(
        "no base repository",
        {"src/repositories/base.py": None},
        FAIL,
        path="src/repositories/base.py",
    ),
    Case(
        "no api dependencies",
        {"src/api/dependencies.py": None},
        FAIL,
        path="src/api/dependencies.py",
    ),
    Case(
        "no core folder",
        removed("src/core"),
        FAIL,
        path="src/core/config.py",
        paths=("src/core/database.py",),
        message="4 core",
    ),
    Case(
        "backend without config",
        {"src/core/config.py": None},
        FAIL,
        path="backend/src/core/config.py",
        prefix="backend/",
    ),
]


@pytest.mark.parametrize("case", STR003, ids=case_ids(STR003))
def test_str003_core_modules(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STR-003", case, BASE)


STR004 = [
    Case("golden passes"),
    Case("backend subfolder passes", prefix="backend/", repo_changes=MONO),
    Case("no conftest", {"tests/conftest.py": None}, FAIL, path="tests/conftest.py"),
    Case("no e2e tests", removed("tests/e2e"), FAIL, path="tests/e2e", message="1 test"),
    Case(
        "no tests at all",
        removed("tests"),
        FAIL,
        path="tests/unit",
        paths=("tests/integration", "tests/e2e", "tests/conftest.py"),
        message="4 test",
    ),
    Case(
        "backend without unit tests",
        removed("tests/unit"),
        FAIL,
        path="backend/tests/unit",
        prefix="backend/",
    ),
]


@pytest.mark.parametrize("case", STR004, ids=case_ids(STR004))
def test_str004_test_layout(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STR-004", case, BASE)


ALEMBIC_ELSEWHERE = "[alembic]\nscript_location = %(here)s/migrations\n"
STR005 = [
    Case("golden passes"),
    Case("backend subfolder passes", prefix="backend/", repo_changes=MONO),
    Case(
        "empty versions folder kept passes",
        {**removed("alembic/versions"), "alembic/versions/.gitkeep": ""},
    ),
    Case("no alembic.ini", {"alembic.ini": None}, FAIL, path="alembic.ini"),
    Case("no versions folder", removed("alembic/versions"), FAIL, path="alembic/versions"),
    Case(
        "migrations elsewhere",
        {
            **renamed("alembic", "migrations"),
            "alembic.ini": ALEMBIC_ELSEWHERE,
        },
        WARN,
        path="alembic.ini",
        message="outside",
    ),
    Case(
        "backend without alembic",
        {"alembic.ini": None},
        FAIL,
        path="backend/alembic.ini",
        prefix="backend/",
    ),
]


@pytest.mark.parametrize("case", STR005, ids=case_ids(STR005))
def test_str005_alembic_layout(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STR-005", case, BASE)


STR006 = [
    Case("golden passes"),
    Case(
        "monorepo root files count",
        {"README.md": None, ".gitignore": None, ".pre-commit-config.yaml": None},
        prefix="backend/",
        repo_changes={
            "README.md": "# Mono\n",
            ".gitignore": GITIGNORE,
            ".pre-commit-config.yaml": "repos: []\n",
        },
    ),
    Case("no readme", {"README.md": None}, FAIL, path="README.md", message="1 root"),
    Case("no docs", {**removed("docs"), "docs/architecture.md": None}, FAIL, path="docs"),
    Case(
        "no pre-commit config",
        {".pre-commit-config.yaml": None},
        FAIL,
        path=".pre-commit-config.yaml",
    ),
    Case(
        "backend without env example",
        {".env.example": None},
        FAIL,
        path="backend/.env.example",
        prefix="backend/",
        repo_changes=MONO,
    ),
]


@pytest.mark.parametrize("case", STR006, ids=case_ids(STR006))
def test_str006_root_files(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STR-006", case, BASE)


def ignore(text: str) -> dict[str, str | bytes | None]:
    """Changes replacing the project's .gitignore."""
    return {".gitignore": text}


NEGATED = GITIGNORE + "!.env\n"
STR007 = [
    Case("golden passes"),
    Case(
        "wildcards and anchored folders pass",
        ignore(".env*\n/logs/\n**/__pycache__/\n.pytest_cache\n"),
    ),
    Case(
        "folder contents with a kept file pass",
        ignore(".env\nlogs/*\n!logs/.gitkeep\n__pycache__\n.pytest_cache/**\n"),
    ),
    Case(
        "monorepo root and nested files combine",
        {".gitignore": "logs/\n.pytest_cache/\n"},
        prefix="backend/",
        repo_changes={".gitignore": ".env\n__pycache__/\n"},
    ),
    Case(
        "pyc only does not ignore pycache",
        ignore(".env\nlogs/\n*.pyc\n.pytest_cache/\n"),
        FAIL,
        path=".gitignore",
        message="2 path",
    ),
    Case(
        "negation re-includes env",
        ignore(NEGATED),
        FAIL,
        path=".gitignore",
        line=len(NEGATED.splitlines()),
        message="1 path",
    ),
    Case(
        "folder-only pattern misses env file",
        ignore(".env/\nlogs/\n__pycache__/\n.pytest_cache/\n"),
        FAIL,
        path=".gitignore",
    ),
    Case(
        "comment is not a pattern",
        ignore("# .env\nlogs/\n__pycache__/\n.pytest_cache/\n"),
        FAIL,
        path=".gitignore",
    ),
    Case(
        "anchored pycache misses nested ones",
        ignore(".env\nlogs/\n/__pycache__/\n.pytest_cache/\n"),
        FAIL,
        path=".gitignore",
        message="1 path",
    ),
    Case(
        "substring is not a match",
        ignore(".envrc\nmylogs/\n__pycache__/\n.pytest_cache/\n"),
        FAIL,
        path=".gitignore",
        message="2 path",
    ),
    Case("no gitignore", {".gitignore": None}, FAIL, path=".gitignore"),
    Case(
        "backend without gitignore",
        {".gitignore": None},
        FAIL,
        path="backend/.gitignore",
        prefix="backend/",
    ),
]


@pytest.mark.parametrize("case", STR007, ids=case_ids(STR007))
def test_str007_gitignore_coverage(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STR-007", case, BASE)


def test_str007_names_each_path_not_ignored(tmp_path: Path) -> None:
    case = Case("only env", ignore(".env\n"), FAIL)
    result = check(tmp_path, "STR-007", case, BASE)
    messages = " ".join(e.message for e in result.evidence)
    for shown in ("logs/", "__pycache__/", "src/__pycache__/", ".pytest_cache/"):
        assert shown in messages
    assert ".env" not in messages.replace(".env/", "")


GITIGNORE_MATCHES = [
    (".env*", ".env", False, True),
    (".env*", "src/.env.prod", False, True),
    (".env/", ".env", False, False),
    ("/logs/", "logs", True, True),
    ("/logs/", "src/logs", True, False),
    ("logs/", "src/logs", True, True),
    ("logs/", "logs", False, False),
    ("*.pyc", "__pycache__", True, False),
    ("*.pyc", "src/__pycache__/m.cpython-313.pyc", False, True),
    ("**/__pycache__", "a/b/__pycache__", True, True),
    ("a/**/b", "a/b", False, True),
    ("a/**/b", "a/x/y/b", False, True),
    ("a/**", "a/x/y", False, True),
    ("a/**", "a", True, False),
    ("doc/*.txt", "doc/notes.txt", False, True),
    ("doc/*.txt", "doc/server/arch.txt", False, False),
    ("*.py[cod]", "x.pyo", False, True),
    ("*.py[!cod]", "x.pyc", False, False),
    ("file?.log", "file1.log", False, True),
    ("file?.log", "file/.log", False, False),
    ("\\#notes", "#notes", False, True),
    ("\\!important", "!important", False, True),
    ("trailing\\ ", "trailing ", False, True),
    ("[unclosed", "[unclosed", False, False),  # git drops the pattern (git check-ignore)
]


@pytest.mark.parametrize(("pattern", "path", "is_dir", "expected"), GITIGNORE_MATCHES)
def test_gitignore_matching(pattern: str, path: str, is_dir: bool, expected: bool) -> None:
    assert GitIgnore(parse(pattern + "\n")).ignored(path, is_dir) is expected, translate(pattern)


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        (".env\n!.env\n", ".env", False),  # the last match wins
        ("!.env\n.env\n", ".env", True),
        ("logs/\n!logs/keep\n", "logs/keep", True),  # an ignored parent wins
        ("logs/*\n!logs/keep\n", "logs/keep", False),
        ("logs/*\n!logs/keep\n", "logs/app.log", True),
        ("# just a comment\n\n", ".env", False),
    ],
)
def test_gitignore_precedence(text: str, path: str, expected: bool) -> None:
    assert GitIgnore(parse(text)).ignored(path) is expected


def test_gitignore_nested_files_apply_below_their_folder() -> None:
    rules = GitIgnore.from_files([("sub/.gitignore", "!keep.env\n"), (".gitignore", "*.env\n")])
    assert rules.ignored("sub/keep.env") is False
    assert rules.ignored("keep.env") is True
    assert rules.ignored("other/keep.env") is True
    decisive = rules.decisive("sub/keep.env")
    assert decisive is not None
    assert (decisive.source, decisive.line) == ("sub/.gitignore", 1)


ENV = "SECRET_KEY=real\n"
PYC = b"\x00\x01compiled"
STR008 = [
    Case("golden passes"),
    Case(
        "env example and kept logs folder pass",
        forced={
            ".env.example": ENV,
            ".env.prod.example": ENV,
            "logs/.gitkeep": "",
            "src/services/logs/__init__.py": "",
        },
    ),
    Case("tracked env", forced={".env": ENV}, status=FAIL, path=".env", message="1 file"),
    Case("tracked production env", forced={".env.prod": ENV}, status=FAIL, path=".env.prod"),
    Case(
        "example as a prefix is no template",
        forced={".env.example-prod": ENV},
        status=FAIL,
        path=".env.example-prod",
    ),
    Case("env sample is not exempt", forced={".env.sample": ENV}, status=FAIL, path=".env.sample"),
    Case("tracked log", forced={"logs/app.log": "boot\n"}, status=FAIL, path="logs/app.log"),
    Case(
        "tracked bytecode",
        forced={"src/__pycache__/main.cpython-313.pyc": PYC, "x.pyc": PYC},
        status=FAIL,
        path="src/__pycache__/main.cpython-313.pyc",
        paths=("x.pyc",),
    ),
    Case(
        "tracked pytest cache",
        forced={".pytest_cache/v/cache/nodeids": "[]"},
        status=FAIL,
        path=".pytest_cache/v/cache/nodeids",
    ),
    Case(
        "anywhere in a monorepo",
        forced={"frontend/.env": ENV},
        status=FAIL,
        path="frontend/.env",
        prefix="backend/",
    ),
]


@pytest.mark.parametrize("case", STR008, ids=case_ids(STR008))
def test_str008_nothing_forbidden_tracked(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STR-008", case, BASE)


def test_str008_caps_evidence(tmp_path: Path) -> None:
    many = {f"pkg/m{i}.pyc": PYC for i in range(60)}
    result = run_rule(tmp_path, "STR-008", Case("many", forced=many), BASE)
    assert result.status == FAIL
    assert len(result.evidence) == 50
    assert "60 file" in result.message
