"""The scan's ruff runs: isolation from the repository's config, errors, limits, selectors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanners.analysis import lint
from scanners.analysis.lint import (
    SYNTAX_ERROR,
    Finding,
    LintConfig,
    code_matches,
    lint_targets,
    run_format_check,
    run_lint,
)
from scanners.context import RepoContext
from scanners.engine import scan
from tests.gitrepo import commit_all, git, make_repo

PYPROJECT = '[project]\nname = "svc"\nversion = "0"\n'
DIRTY = (
    "import os\ndef handler(x):\n    print(x)\n    try:\n        pass\n    except:\n        pass\n"
)
CLEAN = (
    '"""A clean module."""\n\n\n'
    'def double(value: int) -> int:\n    """Double it."""\n    return value * 2\n'
)


def lint_arguments() -> list[str]:
    config = LintConfig()
    return [
        "check", "--isolated", "--no-cache", "--exit-zero",
        "--select", ",".join(config.select),
        "--line-length", str(config.line_length),
        "--target-version", config.target_version,
        "--config", f"lint.pydocstyle.convention='{config.docstring_convention}'",
    ]  # fmt: skip


def context(tmp_path: Path, files: dict[str, str]) -> RepoContext:
    return RepoContext(make_repo(tmp_path / "repo", {"pyproject.toml": PYPROJECT, **files}))


def codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


def test_known_codes_found_with_repository_relative_positions(tmp_path: Path) -> None:
    ctx = context(tmp_path, {"src/app.py": DIRTY, "src/clean.py": CLEAN})
    run = ctx.lint
    assert run.ok, run.error
    assert run.ruff_version
    assert (run.files_checked, run.lines_checked) == (2, DIRTY.count("\n") + CLEAN.count("\n") + 2)
    bare = run.by_code("E722")
    assert [(f.path, f.line, f.col) for f in bare] == [("src/app.py", 6, 5)]
    assert {"F401", "T201", "ANN001", "D103", "S110"} <= codes(run.findings)
    assert all(f.path == "src/app.py" for f in run.findings)
    assert ctx.lint is run  # one run per scan


def test_repository_ruff_config_is_ignored_even_when_it_points_outside(tmp_path: Path) -> None:
    hostile = (
        PYPROJECT + '[tool.ruff]\nextend = "/etc/passwd"\nline-length = 20\n'
        '[tool.ruff.lint]\nignore = ["F401", "E722"]\n'
    )
    repo = make_repo(
        tmp_path / "repo",
        {
            "pyproject.toml": hostile,
            "ruff.toml": 'extend = "../../outside.toml"\n',
            "src/.ruff.toml": "[lint]\nselect = []\n",
            "src/app.py": DIRTY,
        },
    )
    run = RepoContext(repo).lint
    assert run.ok, run.error
    assert {"F401", "E722"} <= codes(run.findings)
    assert "E501" not in codes(run.findings)  # our line length (100), not theirs (20)


def test_syntax_errors_become_findings_and_other_files_still_lint(tmp_path: Path) -> None:
    ctx = context(tmp_path, {"src/broken.py": "def f(:\n", "src/app.py": DIRTY})
    run = ctx.lint
    assert run.ok, run.error
    broken = [f for f in run.findings if f.path == "src/broken.py"]
    assert broken
    assert {f.code for f in broken} == {SYNTAX_ERROR}
    assert broken[0].message.startswith("SyntaxError:")
    assert run.by_code("E")[0].code in {SYNTAX_ERROR, "E722"}
    assert "E722" in codes(run.findings)
    fmt = ctx.format_check
    assert fmt.error is None
    assert fmt.unparsable == ["src/broken.py"]
    assert fmt.files == ["src/app.py"]


def test_timeout_is_reported_as_an_error(tmp_path: Path) -> None:
    ctx = context(tmp_path, {f"src/m{i}.py": DIRTY * 20 for i in range(150)})
    run = run_lint(ctx, LintConfig(timeout_s=0.001))
    assert run.error == "ruff timed out after 0.001s"
    assert run.findings == []
    assert run_format_check(ctx, LintConfig(timeout_s=0.001)).error is not None


def test_oversized_output_is_refused(tmp_path: Path) -> None:
    ctx = context(tmp_path, {"src/app.py": DIRTY})
    run = run_lint(ctx, LintConfig(max_output_bytes=200))
    assert run.error is not None
    assert "over the 200 bytes limit" in run.error


def test_ruff_failures_carry_a_message(tmp_path: Path) -> None:
    ctx = context(tmp_path, {"src/app.py": DIRTY})
    bad_rule = run_lint(ctx, LintConfig(select=("XYZ9",)))
    assert bad_rule.error is not None
    assert "status 2" in bad_rule.error
    assert "XYZ9" in bad_rule.error
    missing = run_lint(ctx, LintConfig(binary=str(tmp_path / "no-such-ruff")))
    assert missing.error is not None
    assert missing.error.startswith("ruff could not start")
    assert not missing.ok


def test_targets_skip_symlinks_vendored_and_unreadable_files(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "pyproject.toml": PYPROJECT,
            "src/app.py": DIRTY,
            "src/.hidden/x.py": DIRTY,
            ".venv/lib/site.py": DIRTY,
            "vendor/lib.py": DIRTY,
            "src/blob.py": "\0binary",
            "-dash.py": CLEAN,
        },
    )
    os.symlink("app.py", repo / "src" / "link.py")
    commit_all(repo, "chore: add a link")
    assert "src/link.py" in git(repo, "ls-files")
    ctx = RepoContext(repo)
    assert lint_targets(ctx) == ["-dash.py", "src/app.py"]
    run = ctx.lint
    assert run.ok, run.error
    assert {f.path for f in run.findings} == {"src/app.py"}  # `-dash.py` is clean, not an option


def test_test_findings_are_excluded_unless_asked(tmp_path: Path) -> None:
    ctx = context(
        tmp_path,
        {
            "src/app.py": "import subprocess\nsubprocess.call('ls', shell=True)\n",
            "tests/test_app.py": "def test_x():\n    assert 1\n",
            "src/conftest.py": "assert True\n",
        },
    )
    run = ctx.lint
    assert {f.path for f in run.select("S")} == {"src/app.py"}
    assert {f.path for f in run.select(["S1", "S6"], include_tests=True)} == {
        "src/app.py",
        "src/conftest.py",
        "tests/test_app.py",
    }
    assert run.per_1000_lines(run.select("S")) == pytest.approx(
        1000 * len(run.select("S")) / run.lines_checked
    )


@pytest.mark.parametrize(
    ("code", "selector", "expected"),
    [
        ("E501", "E", True),
        ("ERA001", "E", False),
        ("PLR0913", "PL", True),
        ("PLR0913", "PLR09", True),
        ("DTZ005", "D", False),
        ("D103", "D", True),
        ("S105", "S1", True),
        ("SIM102", "S", False),
        ("ANN401", "ANN401", True),
        ("ANN001", "ANN401", False),
        ("E999", "E", True),
    ],
)
def test_code_matches_follows_ruff_selectors(code: str, selector: str, expected: bool) -> None:
    assert code_matches(code, selector) is expected


def test_scan_reports_the_ruff_version(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"pyproject.toml": PYPROJECT})
    report = scan(repo, only={"DEP-001"})
    assert set(report.tool_versions) == {"ruff"}
    assert report.tool_versions["ruff"][0].isdigit()


def test_concise_and_json_outputs_give_the_same_findings(tmp_path: Path) -> None:
    ctx = context(
        tmp_path,
        {"src/app.py": DIRTY, "src/broken.py": "def f(:\n", "tests/test_app.py": DIRTY},
    )
    run = ctx.lint
    assert run.ok, run.error
    project = ""
    json_places: dict[str, tuple[str, bool]] = {}
    items, error = lint._run_json(
        ctx.root,
        [*lint_arguments(), "--output-format", "json"],
        lint_targets(ctx),
        LintConfig(),
        {0},
    )
    assert error is None
    from_json = sorted(
        (lint._finding(ctx.root, item, project, json_places) for item in items),
        key=lambda f: (f.path, f.line, f.col, f.code),
    )
    assert run.findings == from_json
    assert any(f.code == SYNTAX_ERROR for f in run.findings)
    assert any(f.is_test for f in run.findings)
    assert any("[*]" not in f.message and f.code == "F401" for f in run.findings)  # fixable


def test_odd_concise_output_falls_back_to_json(tmp_path: Path) -> None:
    # A file name that looks like a position: the concise line is ambiguous, JSON is not.
    ctx = context(tmp_path, {"src/a:1:1: b.py": DIRTY})
    run = ctx.lint
    assert run.ok, run.error
    assert {f.path for f in run.findings} == {"src/a:1:1: b.py"}
    assert "F401" in codes(run.findings)
    assert ctx.format_check.files == ["src/a:1:1: b.py"]
    places: dict[str, tuple[str, bool]] = {}
    assert (
        lint._concise(b"src/x.py:1:1: F401 `os` imported but unused\n", frozenset(), "", places)
        is None
    )
    assert (
        lint._concise(b"src/x.py:1:1: F401 a\nsecond line\n", frozenset({"src/x.py"}), "", places)
        is None
    )
    parsed = lint._concise(
        b"src/x.py:3:5: F401 [*] `os` imported but unused\n"
        b"src/x.py:9:2: invalid-syntax: Expected\n",
        frozenset({"src/x.py"}),
        "",
        places,
    )
    assert parsed == [
        Finding("F401", "src/x.py", 3, 5, "`os` imported but unused"),
        Finding(SYNTAX_ERROR, "src/x.py", 9, 2, "SyntaxError: Expected"),
    ]
