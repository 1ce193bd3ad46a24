"""STY rules: lint density, formatting, tool config, length limits, docstrings, annotations."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.results import Status
from tests.unit.scanners.rules.harness import (
    FAIL,
    NOT_APPLICABLE,
    WARN,
    Case,
    case_ids,
    check,
    golden_files,
    line_number,
    replace_once,
    run_rule,
)

GOLDEN = golden_files()
PYPROJECT = str(GOLDEN["pyproject.toml"])
UTIL = "src/core/util.py"
BARE = {"pyproject.toml": '[project]\nname = "svc"\nversion = "1"\n', "README.md": "# svc\n"}


def function(name: str, body_lines: int, decorators: int = 0) -> str:
    """A documented function whose def-to-end span is `body_lines + 2` lines."""
    head = "".join("@staticmethod\n" for _ in range(decorators))
    body = "".join(f"    x{i} = {i}\n" for i in range(body_lines))
    return f'{head}def {name}() -> None:\n    """Do it."""\n{body}'


def without_ruff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the scanner's ruff unavailable for one test."""
    monkeypatch.setattr("scanners.analysis.lint.ruff_binary", lambda: None)


# ----- STY-001 ---------------------------------------------------------------------------------
PRINTS = (
    '"""Debug helpers."""\n\n\ndef show(value: int) -> None:\n    """Show."""\n    print(value)\n'
)
MESSY = "import os, sys\ndef f(x):\n    print(x)\n"
FAKE_SECRET = (
    '"""Login tests."""\n\n\ndef test_login() -> None:\n    """Log in."""\n'
    '    password = "hunter2"\n    assert password\n    assert len(password) == 7\n'
)
STY001 = [
    Case("golden passes", message="clean"),
    Case("asserts and fake secrets in tests pass", {"tests/unit/test_login.py": FAKE_SECRET}),
    Case(
        "a few findings warn",
        {UTIL: PRINTS},
        WARN,
        path=UTIL,
        line=6,
        message="per 1,000 lines",
    ),
    Case("a syntax error counts", {UTIL: "def broken(:\n"}, WARN, path=UTIL, line=1),
    Case(
        "dense findings fail", files={**BARE, "app/main.py": MESSY}, status=FAIL, path="app/main.py"
    ),
    Case("no python is not applicable", files=BARE, status=NOT_APPLICABLE),
]


@pytest.mark.parametrize("case", STY001, ids=case_ids(STY001))
def test_sty001_clean_lint(tmp_path: Path, case: Case) -> None:
    result = check(tmp_path, "STY-001", case)
    if case.status in (WARN, FAIL):
        assert all(e.message[:1].isupper() for e in result.evidence)


def test_sty001_warns_when_ruff_cannot_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    without_ruff(monkeypatch)
    check(tmp_path, "STY-001", Case("no ruff", status=WARN, message="did not run"))


# ----- STY-002 ---------------------------------------------------------------------------------
STY002 = [
    Case("golden passes"),
    Case("unformatted code fails", {UTIL: "x = {'a':1}\n"}, FAIL, path=UTIL, message="1 of"),
    Case("unparsable code fails", {UTIL: "def broken(:\n"}, FAIL, path=UTIL),
    Case("no python is not applicable", files=BARE, status=NOT_APPLICABLE),
]


