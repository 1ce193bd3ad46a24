"""`yardstick scan --diff-base/--baseline`: only the findings a change introduces.

One real repository with history is built per module (the golden project, tagged commits);
each test checks out the state it needs. The base commit already breaks LAY-001 once (a
route importing a repository), so unchanged, shifted, new and fixed findings all show.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanners.cli import main
from scanners.fingerprints import Comparison, Finding, compare, fingerprint, normalise_message
from scanners.formats import report_to_dict, report_to_sarif
from scanners.results import Severity, Status
from tests.gitrepo import commit_all, git, golden_files, golden_repo, write_files
from tests.unit.scanners.samples import sample_report
from tests.unit.scanners.test_formats import validate_report, validate_sarif

NOTES_PATH = "src/api/routes/notes.py"
USERS_PATH = "src/api/routes/users.py"
ANCHOR = "from src.services.note_service import NoteService\n"
LEGACY = "from src.repositories import note_repository\n"  # LAY-001: a route imports a repository
DOCSTRING = '"""Note endpoints: the authenticated user\'s notes."""\n'
LONGER_DOCSTRING = (
    '"""Note endpoints: the authenticated user\'s notes.\n\n'
    "Every endpoint asks the note service; none touches the database itself.\n"
    '"""\n'
)


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


GOLDEN = golden_files()
NOTES_BASE = _replace_once(str(GOLDEN[NOTES_PATH]), ANCHOR, ANCHOR + LEGACY)
NOTES_SHIFTED = _replace_once(NOTES_BASE, DOCSTRING, LONGER_DOCSTRING)  # 3 lines further down
USERS_ADDED = _replace_once(
    str(GOLDEN[USERS_PATH]),
    "from src.services.",
    "from src.repositories import user_repository\nfrom src.services.",
)


