"""DSEC-003: locked versions against the offline OSV fixture database."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.advisories import ENV_VAR
from scanners.results import Status
from scanners.rules.dsec_advisories import NO_DATABASE
from tests.gitrepo import golden_files
from tests.unit.scanners.rules.harness import (
    FAIL,
    NOT_APPLICABLE,
    Case,
    case_ids,
    check,
    replace_once,
    run_rule,
)

OSV_DIR = Path(__file__).parents[3] / "fixtures" / "osv"
LOCK = str(golden_files()["uv.lock"])


def package_line(text: str, name: str) -> int:
    return text.splitlines().index(f'name = "{name}"') + 1


def locked(text: str, name: str, old: str, new: str) -> str:
    return replace_once(
        text, f'name = "{name}"\nversion = "{old}"', f'name = "{name}"\nversion = "{new}"'
    )


OLD_MAKO = locked(LOCK, "mako", "1.4.3", "1.3.10")
EDGES = locked(locked(LOCK, "starlette", "1.10.0", "0.40.1"), "urllib3", "2.8.0", "2.7.2")
FORKED = replace_once(
    LOCK,
    'name = "pyjwt"\n',
    'name = "pyjwt"\nversion = "2.14.2"\nsource = { registry = "https://pypi.org/simple" }\n'
    'resolution-markers = ["python_full_version >= \'3.15\'"]\n\n[[package]]\nname = "pyjwt"\n',
)
CASES = [
    Case("golden passes", message="none among 4 known advisories"),
    Case(
        "an affected mako",
        {"uv.lock": OLD_MAKO},
        FAIL,
        path="uv.lock",
        line=package_line(OLD_MAKO, "mako"),
        message="1 locked package version(s)",
    ),
    Case(
        "a lock fork with one affected pyjwt",
        {"uv.lock": FORKED},
        FAIL,
        path="uv.lock",
        line=package_line(FORKED, "pyjwt"),
        message="with 1 known advisory",
    ),
    Case("versions just past last_affected and the list", {"uv.lock": EDGES}, prefix="backend/"),
    Case("no uv.lock", {"uv.lock": None}, NOT_APPLICABLE, message="no uv.lock"),
    Case("unparsable uv.lock", {"uv.lock": "[[package]\n"}, NOT_APPLICABLE, message="parsed"),
]


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_dsec003(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case) -> None:
    monkeypatch.setenv(ENV_VAR, str(OSV_DIR))
    check(tmp_path, "DSEC-003", case)


def test_dsec003_evidence_names_advisory_and_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, str(OSV_DIR))
    result = run_rule(tmp_path, "DSEC-003", Case("mako", {"uv.lock": OLD_MAKO}))
    (evidence,) = result.evidence
    assert evidence.message == (
        "mako 1.3.10 has OSV-TEST-0001 (CVE-2099-0001): Template sandbox escape; fixed in 1.3.11"
    )


def test_dsec003_without_database_is_not_applicable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "no-db"))
    result = run_rule(tmp_path, "DSEC-003", Case("golden"))
    assert result.status == NOT_APPLICABLE
    assert result.message == NO_DATABASE


def test_dsec003_broken_database_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    monkeypatch.setenv(ENV_VAR, str(broken))
    result = run_rule(tmp_path, "DSEC-003", Case("golden"))
    assert result.status == Status.ERROR
    assert "advisory database unreadable" in result.message
