"""Report rules TST-006, TST-008 and STY-009 judged from measured results (`ctx.reports`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.context import RepoContext
from scanners.engine import evaluate_rule, scan
from scanners.measured import (
    CoverageData,
    FailedTest,
    MypyError,
    Reports,
    SuiteRun,
    TypeCheck,
)
from scanners.results import RuleResult, Status
from tests.gitrepo import golden_files, make_repo
from tests.unit.scanners.rules.harness import spec_for

SERVICE = '"""Users."""\n\n\ndef name(user: str) -> str:\n    """Name."""\n    return user\n'
PROJECT = {
    "backend/pyproject.toml": '[project]\nname = "api"\nversion = "1"\n',
    "backend/src/app/__init__.py": "",
    "backend/src/app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
    "backend/src/app/services/__init__.py": '"""Services."""\n',
    "backend/src/app/services/users.py": SERVICE,
    "backend/src/app/services/orders.py": SERVICE,
    "backend/src/app/repositories/__init__.py": "",
    "backend/src/app/repositories/users.py": SERVICE,
    "backend/tests/unit/test_users.py": "def test_users_name_returns_it():\n    assert 1\n",
}
CI = "/home/runner/work/api/api/backend/"


def judge(root: Path, rule_id: str, reports: Reports | None) -> RuleResult:
    """Evaluate one rule through the engine with the given measured results."""
    return evaluate_rule(spec_for(rule_id), RepoContext(root, reports=reports)).result


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A FastAPI project below backend/ with services and repositories layers."""
    return make_repo(tmp_path_factory.mktemp("measured") / "repo", PROJECT)


def coverage(**files: tuple[int, int]) -> Reports:
    """Reports with a coverage report made on a CI runner (absolute paths elsewhere)."""
    named = {CI + name.replace("__", "/") + ".py": counts for name, counts in files.items()}
    return Reports(coverage=CoverageData(named, "coverage.xml"))


# ----- TST-006 ---------------------------------------------------------------------------
def test_tst006_passes_when_each_layer_reaches_80_percent(project: Path) -> None:
    reports = coverage(
        src__app__services__users=(9, 10),
        src__app__services__orders=(7, 10),
        src__app__repositories__users=(8, 10),
        src__app__main=(0, 50),  # outside both layers: does not count
    )
    result = judge(project, "TST-006", reports)
    assert result.status is Status.PASS, result
    assert "services 80.0%" in result.message
    assert "repositories 80.0%" in result.message


def test_tst006_judges_each_layer_on_its_own_and_lists_least_covered_files(project: Path) -> None:
    reports = coverage(
        src__app__services__users=(10, 10),
        src__app__services__orders=(10, 10),
        src__app__repositories__users=(3, 10),
    )
    result = judge(project, "TST-006", reports)
    assert result.status is Status.FAIL, result
    assert "services 100.0%" in result.message
    assert "repositories 30.0%" in result.message
    by_path = {e.path: e.message for e in result.evidence}
    assert by_path["backend/src/app/repositories/users.py"] == "30% covered, 7 lines missed"
    assert "repositories/: 30.0% (3/10 lines)" in by_path["backend/src/app/repositories"]


def test_tst006_orders_evidence_from_the_least_covered_file(project: Path) -> None:
    reports = coverage(
        src__app__services__users=(5, 10),
        src__app__services__orders=(1, 10),
        src__app__repositories__users=(10, 10),
    )
    result = judge(project, "TST-006", reports)
    assert result.status is Status.FAIL
    files = [e.path for e in result.evidence if e.path and e.path.endswith(".py")]
    assert files[:2] == ["backend/src/app/services/orders.py", "backend/src/app/services/users.py"]


def test_tst006_warns_when_a_layer_file_is_missing_from_the_report(project: Path) -> None:
    reports = coverage(src__app__services__users=(10, 10), src__app__repositories__users=(9, 10))
    result = judge(project, "TST-006", reports)
    assert result.status is Status.WARN, result
    missing = [e for e in result.evidence if e.message == "not in the coverage report"]
    # orders.py is missing; services/__init__.py holds only a docstring and does not count
    assert [e.path for e in missing] == ["backend/src/app/services/orders.py"]


def test_tst006_fails_a_layer_absent_from_the_report(project: Path) -> None:
    reports = coverage(src__app__services__users=(10, 10), src__app__services__orders=(10, 10))
    result = judge(project, "TST-006", reports)
    assert result.status is Status.FAIL
    assert "repositories not measured" in result.message


def test_tst006_maps_json_paths_relative_to_the_package(project: Path) -> None:
    files = {
        "services/users.py": (1, 2),
        "services/orders.py": (2, 2),
        "repositories/users.py": (2, 2),
    }
    result = judge(project, "TST-006", Reports(coverage=CoverageData(files)))
    assert result.status is Status.FAIL
    assert "services 75.0%" in result.message


def test_tst006_report_of_another_project_is_an_error(project: Path) -> None:
    reports = Reports(coverage=CoverageData({"/x/other/lib/thing.py": (1, 1)}))
    result = judge(project, "TST-006", reports)
    assert result.status is Status.ERROR
    assert "names none of this checkout's files" in result.message


