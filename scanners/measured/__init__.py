"""Measured results a static scan cannot see: coverage, a test run, a mypy run.

They come from files a team hands over (`yardstick scan --coverage coverage.xml --junit
junit.xml --mypy mypy.txt`), from a coverage report uploaded to the dashboard for the commit,
or from the dashboard's opt-in deep scan. The report rules (TST-006, TST-008, STY-009) read
them from `RepoContext.reports`; when it is None they are not applicable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Largest report file the parsers accept (coverage XML/JSON, JUnit XML, mypy output).
MAX_REPORT_BYTES = 64 * 1024 * 1024
#: Most files a coverage report may list.
MAX_COVERAGE_FILES = 50_000

HOW_TO_PROVIDE = (
    "run `yardstick scan --coverage coverage.xml` (add `--junit junit.xml` for the test run, "
    "`--mypy mypy.txt` for mypy), upload the report for the commit, or ask a maintainer to "
    "enable the deep scan"
)


class ReportParseError(ValueError):
    """A report file is not what it claims to be (malformed, unsafe, too large)."""


@dataclass(frozen=True, slots=True)
class CoverageData:
    """Line coverage per file as the report names it: path -> (covered lines, total lines)."""

    files: dict[str, tuple[int, int]]
    source: str = "coverage report"
    #: Folders the report's paths are relative to (Cobertura `<source>`), when it says.
    roots: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FailedTest:
    """One failed or errored test: its id (`module.Class::test`), a short reason."""

    test_id: str
    message: str
    module: str = ""  # dotted module/class path from the report (JUnit `classname`)


@dataclass(frozen=True, slots=True)
class SuiteRun:
    """The outcome of a test suite."""

    total: int
    failures: tuple[FailedTest, ...] = ()
    skipped: int = 0
    source: str = "test report"
    #: Why the run did not finish (time limit, crash), when it did not.
    incomplete: str | None = None


@dataclass(frozen=True, slots=True)
class MypyError:
    """One mypy error: where and what (path as mypy printed it)."""

    path: str
    line: int | None
    message: str


@dataclass(frozen=True, slots=True)
class TypeCheck:
    """The outcome of `mypy --strict`."""

    errors: tuple[MypyError, ...]
    checked: bool  # mypy ran to its summary (pass or errors), rather than crashing
    summary: str = ""
    source: str = "mypy output"


@dataclass(frozen=True, slots=True)
class Reports:
    """Everything measured for one commit; a missing part is None (`why` may say why)."""

    coverage: CoverageData | None = None
    tests: SuiteRun | None = None
    mypy: TypeCheck | None = None
    #: "coverage" / "tests" / "mypy" -> why that part is missing (e.g. the deep scan failed).
    why: dict[str, str] = field(default_factory=dict)


__all__ = [
    "HOW_TO_PROVIDE",
    "MAX_COVERAGE_FILES",
    "MAX_REPORT_BYTES",
    "CoverageData",
    "FailedTest",
    "MypyError",
    "ReportParseError",
    "Reports",
    "SuiteRun",
    "TypeCheck",
]
