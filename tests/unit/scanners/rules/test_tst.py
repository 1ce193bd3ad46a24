"""TST rules: pytest toolchain, unit/integration/e2e suites, naming, asserts, layer tests, gate."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from scanners.analysis.testsuite import asserts, is_test_file
from tests.gitrepo import golden_files
from tests.unit.scanners.rules.harness import (
    FAIL,
    NOT_APPLICABLE,
    WARN,
    Case,
    case_ids,
    check,
    line_number,
    replace_once,
)

GOLDEN = golden_files()
PYPROJECT = str(GOLDEN["pyproject.toml"])
CI = ".github/workflows/ci.yml"
CI_TEXT = str(GOLDEN[CI])
MINIMAL_PYPROJECT = '[project]\nname = "svc"\nversion = "0"\ndependencies = ["fastapi"]\n'
TESTS_OF = {
    rel: None
    for rel in GOLDEN
    if rel.startswith("tests/") and is_test_file(PurePosixPath(rel).name)
}


def pyproject_without(*needles: str) -> str:
    text = PYPROJECT
    for needle in needles:
        text = replace_once(text, needle, "")
    return text


# ----- TST-001 -------------------------------------------------------------------------------
NATIVE_PYTEST = """\
[project]
name = "svc"
version = "0"
dependencies = ["fastapi>=0.165"]

[tool.uv]
dev-dependencies = ["pytest>=9", "pytest_asyncio>=1", "pytest-cov>=7", "factory_boy>=3"]

[tool.pytest]
testpaths = ["tests"]
"""
PYTEST_INI = "[pytest]\ntestpaths = tests\n"
NO_PYTEST_TABLE = pyproject_without(
    '[tool.pytest.ini_options]\ntestpaths = ["tests"]\nasyncio_mode = "auto"\n'
    'asyncio_default_fixture_loop_scope = "function"\n'
    'addopts = "-ra --strict-markers --cov=src --cov-report=term-missing"\n'
    "markers = [\n"
    '    "integration: exercises the HTTP API against a real database",\n'
    '    "e2e: drives complete user journeys through the application",\n'
    "]\n"
)
RUNTIME_FACTORY = replace_once(
    pyproject_without('    "factory-boy>=3.3.3",\n'),
    '    "fastapi>=0.165",\n',
    '    "factory-boy>=3.3.3",\n    "fastapi>=0.165",\n',
)
TST001 = [
    Case("golden passes"),
    Case(
        "pytest-cov missing",
        {"pyproject.toml": pyproject_without('    "pytest-cov>=7.1",\n')},
        FAIL,
        path="pyproject.toml",
        line=line_number(PYPROJECT, "[dependency-groups]"),
        message="pytest-cov",
    ),
    Case(
        "factory-boy only at runtime", {"pyproject.toml": RUNTIME_FACTORY}, WARN, "pyproject.toml"
    ),
    Case("no pytest configuration", {"pyproject.toml": NO_PYTEST_TABLE}, FAIL, "pyproject.toml"),
    Case(
        "pytest.ini instead of pyproject",
        {"pyproject.toml": NO_PYTEST_TABLE, "pytest.ini": PYTEST_INI},
        WARN,
        message="configured in pytest.ini",
    ),
    Case("broken pyproject", {"pyproject.toml": "[project\n"}, FAIL, "pyproject.toml"),
    Case(
        "legacy dev-dependencies, native [tool.pytest], backend/ prefix",
        {"pyproject.toml": NATIVE_PYTEST},
        prefix="backend/",
    ),
]


@pytest.mark.parametrize("case", TST001, ids=case_ids(TST001))
def test_tst001(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "TST-001", case)


# ----- TST-002 -------------------------------------------------------------------------------
NO_E2E = {rel: None for rel in TESTS_OF if rel.startswith("tests/e2e/")}
NESTED_SUITES = {
    "pyproject.toml": MINIMAL_PYPROJECT,
    "tests/unit/services/test_user_service.py": "def test_x_y_z():\n    assert True\n",
    "tests/integration/api/users_test.py": "def test_x_y_z():\n    assert True\n",
    "tests/end_to_end/test_journey.py": "def test_x_y_z():\n    assert True\n",
}
TST002 = [
    Case("golden passes"),
    Case("no e2e suite", NO_E2E, WARN, path="tests/e2e", message="no e2e"),
    Case("no suite folders at all", TESTS_OF, FAIL, paths=("tests/unit", "tests/integration")),
    Case(
        "an e2e folder of helpers only",
        {**NO_E2E, "tests/e2e/helpers.py": "X = 1\n"},
        WARN,
        path="tests/e2e",
    ),
    Case(
        "nested folders, *_test.py, end_to_end under backend/",
        files={f"backend/{rel}": text for rel, text in NESTED_SUITES.items()},
    ),
]


@pytest.mark.parametrize("case", TST002, ids=case_ids(TST002))
def test_tst002(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "TST-002", case)


# ----- TST-003 -------------------------------------------------------------------------------
VAGUE = "".join(f"def test_case{i}():\n    assert {i}\n\n\n" for i in range(20))
CLASS_TESTS = """\
import unittest