@pytest.mark.parametrize("case", STY002, ids=case_ids(STY002))
def test_sty002_clean_format(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STY-002", case)


def test_sty002_warns_when_ruff_cannot_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    without_ruff(monkeypatch)
    check(tmp_path, "STY-002", Case("no ruff", status=WARN, path="pyproject.toml"))


# ----- STY-003 ---------------------------------------------------------------------------------
BLACK_88 = replace_once(
    PYPROJECT, "[tool.black]\nline-length = 100", "[tool.black]\nline-length = 88"
)
NOT_STRICT = replace_once(PYPROJECT, "strict = true\n", "")
NO_LENGTHS = PYPROJECT.replace("line-length = 100\n", "")
SEPARATE_FILES = {
    **BARE,
    "app/main.py": "VALUE = 1\n",
    "ruff.toml": "line-length = 100\n",
    "mypy.ini": "[mypy]\nstrict = True\n",
}
STY003 = [
    Case("golden passes"),
    Case("ruff.toml and mypy.ini pass", files=SEPARATE_FILES),
    Case(
        "black at 88 fails",
        {"pyproject.toml": BLACK_88},
        FAIL,
        path="pyproject.toml",
        line=line_number(BLACK_88, "line-length = 88"),
        message="does not follow",
    ),
    Case(
        "mypy without strict fails",
        {"pyproject.toml": NOT_STRICT},
        FAIL,
        path="pyproject.toml",
        line=line_number(PYPROJECT, "[tool.mypy]"),
    ),
    Case(
        "no line length fails",
        {"pyproject.toml": NO_LENGTHS},
        FAIL,
        path="pyproject.toml",
        line=line_number(PYPROJECT, "[tool.ruff]"),
    ),
    Case(
        "no pyproject fails",
        files={"app/main.py": "VALUE = 1\n"},
        status=FAIL,
        path="pyproject.toml",
    ),
]


@pytest.mark.parametrize("case", STY003, ids=case_ids(STY003))
def test_sty003_tool_config(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STY-003", case)


# ----- STY-004 / STY-005 -----------------------------------------------------------------------
LONG_FUNCTION = '"""Helpers."""\n\n\n' + function("long_one", 49)
EXACT_FUNCTION = '"""Helpers."""\n\n\n' + function("exact", 48, decorators=3)
STY004 = [
    Case("golden passes"),
    Case("fifty lines with decorators pass", {UTIL: EXACT_FUNCTION}),
    Case("long tests are not judged", {"tests/unit/test_long.py": LONG_FUNCTION}),
    Case(
        "fifty-one lines fail",
        {UTIL: LONG_FUNCTION},
        FAIL,
        path=UTIL,
        line=4,
        message="longer than 50",
    ),
    Case(
        "no functions is not applicable",
        files={**BARE, "app/main.py": "X = 1\n"},
        status=NOT_APPLICABLE,
    ),
]


@pytest.mark.parametrize("case", STY004, ids=case_ids(STY004))
def test_sty004_short_functions(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STY-004", case)


def module(lines: int) -> str:
    """A module of exactly `lines` lines, newline-terminated."""
    return '"""Constants."""\n' + "".join(f"X{i} = {i}\n" for i in range(lines - 1))


STY005 = [
    Case("golden passes"),
    Case("five hundred lines pass", {UTIL: module(500)}),
    Case("long test modules are not judged", {"tests/unit/test_big.py": module(900)}),
    Case(
        "five hundred and one lines fail",
        {UTIL: module(501)},
        FAIL,
        path=UTIL,
        message="longer than 500",
    ),
    Case("no app code is not applicable", files=BARE, status=NOT_APPLICABLE),
]


@pytest.mark.parametrize("case", STY005, ids=case_ids(STY005))
def test_sty005_short_files(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STY-005", case)


# ----- STY-006 ---------------------------------------------------------------------------------
UNDOCUMENTED = (
    '"""Helpers."""\n\n\ndef _private() -> None:\n    pass\n\n\ndef public() -> None:\n    pass\n'
)
MISSING_ARG = (
    '"""Helpers."""\n\n\ndef add(a: int, b: int) -> int:\n    """Add.\n\n    Args:\n'
    '        a: The first.\n\n    Returns:\n        The sum.\n    """\n    return a + b\n'
)
STY006 = [
    Case("golden passes"),
    Case(
        "undocumented tests pass", {"tests/unit/test_bare.py": "def test_x() -> None:\n    pass\n"}
    ),
    Case(
        "a public function without docstring fails", {UTIL: UNDOCUMENTED}, FAIL, path=UTIL, line=8
    ),
    Case(
        "an undocumented argument fails",
        {UTIL: MISSING_ARG},
        FAIL,
        path=UTIL,
        line=4,
        message="docstring",
    ),
]


@pytest.mark.parametrize("case", STY006, ids=case_ids(STY006))
def test_sty006_google_docstrings(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STY-006", case)


def test_sty006_warns_when_ruff_cannot_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    without_ruff(monkeypatch)
    check(tmp_path, "STY-006", Case("no ruff", status=WARN, message="did not run"))


# ----- STY-007 / STY-008 -----------------------------------------------------------------------
NO_RETURN = '"""Helpers."""\n\n\ndef double(x: int):\n    """Double."""\n    return 2 * x\n'
ANY_PARAM = (
    '"""Helpers."""\n\nfrom typing import Any as Anything\n\n\n'
    'def show(x: Anything) -> None:\n    """Show."""\n'
)
ANY_VARIABLE = '"""Helpers."""\n\nimport typing as t\n\nVALUE: t.Any = None\n'
NESTED_ANY = (
    '"""Helpers."""\n\nfrom typing import Any\n\n\n'
    'def load(raw: str) -> dict[str, Any]:\n    """Load."""\n    return {}\n'
)
STY007 = [
    Case("golden passes"),
    Case("an Any parameter is STY-008's business", {UTIL: ANY_PARAM}),
    Case("unannotated tests pass", {"tests/unit/test_bare.py": "def test_x():\n    pass\n"}),
    Case("a missing return type fails", {UTIL: NO_RETURN}, FAIL, path=UTIL, line=4),
]


@pytest.mark.parametrize("case", STY007, ids=case_ids(STY007))
def test_sty007_full_annotations(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STY-007", case)


STY008 = [
    Case("golden passes"),
    Case("Any in tests is not judged", {"tests/unit/test_any.py": ANY_VARIABLE}),
    Case("an aliased Any parameter fails", {UTIL: ANY_PARAM}, FAIL, path=UTIL, line=6),
    Case("a module-alias Any variable fails", {UTIL: ANY_VARIABLE}, FAIL, path=UTIL, line=5),
    Case(
        "Any nested in a type warns", {UTIL: NESTED_ANY}, WARN, path=UTIL, line=6, message="contain"
    ),
]


@pytest.mark.parametrize("case", STY008, ids=case_ids(STY008))
def test_sty008_no_any(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STY-008", case)


# ----- robustness of every rule of the SEC, PERF, ASY and STY families -------------------------
CODE_RULES = [
    *(f"SEC-{n:03d}" for n in range(1, 11)),
    "PERF-001",
    "PERF-002",
    "ASY-001",
    "ASY-002",
    "ASY-003",
    *(f"STY-{n:03d}" for n in range(1, 9)),
]
HOSTILE = {
    "src/core/broken.py": "def broken(:\n    async with httpx.AsyncClient() as c:\n",
    "src/core/binary.py": b"\x00\x01\x02 binary",
    "src/core/deep.py": "x = " + "[" * 600 + "]" * 600 + "\n",
}


@pytest.mark.parametrize("rule_id", CODE_RULES)
def test_code_rules_survive_unparsable_files(tmp_path: Path, rule_id: str) -> None:
    result = run_rule(tmp_path, rule_id, Case("hostile files", HOSTILE))
    assert result.status not in (Status.ERROR, Status.NOT_APPLICABLE), result.message