def line_of(text: str, line: str) -> int:
    """1-based number of the first line of `text` equal to `line`."""
    return text.splitlines().index(line.rstrip("\n")) + 1


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tags: base (LAY-001 once), shifted (the same finding 3 lines lower), added (a second
    route imports a repository); refs/remotes/origin/main points at base, as after a fetch."""
    root = golden_repo(tmp_path_factory.mktemp("diff") / "repo", {NOTES_PATH: NOTES_BASE})
    git(root, "tag", "base")
    git(root, "update-ref", "refs/remotes/origin/main", "base")
    write_files(root, {NOTES_PATH: NOTES_SHIFTED})
    commit_all(root, "docs: say more about the note endpoints")
    git(root, "tag", "shifted")
    write_files(root, {USERS_PATH: USERS_ADDED})
    commit_all(root, "feat: users read their repository directly")
    git(root, "tag", "added")
    return root


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One workspace cache per module: the mirror is cloned once, then fetched."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _env(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YARDSTICK_CACHE_DIR", str(cache))
    monkeypatch.delenv("NO_COLOR", raising=False)


def at(repo: Path, tag: str, changes: dict[str, str | bytes | None] | None = None) -> Path:
    """The working tree at `tag`, with uncommitted `changes` on top."""
    git(repo, "checkout", "-q", "--force", "--detach", tag)
    git(repo, "clean", "-fdq")
    write_files(repo, changes or {})
    return repo


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """main(argv) -> (exit status, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse: --help, usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def diff_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run(capsys, "scan", *argv, "--format", "json")
    document = json.loads(out)
    validate_report(document)
    return code, document, err


# ----- --diff-base on a real history ---------------------------------------------------------
def test_a_new_violation_is_the_only_new_finding(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "scan", str(at(repo, "added")), "--diff-base", "origin/main")
    assert code == 1, err  # LAY-001 is critical: at or above the default --fail-on major
    assert "baseline:   origin/main (" in out
    new_line = line_of(USERS_ADDED, "from src.repositories import user_repository")
    assert f"{USERS_PATH}:{new_line} imports src.repositories" in out
    assert NOTES_PATH not in out  # the findings the base already had are not listed
    assert out.count("LAY-001") == 1
    # The whole standard ran: ruff also flags the new import (unused, unsorted): new too.
    assert "STY-001" in out
    summary = out.splitlines()[-1]
    assert summary.startswith("3 new, 0 fixed, 3 unchanged finding(s) against origin/main ("), out
    assert "new finding(s) at or above major (--fail-on)" in err


def test_json_lists_new_and_fixed_with_counts(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = at(repo, "added")
    code, document, _ = diff_json(capsys, str(root), "--diff-base", "base", "--only", "LAY-001")
    assert code == 1
    diff = document["diff"]
    assert diff["counts"] == {"new": 1, "fixed": 0, "unchanged": 1}
    assert diff["base"].startswith("base (")
    (new,) = diff["new"]
    assert (new["rule_id"], new["severity"], new["status"]) == ("LAY-001", "critical", "fail")
    assert new["path"] == USERS_PATH
    assert new["line"] == line_of(USERS_ADDED, "from src.repositories import user_repository")
    assert diff["fixed"] == []
    result = next(r for r in document["results"] if r["rule_id"] == "LAY-001")
    assert new["fingerprint"] in {e["fingerprint"] for e in result["evidence"]}


def test_inserting_lines_above_findings_creates_no_new_finding(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole standard: every rule's findings keep their fingerprints across a line shift."""
    code, document, err = diff_json(capsys, str(at(repo, "shifted")), "--diff-base", "base")
    assert code == 0, err
    assert document["diff"]["new"] == []
    assert document["diff"]["fixed"] == []
    assert document["diff"]["counts"]["unchanged"] >= 1
    result = next(r for r in document["results"] if r["rule_id"] == "LAY-001")
    (item,) = result["evidence"]
    assert item["line"] == line_of(NOTES_BASE, LEGACY) + 3  # it did move


def test_fixing_a_finding_lists_it_as_fixed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = at(repo, "shifted", {NOTES_PATH: _replace_once(NOTES_SHIFTED, LEGACY, "")})
    code, document, _ = diff_json(capsys, str(root), "--diff-base", "base", "--only", "LAY-001")
    assert code == 0
    assert document["diff"]["counts"] == {"new": 0, "fixed": 1, "unchanged": 0}
    (fixed,) = document["diff"]["fixed"]
    assert (fixed["rule_id"], fixed["path"]) == ("LAY-001", NOTES_PATH)
    assert fixed["line"] == line_of(NOTES_BASE, LEGACY)  # where it was in the base
    code, out, _ = run(capsys, "scan", str(root), "--diff-base", "base", "--only", "LAY-001")
    assert "0 new, 1 fixed, 0 unchanged" in out
    assert "New findings" not in out


def test_one_more_copy_of_an_existing_violation_is_one_new_finding(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    twice = _replace_once(NOTES_BASE, LEGACY, LEGACY + LEGACY)
    root = at(repo, "base", {NOTES_PATH: twice})
    code, document, _ = diff_json(capsys, str(root), "--diff-base", "base", "--only", "LAY-001")
    assert code == 1
    assert document["diff"]["counts"] == {"new": 1, "fixed": 0, "unchanged": 1}
    (new,) = document["diff"]["new"]
    assert new["path"] == NOTES_PATH


def test_sarif_marks_baseline_state_and_validates(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = at(repo, "added", {NOTES_PATH: _replace_once(NOTES_SHIFTED, LEGACY, "")})
    code, out, _ = run(
        capsys, "scan", str(root), "--diff-base", "base", "--only", "LAY-001", "--format", "sarif"
    )
    assert code == 1
    log = json.loads(out)
    validate_sarif(log)
    states = {
        (r["baselineState"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        for r in log["runs"][0]["results"]
    }
    assert states == {("new", USERS_PATH), ("absent", NOTES_PATH)}
    keys = {key for r in log["runs"][0]["results"] for key in r["partialFingerprints"]}
    assert keys == {"yardstickFinding/v2"}


def test_fail_on_and_fail_under_decide_the_exit_status(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(at(repo, "shifted"))
    argv = ("scan", root, "--diff-base", "base", "--only", "LAY-001", "-o", "/dev/null")
    assert run(capsys, *argv, "--fail-on", "info")[0] == 0  # nothing new at all
    code, _, err = run(capsys, *argv, "--fail-under", "100")
    assert code == 1  # the old finding still counts against the score
    assert "below --fail-under 100" in err
    assert "0 new, 0 fixed, 1 unchanged" in err  # written to a file: summary on stderr


# ----- --baseline ----------------------------------------------------------------------------
def test_baseline_report_round_trip(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "base.json"
    code, _, _ = run(capsys, "scan", str(at(repo, "base")), "--format", "json", "-o", str(saved))
    assert code == 0
    root = str(at(repo, "added"))
    code, document, _ = diff_json(capsys, root, "--baseline", str(saved))
    assert code == 1
    assert document["diff"]["base"] == "base.json"
    new_lay = [f["path"] for f in document["diff"]["new"] if f["rule_id"] == "LAY-001"]
    assert new_lay == [USERS_PATH]  # the old LAY-001 finding in notes.py is unchanged
    assert document["diff"]["counts"]["fixed"] == 0
    # The report just written is itself a baseline: against it nothing is new.
    again = tmp_path / "head.json"
    again.write_text(json.dumps(document), encoding="utf-8")
    code, document, _ = diff_json(capsys, root, "--baseline", str(again))
    assert code == 0
    assert document["diff"]["counts"]["new"] == document["diff"]["counts"]["fixed"] == 0


def test_baseline_of_another_standard_version_is_compared_with_a_note(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(at(repo, "base"))
    _, document, _ = diff_json(capsys, root, "--only", "LAY-001")
    document["standard"]["version"] = "1999.1"
    saved = tmp_path / "old.json"
    saved.write_text(json.dumps(document), encoding="utf-8")
    code, out, err = run(capsys, "scan", root, "--baseline", str(saved), "--only", "LAY-001")
    assert code == 0
    assert "note: the baseline was judged against standard 1999.1" in out
    assert "0 new, 0 fixed, 1 unchanged" in out
    code, _, err = run(capsys, "scan", root, "--baseline", str(saved), "--format", "json")
    assert "yardstick: note: the baseline was judged against standard 1999.1" in err
    assert "rule(s) not judged by the baseline are not compared" in err  # it ran LAY-001 only


# ----- errors and help -------------------------------------------------------------------------
def assert_one_error_line(err: str, fragment: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("yardstick: error: ")
    assert fragment in lines[0]


def test_unknown_ref_exits_2_before_scanning(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "scan", str(repo), "--diff-base", "origin/nope")
    assert code == 2
    assert out == ""
    assert_one_error_line(err, "--diff-base origin/nope: no such commit in")
    code, _, err = run(capsys, "scan", str(repo), "--diff-base=--upload-pack=evil")
    assert code == 2
    assert_one_error_line(err, "invalid --diff-base ref")


def test_diff_base_needs_a_repository_top_folder(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "scan", str(at(repo, "base") / "src"), "--diff-base", "base")
    assert code == 2
    assert_one_error_line(err, "needs the repository's top folder")
    plain = tmp_path / "plain"
    plain.mkdir()
    code, _, err = run(capsys, "scan", str(plain), "--diff-base", "main")
    assert code == 2
    assert_one_error_line(err, "needs a git repository")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "cannot read --baseline"),
        ("not json", "is not a Yardstick JSON report: not JSON"),
        ('{"schema_version": "1.1"}', "report lacks 'standard'"),
        ("OLD", "the report predates fingerprints"),
    ],
)
def test_bad_baseline_exits_2_with_one_line(
    repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    fragment: str,
) -> None:
    root = str(at(repo, "base"))
    path = tmp_path / "baseline.json"
    if content == "OLD":  # a report written before evidence carried fingerprints
        _, document, _ = diff_json(capsys, root, "--only", "LAY-001")
        for result in document["results"]:
            for item in result["evidence"]:
                item.pop("fingerprint", None)
        content = json.dumps(document)
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "scan", root, "--baseline", str(path))
    assert code == 2
    assert out == ""
    assert_one_error_line(err, fragment)


def test_usage_errors_of_the_diff_options(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "scan", str(repo), "--fail-on", "major")
    assert code == 2
    assert_one_error_line(err, "--fail-on needs --diff-base or --baseline")
    code, _, err = run(capsys, "scan", str(repo), "--diff-base", "base", "--baseline", "x.json")
    assert code == 2
    assert "not allowed with argument" in err
    code, _, err = run(capsys, "scan", str(repo), "--diff-base", "base", "--fail-on", "blocker")
    assert code == 2
    assert "invalid choice: 'blocker'" in err


def test_help_describes_the_diff_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", "--help")
    assert code == 0
    text = " ".join(out.split())
    for fragment in (
        "--diff-base REF",
        "--baseline FILE",
        "--fail-on SEVERITY",
        "default major",
        "baselineState",
        "yardstick scan . --diff-base origin/main",
        "a new finding at or above --fail-on",
    ):
        assert fragment in text, fragment


# ----- fingerprints and comparison (no repository) ---------------------------------------------
def _finding(rule: str, severity: Severity, print_: str) -> Finding:
    return Finding(rule, severity, Status.FAIL, "a.py", 1, "m", "s", print_)


def test_new_at_or_above_follows_the_severity_order() -> None:
    base = [_finding("R-001", Severity.CRITICAL, "old")]
    head = [
        base[0],
        _finding("R-002", Severity.MINOR, "minor"),
        _finding("R-003", Severity.MAJOR, "major"),
    ]
    comparison: Comparison = compare(base, head, "base")
    assert [f.fingerprint for f in comparison.new_at_or_above(Severity.CRITICAL)] == []
    assert [f.fingerprint for f in comparison.new_at_or_above(Severity.MAJOR)] == ["major"]
    assert len(comparison.new_at_or_above(Severity.INFO)) == 2
    assert compare(base, head, "base", rules={"R-001"}).counts() == {
        "new": 0,
        "fixed": 0,
        "unchanged": 1,
    }


def test_fingerprints_ignore_positions_but_not_content() -> None:
    assert normalise_message("at app/x.py:12:5, line 7, lines 3-9, L4") == (
        "at app/x.py:#, line #, lines #, L#"
    )
    same = fingerprint("R-001", "a.py", "unused at line 3", "import os", 0)
    assert same == fingerprint("R-001", "a.py", "unused at line 90", "  import os  ", 0)
    assert same != fingerprint("R-001", "a.py", "unused at line 3", "import sys", 0)
    assert same != fingerprint("R-002", "a.py", "unused at line 3", "import os", 0)
    assert same != fingerprint("R-001", "a.py", "unused at line 3", "import os", 1)


def test_sarif_and_json_carry_the_same_fingerprints() -> None:
    """One definition: the SARIF partial fingerprints are the JSON report's evidence ones."""
    report = sample_report()
    document = report_to_dict(report)
    in_json = {
        item["fingerprint"]
        for result in document["results"]
        for item in result["evidence"]
        if "fingerprint" in item
    }
    run = report_to_sarif(report)["runs"][0]
    in_sarif = {r["partialFingerprints"]["yardstickFinding/v2"] for r in run["results"]}
    pathless = fingerprint("ZZB-001", "", "", "", 0)  # the warn without evidence
    assert len(in_json) == 7
    assert in_sarif == in_json | {pathless}