class TestUserService:
    def test_register_duplicate(self):
        assert True

    def helper(self):
        return 1


class UsersTest(unittest.TestCase):
    def test_login_locked(self):
        self.assertTrue(True)


def test_delete_missing_user_raises():
    assert True


def test_it():
    assert True
"""
TST003 = [
    Case("golden passes"),
    Case(
        "a module of vague names",
        {"tests/unit/test_vague.py": VAGUE},
        FAIL,
        path="tests/unit/test_vague.py",
        line=1,
        message="need 80%",
    ),
    Case(
        "class methods need two parts (3 of 4 descriptive = 75%)",
        files={"pyproject.toml": MINIMAL_PYPROJECT, "tests/test_users.py": CLASS_TESTS},
        status=FAIL,
        path="tests/test_users.py",
        line=line_number(CLASS_TESTS, "def test_it"),
    ),
    Case(
        "class methods with two parts pass",
        files={
            "pyproject.toml": MINIMAL_PYPROJECT,
            "tests/test_users.py": CLASS_TESTS.replace(
                "test_it", "test_list_empty_returns_nothing"
            ),
            "tests/test_broken.py": "def test_(:\n",
        },
    ),
    Case("no tests", files={"pyproject.toml": MINIMAL_PYPROJECT}, status=NOT_APPLICABLE),
]


@pytest.mark.parametrize("case", TST003, ids=case_ids(TST003))
def test_tst003(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "TST-003", case)


# ----- TST-004 -------------------------------------------------------------------------------
SILENT = '''\
"""A test that only calls the code under test."""

from src.services.note_service import NoteService


async def test_create_note_without_checks_runs() -> None:
    """Calls, but checks nothing."""
    NoteService
'''
CONFTEST_HELPERS = """\
import pytest


def check_created(response):
    assert response.status_code == 201


def created_and_listed(response):
    check_created(response)
"""
ASSERT_STYLES = """\
import unittest
from unittest import mock

import pytest as pt
from playwright.sync_api import expect

from tests.conftest import created_and_listed


def test_raises_aliased_module_works():
    with pt.raises(ValueError):
        int("x")


def test_mock_called_once_works():
    m = mock.Mock()
    m()
    m.assert_called_once()


def test_helper_chain_from_conftest_works(response):
    created_and_listed(response)


def test_playwright_expect_title_works(page):
    expect(page).to_have_title("Notes")


def test_skip_when_offline_fails_loudly():
    pt.fail("offline")


class TestUsers(unittest.TestCase):
    def test_login_locked_user(self):
        self.assertEqual(1, 1)
