"""The `yardstick` CLI: in-process through main(argv), plus the installed console script."""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scanners import ENGINE_VERSION
from scanners.cli import _parser as cli_parser
from scanners.cli import main
from scanners.context import RepoContext
from scanners.engine import scan as engine_scan
from scanners.report import Report
from tests.gitrepo import commit_all, git, make_repo, write_files
from tests.unit.scanners.samples import sample_rules_registered, write_standard
from tests.unit.scanners.test_formats import validate_report, validate_sarif

GOOD = {
    "README.md": "# Service\n",
    "LICENSE": "MIT\n",
    "pyproject.toml": "[project]\nname = 'svc'\n",
    "app/main.py": "x = 1\n",
}
BAD = {"pyproject.toml": "[project]\nname = 'svc'\n", "app/main.py": "# TODO\nx = 1  # TODO\n"}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Throwaway rules registered; a private cache; no colour from the environment."""
    monkeypatch.setenv("YARDSTICK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    with sample_rules_registered():
        yield


@pytest.fixture
def standard(tmp_path: Path) -> str:
    """Path of the sample standard file."""
    return str(write_standard(tmp_path / "standard"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """main(argv) -> (exit status, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(err: str, fragment: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("yardstick: error: ")
    assert fragment in lines[0]


# ----- scan ------------------------------------------------------------------------------
def test_scan_in_place_prints_the_table_and_exits_zero(
    tmp_path: Path, standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "good", GOOD)
    code, out, err = run(capsys, "scan", str(repo), "--standard", standard)
    assert code == 0
    assert err == ""
    assert "ZZA  Alpha section  (100/100, 2 of 2 rules passed)" in out
    assert "✓ PASS    ZZA-001  README present" in out
    assert "? ERROR   ZZB-002" in out  # in the standard, not implemented anywhere
    assert "\033[" not in out  # captured output is no terminal


def test_scan_frees_its_context_without_the_cyclic_collector(
    tmp_path: Path,
    standard: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = make_repo(tmp_path / "good", GOOD)
    made: list[weakref.ref[RepoContext]] = []
    real_scan = engine_scan

    def spy(root: Path, **kwargs: Any) -> Report:
        context = kwargs["context"]
        made.append(weakref.ref(context))
        context.import_graph  # noqa: B018 - cached on the context and refers back to it
        return real_scan(root, **kwargs)

    monkeypatch.setattr("scanners.cli.scan", spy)
    gc.disable()
    try:
        code, _, _ = run(capsys, "scan", str(repo), "--standard", standard)
        assert code == 0
        assert made
        assert made[0]() is None
    finally:
        gc.enable()


def test_fail_under_decides_the_exit_status(
    tmp_path: Path, standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good = make_repo(tmp_path / "good", GOOD)
    bad = make_repo(tmp_path / "bad", BAD)
    assert run(capsys, "scan", str(good), "--standard", standard, "--fail-under", "100")[0] == 0
    code, out, err = run(capsys, "scan", str(bad), "--standard", standard, "--fail-under", "50")
    assert code == 1
    assert "app/main.py:1 TODO marker" in out
    assert err.strip() == "yardstick: score 7.14, level none, below --fail-under 50"
    assert run(capsys, "scan", str(bad), "--standard", standard)[0] == 0  # default 0


def test_json_output_validates_against_the_published_schema(
    tmp_path: Path, standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "bad", BAD)
    sha = git(repo, "rev-parse", "HEAD").strip()
    code, out, _ = run(capsys, "scan", str(repo), "--standard", standard, "--format", "json")
    assert code == 0
    document = json.loads(out)
    validate_report(document)
    assert document["commit"] == sha
    assert document["repository"] == str(repo.resolve())
    assert document["standard"]["key"] == "sample"
    todo = next(r for r in document["results"] if r["rule_id"] == "ZZA-002")
    assert todo["status"] == "fail"
    assert [e["line"] for e in todo["evidence"]] == [1, 2]


def test_sarif_output_validates_against_the_official_schema(
    tmp_path: Path, standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "bad", BAD)
    code, out, _ = run(capsys, "scan", str(repo), "--standard", standard, "--format", "sarif")
    assert code == 0
    log = json.loads(out)
    validate_sarif(log)
    results = log["runs"][0]["results"]
    locations = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        for r in results
    }
    # README missing names no file: it points at the project's pyproject.toml.
    assert locations == {
        ("ZZA-001", "pyproject.toml"),
        ("ZZA-002", "app/main.py"),
        ("ZZB-001", "pyproject.toml"),
    }


def test_output_file_is_written_and_stdout_stays_empty(
    tmp_path: Path, standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "good", GOOD)
    target = tmp_path / "out" / "report.sarif"
    target.parent.mkdir()
    code, out, err = run(
        capsys, "scan", str(repo), "--standard", standard, "--format", "sarif", "-o", str(target)
    )
    assert code == 0
    assert out == ""
    assert err.strip() == "yardstick: score 100, level gold"
    validate_sarif(json.loads(target.read_text("utf-8")))


def test_unwritable_output_is_an_error(
    tmp_path: Path, standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "good", GOOD)
    missing = tmp_path / "no-such-dir" / "report.json"
    code, _, err = run(capsys, "scan", str(repo), "--standard", standard, "-o", str(missing))
    assert code == 2
    assert_one_error_line(err, "cannot write")


def test_only_runs_the_named_rules_and_suggests_on_typos(
    tmp_path: Path, standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "good", GOOD)
    code, out, _ = run(
        capsys,
        "scan",
        str(repo),
        "--standard",
        standard,
        "--format",
        "json",
        "--only",
        "zza-001, ZZB-001",
    )
    assert code == 0
    assert [r["rule_id"] for r in json.loads(out)["results"]] == ["ZZA-001", "ZZB-001"]
    code, out, err = run(capsys, "scan", str(repo), "--standard", standard, "--only", "ZZA-01")
    assert code == 2
    assert out == ""
    assert_one_error_line(err, "unknown rule 'ZZA-01' (did you mean ZZA-001")


def test_project_dir_is_passed_to_the_engine(
    tmp_path: Path, standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "mono", {f"backend/{k}": v for k, v in BAD.items()})
    code, out, _ = run(
        capsys,
        "scan",
        str(repo),
        "--standard",
        standard,
        "--format",
        "json",
        "--project-dir",
        "backend",
    )
    assert code == 0
    document = json.loads(out)
    assert document["project_dir"] == "backend"
    todo = next(r for r in document["results"] if r["rule_id"] == "ZZA-002")
    assert todo["evidence"][0]["path"] == "backend/app/main.py"


def test_ref_of_a_local_repository_is_checked_out_through_the_workspace(
    tmp_path: Path, standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "repo", BAD)
    old = git(repo, "rev-parse", "HEAD").strip()
    write_files(repo, {"README.md": "# now\n"})
    commit_all(repo, "docs: readme")
    code, out, _ = run(
        capsys, "scan", str(repo), "--standard", standard, "--format", "json", "--ref", old
    )
    assert code == 0
    document = json.loads(out)
    assert document["commit"] == old
    assert next(r for r in document["results"] if r["rule_id"] == "ZZA-001")["status"] == "fail"
    assert list((tmp_path / "cache" / "checkouts").iterdir()) == []  # scratch tree removed
    assert list((tmp_path / "cache" / "mirrors").glob("*.git"))  # the mirror stays cached


def test_file_urls_need_allow_local(
    tmp_path: Path, standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "repo", GOOD)
    url = f"file://{repo}"
    code, _, err = run(capsys, "scan", url, "--standard", standard)
    assert code == 2
    assert_one_error_line(err, "--allow-local")
    code, out, _ = run(
        capsys, "scan", url, "--standard", standard, "--allow-local", "--format", "json"
    )
    assert code == 0
    assert json.loads(out)["repository"] == url


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        ("ext::sh -c touch% /tmp/pwned", "transport helpers"),
        ("http://github.com/org/repo", "scheme 'http' is not allowed"),
        ("git@host:-oProxyCommand=x", "invalid ssh URL"),
    ],
)
def test_refused_urls_exit_2_with_one_line(
    target: str, fragment: str, standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "scan", target, "--standard", standard)
    assert code == 2
    assert out == ""
    assert_one_error_line(err, fragment)


def test_missing_folder_and_bad_standard_exit_2(
    tmp_path: Path, standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "scan", str(tmp_path / "nope"), "--standard", standard)
    assert code == 2
    assert_one_error_line(err, "no such folder")
    bad_standard = tmp_path / "broken.yaml"
    bad_standard.write_text("key: x\nname: y\nsections: {}\n")
    code, _, err = run(capsys, "scan", str(tmp_path), "--standard", str(bad_standard))
    assert code == 2
    assert_one_error_line(err, "invalid standard")
    code, _, err = run(capsys, "rules", "--standard", str(tmp_path / "missing.yaml"))
    assert code == 2
    assert_one_error_line(err, "cannot read standard file")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["scan"], "the following arguments are required: PATH_OR_URL"),
        (["scan", ".", "--fail-under", "150"], "150 is not between 0 and 100"),
        (["scan", ".", "--fail-under", "lots"], "'lots' is not a number"),
        (["scan", ".", "--format", "xml"], "invalid choice: 'xml'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "required: COMMAND"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert_one_error_line(err, fragment)


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert (code, out.strip()) == (0, f"yardstick {ENGINE_VERSION}")
    code, out, _ = run(capsys, "scan", "--help")
    assert code == 0
    assert "--fail-under N" in out
    assert "yardstick explain DEP-001" in out


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (sub)command's parser with its words, `advisories update` included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from _commands(sub, (*path, name))


def test_every_command_describes_itself_and_its_options() -> None:
    lacking = []
    for words, parser in _commands(cli_parser()):
        if not parser.description:
            lacking.append(f"{' '.join(words)}: no description")
        lacking += [
            f"{' '.join(words)} {action.option_strings or action.dest}: no help"
            for action in parser._actions
            if not action.help and not isinstance(action, argparse._SubParsersAction)
        ]
    assert not lacking, lacking


@pytest.mark.parametrize("words", [["scan"], ["rules"], ["explain"], ["advisories", "update"]])
def test_command_help_opens_with_what_it_does(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, *words, "--help")
    assert code == 0
    usage, description = out.split("\n\n")[:2]
    assert usage.startswith(f"usage: yardstick {' '.join(words)}")
    assert description[0].isupper(), description
    assert description.rstrip().endswith("."), description


# ----- rules and explain -----------------------------------------------------------------
def test_rules_lists_every_rule_in_three_formats(
    standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "rules", "--standard", standard)
    assert code == 0
    assert out.splitlines()[0].split() == ["ZZA-001", "critical", "static", "README", "present"]
    assert len(out.splitlines()) == 4

    code, out, _ = run(capsys, "rules", "--standard", standard, "--format", "json")
    document = json.loads(out)
    assert document["standard"]["version"] == "1.2"
    rows = {row["id"]: row for row in document["rules"]}
    assert set(rows) == {"ZZA-001", "ZZA-002", "ZZB-001", "ZZB-002"}
    assert rows["ZZA-002"]["evaluation"] == "history"
    assert rows["ZZA-001"]["implemented"] is True
    assert rows["ZZB-002"]["implemented"] is False

    code, out, _ = run(capsys, "rules", "--standard", standard, "--format", "markdown")
    assert out.startswith("# Rules reference: Sample Standard (1.2)")
    assert "## ZZA: Alpha section" in out
    assert "| ZZB-002 | info | attest | Team reviews monthly |" in out
    assert "## Retired ids\n\nZZA-099" in out


def test_rules_of_the_bundled_standard(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "--format", "json")
    assert code == 0
    ids = [row["id"] for row in json.loads(out)["rules"]]
    assert ids[0] == "DEP-001"
    assert len(ids) == len(set(ids)) > 100


def test_explain_prints_everything_known_about_a_rule(
    standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "explain", "zza-001", "--standard", standard)
    assert code == 0
    for fragment in (
        "ZZA-001: README present",
        "section:     ZZA (Alpha section)",
        "severity:    critical (weight 8)",
        "evaluation:  static",
        "Why readme present matters.",
        "Add what ZZA-001 asks for.",
        "README.md exists at the repository root.",  # the class docstring
        "Looks for README.md at the repository root",  # its heuristic
        "The standard: Alpha Heading",
        "Alpha rules keep a README.md in the repository.",  # the standard's own text
    ):
        assert fragment in out
    assert "Beta rules" not in out


def test_explain_says_when_no_code_implements_a_rule(
    standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "explain", "ZZB-002", "--standard", standard)
    assert code == 0
    assert "Not implemented by this engine" in out


def test_explain_unknown_rule_suggests_close_ids(
    standard: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "explain", "ZZA-01", "--standard", standard)
    assert code == 2
    assert out == ""
    assert_one_error_line(err, "unknown rule 'ZZA-01' (did you mean ZZA-001")
    code, _, err = run(capsys, "explain", "NOPE", "--standard", standard)
    assert code == 2
    assert err.strip() == "yardstick: error: unknown rule 'NOPE'"


# ----- the installed console script ------------------------------------------------------
def test_installed_console_script(tmp_path: Path, standard: str) -> None:
    script = Path(sys.executable).parent / "yardstick"
    assert script.is_file(), "the project's `yardstick` console script is not installed"
    repo = make_repo(tmp_path / "repo", GOOD)
    env = {**os.environ, "YARDSTICK_CACHE_DIR": str(tmp_path / "cache")}

    def call(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    # A fresh process knows none of the throwaway rules: every rule is `error`, no score.
    done = call("scan", str(repo), "--standard", standard, "--format", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    validate_report(document)
    assert document["score"] is None
    assert {r["status"] for r in document["results"]} == {"error"}
    assert call("scan", str(repo), "--standard", standard, "--fail-under", "10").returncode == 1
    done = call("explain", "NOPE-001", "--standard", standard)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("yardstick: error: unknown rule 'NOPE-001'")
    done = call("scan", "ext::sh -c id")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
