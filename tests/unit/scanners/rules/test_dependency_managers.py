"""Rules that ask "is X declared?" read every manager; only DEP judges the manager (issue 18).

Each layout is a small project of its own: Poetry, requirements files with includes, PDM,
Hatch, setup.cfg, setup.py (literal and computed), dependency groups with include-group,
optional dependencies, and runtime dependencies kept in a group.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.scanners.rules.harness import FAIL, WARN, Case, case_ids, check

APP = {"app/__init__.py": "", "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n"}

POETRY = """\
[tool.poetry]
name = "svc"
version = "1.0"

[tool.poetry.dependencies]
python = "^3.13"
fastapi = "^0.115"
uvicorn = {version = "^0.30", extras = ["standard"]}
pydantic = "^2.7"
pydantic-settings = "^2.2"

[tool.poetry.group.dev.dependencies]
pytest = "^8"
pytest-asyncio = "^0.23"
pytest-cov = "^5"
factory-boy = "^3"

[tool.pytest.ini_options]
asyncio_mode = "auto"
"""
POETRY_NO_FASTAPI = POETRY.replace('fastapi = "^0.115"\n', "")
POETRY_OLD_PYTHON = POETRY.replace('python = "^3.13"', 'python = "^3.12"')

REQUIREMENTS = {
    "requirements.txt": "-r requirements/base.txt\n",
    "requirements/base.txt": "# the service\nfastapi>=0.115\nuvicorn[standard]\n",
    "requirements/dev.txt": "-r base.txt\npytest\n",
}

PDM = """\
[project]
name = "svc"
requires-python = ">=3.13"
dependencies = ["fastapi>=0.115", "uvicorn"]

[tool.pdm.dev-dependencies]
test = ["pytest", "pytest-asyncio", "pytest-cov", "factory-boy"]

[tool.pytest.ini_options]
asyncio_mode = "auto"
"""
HATCH = """\
[project]
name = "svc"
requires-python = ">=3.13"
dependencies = ["fastapi>=0.115", "uvicorn"]

[tool.hatch.envs.default]
dependencies = ["pytest", "pytest-asyncio"]
extra-dependencies = ["pytest-cov", "factory-boy"]

[tool.pytest.ini_options]
asyncio_mode = "auto"
"""
SETUP_CFG = """\
[metadata]
name = svc

[options]
python_requires = >=3.13
install_requires =
    fastapi>=0.115
    uvicorn
"""
SETUP_PY = """\
from setuptools import setup

setup(
    name="svc",
    install_requires=["fastapi>=0.115", "uvicorn"],
)
"""
SETUP_PY_COMPUTED = """\
from setuptools import setup

setup(name="svc", install_requires=[line for line in open("deps.in")])
"""
GROUPS = """\
[project]
name = "svc"
requires-python = ">=3.13"
dependencies = []

[dependency-groups]
app = [{include-group = "web"}, "pydantic>=2"]
web = ["fastapi>=0.115", "uvicorn"]
dev = ["pytest"]
"""
OPTIONAL = """\
[project]
name = "svc"
requires-python = ">=3.13"
dependencies = ["uvicorn"]

