"""`yardstick scan --coverage/--junit/--mypy`: measured results reach the report rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanners.cli import main
from tests.gitrepo import make_repo
from tests.unit.scanners.test_measured import JUNIT, MYPY_FAIL, cobertura

PROJECT = {
    "pyproject.toml": "[project]\nname = 'svc'\n",
    "src/app/__init__.py": "",
    "src/app/services/billing.py": "def total() -> int:\n    return 1\n",
    "src/app/repositories/bills.py": "def load() -> int:\n    return 1\n",
    "tests/unit/test_calc.py": "def test_calc_adds_numbers_sum() -> None:\n    assert 1\n",
}
RULES = "TST-006,TST-008,STY-009"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """main(argv) -> (exit status, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with both layers; a private cache."""
    monkeypatch.setenv("YARDSTICK_CACHE_DIR", str(tmp_path / "cache"))
    return make_repo(tmp_path / "repo", PROJECT)


def statuses(out: str) -> dict[str, tuple[str, str]]:
    """rule id -> (status, message) from a JSON report."""
    return {r["rule_id"]: (r["status"], r["message"]) for r in json.loads(out)["results"]}


def test_scan_reads_coverage_junit_and_mypy_files(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ci = "/runner/work/svc/src/app/"
    coverage = tmp_path / "coverage.xml"
    coverage.write_bytes(
        cobertura(
            {
                f"{ci}services/billing.py": [(1, 1), (2, 1)],
                f"{ci}repositories/bills.py": [(1, 1), (2, 0)],
            }
        )
    )
    junit, mypy = tmp_path / "junit.xml", tmp_path / "mypy.txt"
    junit.write_bytes(JUNIT)
    mypy.write_text(MYPY_FAIL, encoding="utf-8")
    code, out, _ = run(
        capsys, "scan", str(repo), "--only", RULES, "--format", "json",
        "--coverage", str(coverage), "--junit", str(junit), "--mypy", str(mypy),
    )  # fmt: skip
    assert code == 0
    found = statuses(out)
    assert found["TST-006"] == ("fail", "services 100.0%, repositories 50.0% (need 80% each)")
    assert found["TST-008"] == ("fail", "2 of 5 tests failed")
    assert found["STY-009"][0] == "fail"


def test_scan_without_reports_leaves_report_rules_not_applicable(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "scan", str(repo), "--only", RULES, "--format", "json")
    assert code == 0
    assert {status for status, _ in statuses(out).values()} == {"not_applicable"}


@pytest.mark.parametrize(
    ("option", "content", "fragment"),
    [
        ("--coverage", b"<coverage><oops></coverage>", "invalid report: the coverage report"),
        ("--junit", b"<coverage/>", "invalid report: root element is <coverage>"),
        ("--mypy", b"hello\n", "invalid report:"),
        ("--coverage", None, "invalid report: cannot read"),
    ],
)
def test_bad_report_files_exit_2_with_one_line(
    repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    content: bytes | None,
    fragment: str,
) -> None:
    path = tmp_path / "report"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run(capsys, "scan", str(repo), option, str(path))
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"yardstick: error: {fragment}")
