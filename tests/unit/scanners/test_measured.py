"""Measured-result parsers (coverage, JUnit, mypy) and the report-to-checkout path mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanners.measured import MAX_REPORT_BYTES, ReportParseError
from scanners.measured.parsers import (
    load_mypy_output,
    parse_coverage,
    parse_junit,
    parse_mypy,
    read_report,
)
from scanners.measured.pathmap import PathMapper, split


def cobertura(files: dict[str, list[tuple[int, int]]], sources: tuple[str, ...] = ()) -> bytes:
    """A Cobertura document as coverage.py writes it: one <class> per file."""
    source_xml = "".join(f"<source>{s}</source>" for s in sources)
    classes = "".join(
        f'<class name="{Path(name).name}" filename="{name}"><lines>'
        + "".join(f'<line number="{n}" hits="{h}"/>' for n, h in lines)
        + "</lines></class>"
        for name, lines in files.items()
    )
    return (
        f'<?xml version="1.0" ?><coverage version="7.6"><sources>{source_xml}</sources>'
        f'<packages><package name="p"><classes>{classes}</classes></package></packages></coverage>'
    ).encode()


# ----- coverage --------------------------------------------------------------------------
def test_parse_cobertura_counts_lines_once_per_file_and_keeps_sources() -> None:
    data = cobertura(
        {"app/services/a.py": [(1, 1), (2, 0), (3, 4)], "app/b.py": [(1, 0)]},
        sources=("/home/runner/work/api/src",),
    )
    report = parse_coverage(data, "coverage.xml")
    assert report.files == {"app/services/a.py": (2, 3), "app/b.py": (0, 1)}
    assert report.roots == ("/home/runner/work/api/src",)
    assert report.source == "coverage.xml"


def test_parse_cobertura_merges_a_file_listed_in_two_classes() -> None:
    doc = (
        b'<coverage><packages><package><classes><class filename="x.py"><lines>'
        b'<line number="1" hits="0"/><line number="2" hits="0"/></lines></class>'
        b'<class filename="x.py"><lines><line number="1" hits="3"/></lines></class>'
        b"</classes></package></packages></coverage>"
    )
    assert parse_coverage(doc).files == {"x.py": (1, 2)}


def test_parse_coverage_json_uses_the_summary_or_the_line_lists() -> None:
    doc = {
        "meta": {"version": "7.6"},
        "files": {
            "src/services/a.py": {"summary": {"covered_lines": 8, "num_statements": 10}},
            "src\\repositories\\r.py": {"executed_lines": [1, 2, 2], "missing_lines": [5]},
        },
    }
    report = parse_coverage(json.dumps(doc).encode())
    assert report.files == {"src/services/a.py": (8, 10), "src/repositories/r.py": (2, 3)}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"<coverage><unclosed></coverage>", "well-formed"),
        (b"<report/>", "not Cobertura"),
        (b"<coverage><packages/></coverage>", "covers no file"),
        (b'<coverage><class filename=""/></coverage>', "no filename"),
        (
            b'<coverage><class filename="a.py"><line number="x" hits="1"/></class></coverage>',
            "integer",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b"<coverage>&b;</coverage>",
            "safe",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<coverage>&x;</coverage>",
            "safe",
        ),
        (b"{not json", "not valid JSON"),
        (b'{"totals": {}}', "no `files`"),
        (b'{"files": {"a.py": {"summary": {}}}}', "no summary"),
        (b'{"files": {}}', "covers no file"),
    ],
)
def test_parse_coverage_refuses_malformed_or_unsafe_reports(data: bytes, fragment: str) -> None:
    with pytest.raises(ReportParseError, match=fragment):
        parse_coverage(data)


def test_read_report_refuses_files_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "coverage.xml"
    path.write_bytes(b"x" * 101)
    with pytest.raises(ReportParseError, match="larger than"):
        read_report(path, limit=100)
    assert read_report(path, limit=101) == b"x" * 101
    with pytest.raises(ReportParseError, match="cannot read"):
        read_report(tmp_path / "missing.xml")
    assert MAX_REPORT_BYTES >= 2**20


# ----- JUnit -----------------------------------------------------------------------------
JUNIT = b"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="2" skipped="1" tests="5">
<testcase classname="tests.unit.test_calc" name="test_add_two_numbers_sum" time="0.01"/>
<testcase classname="tests.unit.test_calc" name="test_div_by_zero_raises" time="0.01">
  <failure message="assert 1 == 2">tests/unit/test_calc.py:9: AssertionError</failure>
</testcase>
<testcase classname="tests.unit.test_calc.TestMul" name="test_big_numbers" time="0.01">
  <error message="">fixture 'db' not found
E   ValueError: boom</error>
</testcase>
<testcase classname="tests.unit.test_calc" name="test_slow_path_skipped" time="0">
  <skipped type="pytest.skip" message="slow"/>
</testcase>
<testcase classname="tests.unit.test_calc" name="test_sub_two_numbers_difference" time="0"/>
</testsuite></testsuites>"""


