"""VER rules: Python >= 3.13, Pydantic v2 + settings, SQLAlchemy 2 async + Alembic, changelog."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.scanners.rules.harness import (
    FAIL,
    Case,
    case_ids,
    check,
    golden_files,
    golden_gaps,
    line_number,
    replace_once,
    synth_uv_lock,
)

PYPROJECT = str(golden_files()["pyproject.toml"])
BASE = golden_gaps({"CHANGELOG.md": "# Changelog\n\n## 1.0.0\n- First release.\n"})
GOLDEN_PYTHON = 'requires-python = ">=3.13"'


def python(spec: str) -> dict[str, str | bytes | None]:
    """Changes setting requires-python to `spec`."""
    return {"pyproject.toml": replace_once(PYPROJECT, GOLDEN_PYTHON, f'requires-python = "{spec}"')}


PYTHON_LINE = line_number(PYPROJECT, "requires-python")
VER001 = [
    Case("golden passes"),
    Case("upper bound passes", python(">=3.13,<4")),
    Case("compatible release passes", python("~=3.13")),
    Case("wildcard passes", python("==3.13.*")),
    Case("backend subfolder passes", prefix="backend/"),
    Case(
        "3.12 admitted",
        python(">=3.12"),
        FAIL,
        path="pyproject.toml",
        line=PYTHON_LINE,
        message="3.12",
    ),
    Case(
        "greater than 3.12 admits patches",
        python(">3.12"),
        FAIL,
        line=PYTHON_LINE,
        path="pyproject.toml",
        message="3.12.1",
    ),
    Case(
        "late 3.12 patch admitted",
        python(">=3.12.5"),
        FAIL,
        path="pyproject.toml",
        message="3.12.5",
    ),
    Case("compatible 3.12", python("~=3.12"), FAIL, path="pyproject.toml"),
    Case("exclusion only", python("!=3.13.*"), FAIL, path="pyproject.toml"),
    Case(
        "not a specifier",
        python("3.13+"),
        FAIL,
        path="pyproject.toml",
        line=PYTHON_LINE,
        message="not a valid",
    ),
    Case(
        "missing",
        {"pyproject.toml": replace_once(PYPROJECT, GOLDEN_PYTHON + "\n", "")},
        FAIL,
        path="pyproject.toml",
        line=1,
        message="not set",
    ),
    Case("pyproject not toml", {"pyproject.toml": "[project\n"}, FAIL, path="pyproject.toml"),
    Case("binary pyproject", {"pyproject.toml": b"\x00\x01"}, FAIL, path="pyproject.toml"),
    Case("no pyproject", {"pyproject.toml": None}, FAIL, path="pyproject.toml"),
    Case(
        "backend admits 3.11",
        python(">=3.11"),
        FAIL,
        path="backend/pyproject.toml",
        prefix="backend/",
    ),
]


@pytest.mark.parametrize("case", VER001, ids=case_ids(VER001))
def test_ver001_python_version(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "VER-001", case, BASE)


def dep(old: str, new: str, locked: dict[str, str] | None = None) -> dict[str, str | bytes | None]:
    """Changes editing one golden dependency line, with a uv.lock resolving `locked` versions."""
    text = replace_once(PYPROJECT, f'"{old}"', f'"{new}"' if new else '"idna"')
    return {"pyproject.toml": text, "uv.lock": synth_uv_lock(text, locked)}


def at(old: str) -> int:
    """Line of a golden dependency."""
    return line_number(PYPROJECT, f'"{old}"')


VER002 = [
    Case("golden passes"),
    Case("bounded v2 passes", dep("pydantic>=2.14", "pydantic>=2.7,<3")),
    Case(
        "unbounded but locked to v2 passes",
        dep("pydantic>=2.14", "pydantic", {"pydantic": "2.11.7"}),
    ),
    Case(
        "transitive v2 in the lock passes",
        dep("pydantic>=2.14", "", {"pydantic": "2.11.7"})
        | {"uv.lock": synth_uv_lock(PYPROJECT, {"pydantic": "2.11.7"})},
    ),
    Case(
        "v1 admitted",
        dep("pydantic>=2.14", "pydantic>=1.10"),
        FAIL,
        path="pyproject.toml",
        line=at("pydantic>=2.14"),
        message="admits versions below 2",
    ),
    Case(
        "v1 pinned",
        dep("pydantic>=2.14", "pydantic<2"),
        FAIL,
        line=at("pydantic>=2.14"),
        path="pyproject.toml",
    ),
    Case(
        "unbounded and locked to v1",
        dep("pydantic>=2.14", "pydantic", {"pydantic": "1.10.21"}),
        FAIL,
        path="pyproject.toml",
        line=at("pydantic>=2.14"),
    ),
    Case(
        "unbounded without a lock",
        {**dep("pydantic>=2.14", "pydantic"), "uv.lock": None},
        FAIL,
        path="pyproject.toml",
    ),
    Case(
        "no settings package",
        dep("pydantic-settings>=2.16", ""),
        FAIL,
        path="pyproject.toml",
        message="pydantic-settings",
    ),
    Case("pyproject not toml", {"pyproject.toml": "[project\n"}, FAIL, path="pyproject.toml"),
    Case(
        "backend v1",
        dep("pydantic>=2.14", "pydantic>=1.8"),
        FAIL,
        prefix="backend/",
        path="backend/pyproject.toml",
    ),
]


@pytest.mark.parametrize("case", VER002, ids=case_ids(VER002))
def test_ver002_pydantic_v2(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "VER-002", case, BASE)


SQLA = "sqlalchemy[asyncio]>=2.1"
ALEMBIC_DEV = replace_once(PYPROJECT, '    "alembic>=1.20",\n', "")
ALEMBIC_DEV = replace_once(ALEMBIC_DEV, "dev = [\n", 'dev = [\n    "alembic>=1.20",\n')
NO_ASYNCPG = replace_once(PYPROJECT, '"asyncpg>=0.32"', '"psycopg2-binary>=2.9"')
VER003 = [
    Case("golden passes"),
    Case("psycopg 3 passes", dep("asyncpg>=0.32", "psycopg[binary]>=3.2")),
    Case(
        "driver extra passes",
        {**dep("asyncpg>=0.32", ""), **dep(SQLA, "SQLAlchemy[postgresql_asyncpg]>=2.0")},
    ),
    Case("alembic as a dev dependency passes", {"pyproject.toml": ALEMBIC_DEV}),
    Case(
        "unbounded but locked to 2.0 passes",
        dep(SQLA, "sqlalchemy[asyncio]", {"sqlalchemy": "2.0.36"}),
    ),
    Case("backend subfolder passes", prefix="backend/"),
    Case(
        "1.4 admitted",
        dep(SQLA, "sqlalchemy>=1.4"),
        FAIL,
        path="pyproject.toml",
        line=at(SQLA),
        message="below 2.0",
    ),
    Case(
        "locked to 1.4",
        dep(SQLA, "sqlalchemy", {"sqlalchemy": "1.4.54"}),
        FAIL,
        path="pyproject.toml",
        line=at(SQLA),
    ),
    Case(
        "psycopg2 is not async",
        {"pyproject.toml": NO_ASYNCPG},
        FAIL,
        path="pyproject.toml",
        line=at(SQLA),
        message="async database driver",
    ),
    Case("asyncio extra is not a driver", dep("asyncpg>=0.32", ""), FAIL, message="driver"),
    Case(
        "driver only for tests",
        {"pyproject.toml": replace_once(PYPROJECT, '    "asyncpg>=0.32",\n', "")},
        FAIL,
        message="driver",
    ),
    Case("no alembic", dep("alembic>=1.20", ""), FAIL, path="pyproject.toml", message="alembic"),
    Case(
        "no sqlalchemy",
        dep(SQLA, ""),
        FAIL,
        path="pyproject.toml",
        line=line_number(PYPROJECT, "dependencies = ["),
        message="not a runtime dependency",
    ),
    Case("no pyproject", {"pyproject.toml": None}, FAIL, path="pyproject.toml"),
]


@pytest.mark.parametrize("case", VER003, ids=case_ids(VER003))
def test_ver003_sqlalchemy_async(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "VER-003", case, BASE)


VER004 = [
    Case("golden passes"),
    Case("lower-case name passes", {"CHANGELOG.md": None, "changelog.md": "## 1.0\n- x\n"}),
    Case(
        "repository root counts in a monorepo",
        {"CHANGELOG.md": None},
        prefix="backend/",
        repo_changes={"CHANGELOG.md": "# Changes\n"},
    ),
    Case("missing", {"CHANGELOG.md": None}, FAIL, path="CHANGELOG.md", message="no CHANGELOG"),
    Case(
        "nested one does not count",
        {"CHANGELOG.md": None, "docs/CHANGELOG.md": "# x\n"},
        FAIL,
        path="CHANGELOG.md",
    ),
    Case("empty", {"CHANGELOG.md": " \n\n"}, FAIL, path="CHANGELOG.md", line=1, message="empty"),
    Case("binary", {"CHANGELOG.md": b"\x00\xff"}, FAIL, path="CHANGELOG.md"),
    Case(
        "backend missing",
        {"CHANGELOG.md": None},
        FAIL,
        path="backend/CHANGELOG.md",
        prefix="backend/",
    ),
]


@pytest.mark.parametrize("case", VER004, ids=case_ids(VER004))
def test_ver004_changelog(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "VER-004", case, BASE)