"""
TST004 = [
    Case("golden passes"),
    Case(
        "a test that asserts nothing",
        {"tests/unit/test_silent.py": SILENT},
        FAIL,
        path="tests/unit/test_silent.py",
        line=line_number(SILENT, "async def test_create_note"),
        message="1 of",
    ),
    Case(
        "aliased pytest, mock asserts, helpers through conftest, expect, unittest",
        files={
            "pyproject.toml": MINIMAL_PYPROJECT,
            "tests/conftest.py": CONFTEST_HELPERS,
            "tests/test_styles.py": ASSERT_STYLES,
        },
    ),
    Case(
        "a helper that does not assert does not count",
        files={
            "pyproject.toml": MINIMAL_PYPROJECT,
            "tests/conftest.py": "def make_user():\n    return {}\n",
            "tests/test_users.py": "def test_make_user_builds_dict():\n    make_user()\n",
        },
        status=FAIL,
        path="tests/test_users.py",
        line=1,
    ),
    Case("no tests", files={"pyproject.toml": MINIMAL_PYPROJECT}, status=NOT_APPLICABLE),
]


@pytest.mark.parametrize("case", TST004, ids=case_ids(TST004))
def test_tst004(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "TST-004", case)


def test_asserts_ignores_plain_calls_and_names() -> None:
    import ast

    tree = ast.parse("def f():\n    run()\n    value.assertion\n")
    assert not asserts(tree)
    assert asserts(tree, frozenset({"run"}))


# ----- TST-005 -------------------------------------------------------------------------------
SERVICE = "class UserService:\n    def get(self):\n        return 1\n"
CRUD_LAYOUT = {
    "pyproject.toml": MINIMAL_PYPROJECT,
    "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
    "app/crud/__init__.py": "from app.crud.user import get_user\n",
    "app/crud/user.py": "def get_user():\n    return 1\n",
    "app/crud/constants.py": "PAGE = 10\n",
    "app/services/_mailer.py": "def send():\n    return 1\n",
    "app/services/billing/__init__.py": "def charge():\n    return 1\n",
    "tests/crud/user_test.py": "def test_get_user_known_returns_one():\n    assert 1\n",
    "tests/unit/test_mailer.py": "def test_send_any_returns_one():\n    assert 1\n",
    "tests/unit/test_billing.py": "def test_charge_any_returns_one():\n    assert 1\n",
}
TST005 = [
    Case("golden passes"),
    Case(
        "a service without its test module",
        {"tests/unit/test_note_service.py": None},
        WARN,
        path="src/services/note_service.py",
        message="1 of 8",
    ),
    Case(
        "no layer has tests",
        {rel: None for rel in TESTS_OF if rel.startswith("tests/unit/")},
        FAIL,
        paths=("src/services/note_service.py", "src/repositories/base.py"),
    ),
    Case("crud/, *_test.py, packages, private modules, app/ layout", files=CRUD_LAYOUT),
    Case(
        "a package __init__ with code needs test_<package>.py",
        files={**CRUD_LAYOUT, "tests/unit/test_billing.py": None},
        status=WARN,
        path="app/services/billing/__init__.py",
    ),
    Case(
        "no services or repositories",
        files={"pyproject.toml": MINIMAL_PYPROJECT, "app/main.py": SERVICE},
        status=NOT_APPLICABLE,
    ),
]


@pytest.mark.parametrize("case", TST005, ids=case_ids(TST005))
def test_tst005(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "TST-005", case)


# ----- TST-007 -------------------------------------------------------------------------------
NO_GATE = {
    "pyproject.toml": pyproject_without("fail_under = 80\n"),
    CI: replace_once(CI_TEXT, " --cov-fail-under=80", ""),
}
LOW_GATE = {
    **NO_GATE,
    "pyproject.toml": replace_once(PYPROJECT, "fail_under = 80", "fail_under = 70"),
}
OWN_GATES = {
    "pyproject.toml": MINIMAL_PYPROJECT,
    ".coveragerc": "[report]\n# fail_under = 95\nfail_under = 85\n",
    "Makefile": "test:\n\tuv run coverage report --fail-under=90\n",
}
TST007 = [
    Case("golden passes"),
    Case("no gate anywhere", NO_GATE, FAIL, path="pyproject.toml", message="no coverage gate"),
    Case(
        "a gate below 80",
        LOW_GATE,
        FAIL,
        path="pyproject.toml",
        line=line_number(PYPROJECT, "fail_under = 80"),
    ),
    Case(
        "a commented-out gate does not count",
        {**NO_GATE, "Makefile": "test:\n\t# pytest --cov-fail-under=90\n\tpytest\n"},
        FAIL,
    ),
    Case("only the CI flag", {"pyproject.toml": NO_GATE["pyproject.toml"]}, path=CI),
    Case(
        ".coveragerc and a Makefile under backend/",
        files={f"backend/{rel}": text for rel, text in OWN_GATES.items()},
        path="backend/.coveragerc",
        line=3,
    ),
]


@pytest.mark.parametrize("case", TST007, ids=case_ids(TST007))
def test_tst007(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "TST-007", case)