def test_parse_junit_lists_failures_and_errors_with_their_reason() -> None:
    run = parse_junit(JUNIT, "junit.xml")
    assert (run.total, run.skipped, run.source) == (5, 1, "junit.xml")
    assert [f.test_id for f in run.failures] == [
        "tests.unit.test_calc::test_div_by_zero_raises",
        "tests.unit.test_calc.TestMul::test_big_numbers",
    ]
    assert run.failures[0].message == "failure: assert 1 == 2"
    assert run.failures[1].message == "error: E   ValueError: boom"
    assert run.failures[1].module == "tests.unit.test_calc.TestMul"


def test_parse_junit_reports_collection_errors_counted_on_the_suite() -> None:
    doc = b'<testsuite name="pytest" errors="2" failures="0" tests="0"></testsuite>'
    run = parse_junit(doc)
    assert run.total == 0
    assert [f.test_id for f in run.failures] == ["collection"]


@pytest.mark.parametrize("data", [b"<coverage/>", b"<testsuite>", b""])
def test_parse_junit_refuses_other_documents(data: bytes) -> None:
    with pytest.raises(ReportParseError):
        parse_junit(data)


# ----- mypy ------------------------------------------------------------------------------
MYPY_FAIL = """\
src/app/services/a.py:3: error: Function is missing a return type annotation  [no-untyped-def]
src/app/services/a.py:3: note: Use "-> None" if function does not return a value
C:\\ci\\src\\app\\b.py:10:5: error: Incompatible types  [assignment]
Found 2 errors in 2 files (checked 7 source files)
"""


def test_parse_mypy_reads_errors_and_the_summary() -> None:
    check = parse_mypy(MYPY_FAIL, 1)
    assert check.checked
    assert [(e.path, e.line) for e in check.errors] == [
        ("src/app/services/a.py", 3),
        ("C:/ci/src/app/b.py", 10),
    ]
    assert check.errors[1].message == "Incompatible types  [assignment]"
    assert check.summary.startswith("Found 2 errors")


@pytest.mark.parametrize(
    ("text", "code", "checked"),
    [
        ("Success: no issues found in 3 source files\n", 0, True),
        ("Success: no issues found in 3 source files\n", None, True),
        ("", 0, True),
        ("mypy: can't read file 'src': No such file or directory\n", 2, False),
        ("Traceback (most recent call last):\n  ...\nKeyError: 'x'\n", 1, False),
        ("random text\n", None, False),
    ],
)
def test_parse_mypy_tells_a_finished_run_from_a_crash(
    text: str, code: int | None, checked: bool
) -> None:
    check = parse_mypy(text, code)
    assert check.checked is checked
    if not checked:
        assert check.summary  # says what happened