[project.optional-dependencies]
server = ["fastapi>=0.115"]
"""


FW001 = [
    Case("poetry main dependencies", files=APP | {"pyproject.toml": POETRY}),
    Case("requirements with includes", files=APP | REQUIREMENTS),
    Case("pdm project", files=APP | {"pyproject.toml": PDM}),
    Case("hatch project", files=APP | {"pyproject.toml": HATCH}),
    Case("setup.cfg install_requires", files=APP | {"setup.cfg": SETUP_CFG}),
    Case("setup.py literal install_requires", files=APP | {"setup.py": SETUP_PY}),
    Case("runtime dependencies all in a group", files=APP | {"pyproject.toml": GROUPS}),
    Case(
        "setup.py computed install_requires",
        files=APP | {"setup.py": SETUP_PY_COMPUTED, "deps.in": "fastapi\n"},
        status=FAIL,
        path="setup.py",
        message="fastapi is not a runtime dependency",
    ),
    Case(
        "fastapi missing from poetry",
        files=APP | {"pyproject.toml": POETRY_NO_FASTAPI},
        status=FAIL,
        path="pyproject.toml",
        line=5,
        message="fastapi is not a runtime dependency",
    ),
    Case(
        "fastapi missing from requirements",
        files=APP | {**REQUIREMENTS, "requirements/base.txt": "uvicorn\n"},
        status=FAIL,
        path="requirements/base.txt",
    ),
    Case(
        "fastapi only as an optional dependency",
        files=APP | {"pyproject.toml": OPTIONAL},
        status=FAIL,
        path="pyproject.toml",
        line=7,
        message="only an optional dependency",
    ),
    Case(
        "no manifest at all",
        files=APP,
        status=FAIL,
        path="pyproject.toml",
        message="no dependency manifest",
    ),
]


@pytest.mark.parametrize("case", FW001, ids=case_ids(FW001))
def test_fw001_reads_every_manager(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "FW-001", case)


FW002 = [
    Case("poetry uvicorn table form", files=APP | {"pyproject.toml": POETRY}),
    Case("requirements uvicorn", files=APP | REQUIREMENTS),
    Case("uvicorn in an included group", files=APP | {"pyproject.toml": GROUPS}),
    Case(
        "uvicorn only in requirements/dev.txt",
        files=APP
        | {
            **REQUIREMENTS,
            "requirements/base.txt": "fastapi\n",
            "requirements/dev.txt": "uvicorn\n",
        },
        status=FAIL,
        path="requirements/dev.txt",
        line=1,
        message="uvicorn is not a runtime dependency",
    ),
]


@pytest.mark.parametrize("case", FW002, ids=case_ids(FW002))
def test_fw002_reads_every_manager(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "FW-002", case)


VER001 = [
    Case("poetry python ^3.13", files=APP | {"pyproject.toml": POETRY}),
    Case("setup.cfg python_requires", files=APP | {"setup.cfg": SETUP_CFG}),
    Case(
        "poetry python ^3.12",
        files=APP | {"pyproject.toml": POETRY_OLD_PYTHON},
        status=FAIL,
        path="pyproject.toml",
        line=6,
        message="Poetry python '^3.12' admits Python 3.12",
    ),
    Case(
        "requirements only: no python constraint",
        files=APP | REQUIREMENTS,
        status=FAIL,
        path="requirements/base.txt",
        message="requires-python is not set",
    ),
]


@pytest.mark.parametrize("case", VER001, ids=case_ids(VER001))
def test_ver001_reads_poetry_and_setuptools(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "VER-001", case)


VER002 = [
    Case("poetry pydantic v2", files=APP | {"pyproject.toml": POETRY}),
    Case(
        "poetry pydantic v1",
        files=APP | {"pyproject.toml": POETRY.replace('pydantic = "^2.7"', 'pydantic = "^1.10"')},
        status=FAIL,
        path="pyproject.toml",
        line=9,
    ),
]


@pytest.mark.parametrize("case", VER002, ids=case_ids(VER002))
def test_ver002_reads_poetry(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "VER-002", case)


TST001 = [
    Case("poetry dev group", files=APP | {"pyproject.toml": POETRY}),
    Case("pdm dev dependencies", files=APP | {"pyproject.toml": PDM}),
    Case("hatch environment dependencies", files=APP | {"pyproject.toml": HATCH}),
    Case(
        "requirements dev file",
        files=APP
        | REQUIREMENTS
        | {
            "requirements/dev.txt": "pytest\npytest-asyncio\npytest-cov\nfactory-boy\n",
            "pytest.ini": "[pytest]\n",
        },
        status=WARN,  # configured in pytest.ini, not pyproject: the rule's own warning
        message="pytest is configured in pytest.ini",
    ),
    Case(
        "poetry without factory-boy",
        files=APP | {"pyproject.toml": POETRY.replace('factory-boy = "^3"\n', "")},
        status=FAIL,
        path="pyproject.toml",
        line=12,
        message="factory-boy",
    ),
]


TST001.append(
    Case(
        "poetry legacy dev-dependencies without factory-boy",
        files=APP
        | {
            "pyproject.toml": POETRY.replace('factory-boy = "^3"\n', "").replace(
                "[tool.poetry.group.dev.dependencies]", "[tool.poetry.dev-dependencies]"
            )
        },
        status=FAIL,
        path="pyproject.toml",
        line=12,
        message="factory-boy",
    )
)


@pytest.mark.parametrize("case", TST001, ids=case_ids(TST001))
def test_tst001_reads_every_manager(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "TST-001", case)


RUFF = '[tool.poetry.dependencies]\nruff = "*"\n'
# The manager itself is the DEP rules' verdict, and theirs alone.
DEP = [
    ("DEP-001", Case("poetry has no uv.lock", files=APP | {"pyproject.toml": POETRY}, status=FAIL)),
    ("DEP-001", Case("requirements only", files=APP | REQUIREMENTS, status=FAIL)),
    (
        "DEP-002",
        Case(
            "poetry table",
            files=APP | {"pyproject.toml": POETRY},
            status=FAIL,
            path="pyproject.toml",
        ),
    ),
    (
        "DEP-002",
        Case(
            "requirements files",
            files=APP | REQUIREMENTS,
            status=FAIL,
            paths=("requirements.txt", "requirements/base.txt"),
        ),
    ),
    ("DEP-003", Case("poetry runtime without dev tools", files=APP | {"pyproject.toml": POETRY})),
    (
        "DEP-003",
        Case(
            "poetry dev tool at runtime",
            files=APP
            | {
                "pyproject.toml": POETRY.replace(
                    'python = "^3.13"\n', 'python = "^3.13"\nruff = "*"\n'
                )
            },
            status=FAIL,
            path="pyproject.toml",
            line=7,
        ),
    ),
]


@pytest.mark.parametrize(("rule", "case"), DEP, ids=[f"{r}-{c.name}" for r, c in DEP])
def test_dep_rules_judge_the_manager(tmp_path: Path, rule: str, case: Case) -> None:
    check(tmp_path, rule, case)
