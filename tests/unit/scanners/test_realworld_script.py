"""scripts/realworld.py: records verdicts of checkouts and reports every one that changes."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.gitrepo import commit_all, golden_repo, write_files

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "realworld.py"


def _script() -> ModuleType:
    """The script as the module `realworld` (importable: its scans run in spawned processes)."""
    folder = str(SCRIPT.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module("realworld")


@pytest.fixture
def setup(tmp_path: Path) -> tuple[ModuleType, Path, Path]:
    """The script, a folder with one checkout (`acme+api`, the golden project) and its record."""
    checkouts = tmp_path / "checkouts"
    golden_repo(checkouts / "acme+api")
    record = tmp_path / "record.json"
    record.write_text(json.dumps({"repositories": [{"repo": "acme/api", "commit": "0"}]}))
    return _script(), checkouts, record


def test_record_then_recheck_is_clean(
    setup: tuple[ModuleType, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    script, checkouts, record = setup
    args = ["--checkouts", str(checkouts), "--record-file", str(record)]
    assert script.main([*args, "--record"]) == 0
    entry = json.loads(record.read_text())["repositories"][0]
    assert entry["verdicts"]["FW-001"] == "pass"
    assert entry["level"] == "gold"
    capsys.readouterr()
    assert script.main(args) == 0
    assert "acme/api: as recorded" in capsys.readouterr().out


def test_a_changed_verdict_is_printed_and_fails(
    setup: tuple[ModuleType, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    script, checkouts, record = setup
    args = ["--checkouts", str(checkouts), "--record-file", str(record)]
    script.main([*args, "--record"])
    repo = checkouts / "acme+api"
    write_files(repo, {"uv.lock": None})
    commit_all(repo, "chore: drop the lock")
    capsys.readouterr()
    assert script.main(args) == 1
    out = capsys.readouterr().out
    assert "DEP-001: recorded pass, now fail" in out
    assert "checkout is at" in out  # the record names the older commit


def test_a_missing_checkout_fails(
    setup: tuple[ModuleType, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    script, _, record = setup
    assert script.main(["--checkouts", "/nonexistent", "--record-file", str(record)]) == 1
    assert "acme/api: no checkout at" in capsys.readouterr().out


def test_clone_commands_name_the_recorded_commit(
    setup: tuple[ModuleType, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    script, _, record = setup
    assert script.main(["--clone-commands", "--record-file", str(record)]) == 0
    out = capsys.readouterr().out
    assert "git clone -q https://github.com/acme/api.git acme+api" in out
    assert "checkout -q 0" in out


def test_the_committed_record_is_well_formed() -> None:
    data = _script().load_record()
    repos = data["repositories"]
    assert len(repos) >= 15
    for entry in repos:
        assert entry["commit"], entry["repo"]
        assert entry["verdicts"], entry["repo"]
        assert entry["classes"], f"{entry['repo']} names no layout class"


def test_a_scan_over_the_cpu_limit_is_a_difference_unless_marked_as_stress() -> None:
    script = _script()
    outcome = script.Outcome("", {"FW-001": "pass"}, {}, 12.5, 100.0, "gold")
    entry = {"repo": "a/b", "commit": "0", "project_dir": "", "verdicts": {"FW-001": "pass"}}
    assert script.compare(entry, outcome) == ["scan took 12.5 CPU s, over the 10 s limit"]
    assert script.compare({**entry, "stress": "416k lines"}, outcome) == []
    assert script.compare(entry, script.Outcome("", {"FW-001": "pass"}, {}, 9.9, 1.0, "x")) == []