def test_load_mypy_output_needs_the_summary_line(tmp_path: Path) -> None:
    good, bad = tmp_path / "ok.txt", tmp_path / "bad.txt"
    good.write_text(MYPY_FAIL, encoding="utf-8")
    bad.write_text("src/a.py:1: error: x\n", encoding="utf-8")
    assert len(load_mypy_output(good).errors) == 2
    with pytest.raises(ReportParseError, match="no mypy summary"):
        load_mypy_output(bad)


# ----- path mapping ----------------------------------------------------------------------
TRACKED = [
    "backend/pyproject.toml",
    "backend/src/app/__init__.py",
    "backend/src/app/services/__init__.py",
    "backend/src/app/services/users.py",
    "backend/src/app/repositories/__init__.py",
    "backend/src/app/repositories/users.py",
    "backend/src/app/main.py",
    "backend/tests/unit/test_users.py",
    "tools/main.py",
]


@pytest.mark.parametrize(
    ("report_path", "roots", "expected"),
    [
        # made on a CI runner in another folder
        (
            "/home/runner/work/api/api/backend/src/app/services/users.py",
            (),
            "backend/src/app/services/users.py",
        ),
        # made inside the project folder, relative
        ("src/app/repositories/users.py", (), "backend/src/app/repositories/users.py"),
        # relative to the package, as `--cov=src/app` writes it
        ("services/users.py", (), "backend/src/app/services/users.py"),
        # Windows runner
        ("C:\\build\\api\\src\\app\\services\\users.py", (), "backend/src/app/services/users.py"),
        # relative to a Cobertura <source>: only the file name, the source gives the rest
        ("users.py", ("/ci/x/src/app/services",), "backend/src/app/services/users.py"),
        # `./` and `..` are normalised
        ("./src/app/../app/main.py", (), "backend/src/app/main.py"),
    ],
)
def test_report_paths_map_to_tracked_files(
    report_path: str, roots: tuple[str, ...], expected: str
) -> None:
    assert PathMapper(TRACKED).map([report_path], roots) == {report_path: expected}


def test_ambiguous_suffixes_follow_the_offset_of_unambiguous_matches() -> None:
    # pkg/mod.py exists twice (api/ and worker/); the report's other files show that its
    # /ci/ folder stands for api/, which settles it.
    tracked = ["api/pkg/mod.py", "api/pkg/only.py", "worker/pkg/mod.py", "worker/w.py"]
    paths = ["/ci/pkg/mod.py", "/ci/pkg/only.py"]
    assert PathMapper(tracked).map(paths) == {
        "/ci/pkg/mod.py": "api/pkg/mod.py",
        "/ci/pkg/only.py": "api/pkg/only.py",
    }
    # with no unambiguous neighbour there is nothing to learn from: not guessed
    assert PathMapper(tracked).map(["/ci/pkg/mod.py"]) == {}
    # an offset that no candidate shares does not decide either
    assert "/ci/main.py" not in PathMapper(TRACKED).map(["/ci/src/app/main.py", "/ci/main.py"])


def test_ambiguous_paths_without_evidence_stay_unmapped() -> None:
    assert PathMapper(TRACKED).map(["users.py"]) == {}
    assert PathMapper(TRACKED).map(["main.py"]) == {}


def test_a_shared_file_name_alone_does_not_map_deeper_paths() -> None:
    # lib/other/users.py shares only "users.py" with the checkout: another project's file.
    tracked = ["src/users.py", "pyproject.toml"]
    assert PathMapper(tracked).map(["lib/other/users.py"]) == {}
    assert PathMapper(tracked).map(["users.py"]) == {"users.py": "src/users.py"}
    assert PathMapper(["users.py"]).map(["/ci/any/users.py"]) == {"/ci/any/users.py": "users.py"}


def test_non_python_files_and_empty_paths_are_ignored() -> None:
    assert PathMapper(TRACKED).map(["backend/pyproject.toml", "", "/"]) == {}


def test_split_normalises_separators_drives_and_dots() -> None:
    assert split("C:\\a\\.\\b\\..\\c.py") == ("a", "c.py")
    assert split("/x//y/") == ("x", "y")
    assert split("") == ()