def test_tst006_without_layers_is_not_applicable(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"pyproject.toml": "[project]\n", "app.py": "x = 1\n"})
    result = judge(root, "TST-006", Reports(coverage=CoverageData({"app.py": (1, 1)})))
    assert result.status is Status.NOT_APPLICABLE
    assert "no services/ or repositories/ layer" in result.message


@pytest.mark.parametrize("rule_id", ["TST-006", "TST-008", "STY-009"])
def test_report_rules_without_a_measurement_say_how_to_provide_one(
    project: Path, rule_id: str
) -> None:
    for reports in (None, Reports()):
        result = judge(project, rule_id, reports)
        assert result.status is Status.NOT_APPLICABLE
        assert "yardstick scan --coverage coverage.xml" in result.message
        assert "deep scan" in result.message


def test_report_rules_repeat_why_a_measurement_is_missing(project: Path) -> None:
    reports = Reports(why={"coverage": "deep scan: `uv sync --frozen` failed: no uv.lock"})
    result = judge(project, "TST-006", reports)
    assert result.status is Status.NOT_APPLICABLE
    assert result.message.startswith("deep scan: `uv sync --frozen` failed: no uv.lock; ")


def test_tst006_passes_on_the_golden_project_fully_covered(tmp_path: Path) -> None:
    files = golden_files()
    root = make_repo(tmp_path / "golden", {k: v for k, v in files.items() if v is not None})
    layers = [r for r in files if r.startswith(("src/services/", "src/repositories/"))]
    report = {f"/build/golden/{rel}": (20, 20) for rel in layers if rel.endswith(".py")}
    result = judge(root, "TST-006", Reports(coverage=CoverageData(report)))
    assert result.status is Status.PASS, result


# ----- TST-008 ---------------------------------------------------------------------------
def test_tst008_passes_a_green_run_and_counts_skips(project: Path) -> None:
    result = judge(project, "TST-008", Reports(tests=SuiteRun(12, (), 2, "junit.xml")))
    assert result.status is Status.PASS
    assert result.message == "10 tests passed, 2 skipped (junit.xml)"


def test_tst008_lists_failing_test_ids_with_their_module(project: Path) -> None:
    failure = FailedTest(
        "tests.unit.test_users.TestName::test_x",
        "failure: assert 1 == 2",
        "tests.unit.test_users.TestName",
    )
    result = judge(project, "TST-008", Reports(tests=SuiteRun(3, (failure,))))
    assert result.status is Status.FAIL
    assert result.message == "1 of 3 tests failed"
    [evidence] = result.evidence
    assert evidence.path == "backend/tests/unit/test_users.py"
    assert evidence.message == "tests.unit.test_users.TestName::test_x: failure: assert 1 == 2"


@pytest.mark.parametrize(
    ("run", "fragment"),
    [
        (SuiteRun(0), "no test ran"),
        (SuiteRun(4, incomplete="killed after 300 s"), "did not finish: killed after 300 s"),
    ],
)
def test_tst008_fails_empty_or_unfinished_runs(project: Path, run: SuiteRun, fragment: str) -> None:
    result = judge(project, "TST-008", Reports(tests=run))
    assert result.status is Status.FAIL
    assert fragment in result.message


# ----- STY-009 ---------------------------------------------------------------------------
def test_sty009_passes_a_clean_run(project: Path) -> None:
    check = TypeCheck((), True, "Success: no issues found in 7 source files")
    result = judge(project, "STY-009", Reports(mypy=check))
    assert result.status is Status.PASS
    assert result.message == "Success: no issues found in 7 source files"


def test_sty009_lists_the_first_errors_at_their_lines(project: Path) -> None:
    errors = (
        MypyError("src/app/services/users.py", 4, "Missing return type"),
        MypyError("/elsewhere/gen.py", 1, "Bad"),
    )
    result = judge(project, "STY-009", Reports(mypy=TypeCheck(errors, True, "Found 2 errors")))
    assert result.status is Status.FAIL
    assert result.message == "mypy --strict: 2 errors in 2 files"
    first, second = result.evidence
    assert (first.path, first.line) == ("backend/src/app/services/users.py", 4)
    assert (second.path, second.message) == (None, "/elsewhere/gen.py:1: Bad")


def test_sty009_crashed_mypy_is_an_error(project: Path) -> None:
    result = judge(project, "STY-009", Reports(mypy=TypeCheck((), False, "mypy: killed")))
    assert result.status is Status.ERROR
    assert "mypy did not finish: mypy: killed" in result.message


def test_engine_scan_hands_reports_to_the_rules(project: Path) -> None:
    reports = Reports(tests=SuiteRun(1))
    report = scan(project, only={"TST-008", "STY-009"}, reports=reports)
    statuses = {o.spec.id: o.status for o in report.outcomes}
    assert statuses == {"TST-008": Status.PASS, "STY-009": Status.NOT_APPLICABLE}
