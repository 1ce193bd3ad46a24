"""Report renderers: JSON against docs/report-schema.json, SARIF against the official schema."""

from __future__ import annotations

import copy
import io
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from jsonschema import (  # type: ignore[import-untyped]  # no stubs in the dev group yet
    Draft4Validator,
    Draft202012Validator,
    ValidationError,
)

from scanners.fingerprints import fingerprint
from scanners.formats import (
    ReportFormatError,
    default_anchor,
    load_json,
    render_json,
    render_sarif,
    render_text,
    report_to_dict,
    report_to_sarif,
    use_colour,
)
from scanners.formats.json_report import utc_timestamp
from scanners.report import Report, RuleOutcome
from scanners.results import Evidence, RuleResult, Status
from tests.unit.scanners.samples import sample_report, sample_standard

ROOT = Path(__file__).resolve().parents[3]
REPORT_SCHEMA = json.loads((ROOT / "docs" / "report-schema.json").read_text("utf-8"))
SARIF_SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "sarif-2.1.0.json").read_text("utf-8"))
MOMENT = datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC)


def validate_report(document: Any) -> None:
    """Raise ValidationError unless `document` follows docs/report-schema.json."""
    Draft202012Validator.check_schema(REPORT_SCHEMA)
    Draft202012Validator(REPORT_SCHEMA).validate(document)


def validate_sarif(document: Any) -> None:
    """Raise ValidationError unless `document` is valid SARIF 2.1.0 (official schema)."""
    Draft4Validator(SARIF_SCHEMA).validate(document)


# ----- JSON ------------------------------------------------------------------------------
def test_json_report_follows_the_published_schema() -> None:
    document = json.loads(render_json(sample_report(), MOMENT))
    validate_report(document)
    assert document["schema_version"] == "1.1"
    assert document["standard"] == {"key": "sample", "name": "Sample Standard", "version": "1.2"}
    assert document["generated_at"] == "2026-03-04T05:06:07Z"
    assert document["tool_versions"] == {"ruff": "0.17.5"}
    assert document["notes"] == [
        {"path": "backend/big.bin", "line": None, "message": "binary file: skipped"}
    ]


def test_json_report_holds_scores_sections_and_results() -> None:
    report = sample_report()
    document = report_to_dict(report, MOMENT)
    # critical pass 8, major fail 4, minor warn 2x0.5; error and info leave the sum.
    assert document["score"] == pytest.approx(100 * 9 / 14, abs=0.01)
    assert document["level"] == "bronze"
    assert [s["code"] for s in document["sections"]] == ["ZZA", "ZZB"]
    alpha = document["sections"][0]
    assert alpha["score"] == pytest.approx(100 * 8 / 12, abs=0.01)
    assert alpha["counts"]["pass"] == 1
    assert alpha["counts"]["fail"] == 1
    failed = document["results"][1]
    assert failed["rule_id"] == "ZZA-002"
    assert failed["status"] == "fail"
    assert failed["severity"] == "major"
    assert failed["evaluation"] == "history"
    assert failed["remediation"] == "Add what ZZA-002 asks for."
    assert failed["duration_ms"] == 2.25
    assert failed["evidence"][0] == {
        "path": "backend/app/m0.py",
        "line": 1,
        "message": "TODO number 0",
        "fingerprint": fingerprint("ZZA-002", "backend/app/m0.py", "TODO number 0", "", 0),
    }
    passed = next(r for r in document["results"] if r["rule_id"] == "ZZA-001")
    assert all("fingerprint" not in item for item in passed["evidence"])  # not findings
    assert document["counts"] == {
        "pass": 1,
        "fail": 1,
        "warn": 1,
        "not_applicable": 0,
        "error": 1,
        "waived": 0,
        "manual": 0,
    }


def test_json_report_with_no_scorable_rule_has_null_score() -> None:
    report = sample_report(commit=None)
    report.outcomes = [o for o in report.outcomes if o.status is Status.ERROR]
    document = json.loads(render_json(report))
    validate_report(document)
    assert document["score"] is None
    assert document["commit"] is None
    assert document["level"] == "none"


def test_generated_at_is_utc_whatever_the_input_zone() -> None:
    paris = datetime(2026, 1, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    assert utc_timestamp(paris) == "2026-01-01T12:00:00Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", utc_timestamp())


def test_json_round_trip_through_the_loader() -> None:
    text = render_json(sample_report(), MOMENT)
    assert load_json(text) == report_to_dict(sample_report(), MOMENT)
    assert load_json(text.encode("utf-8"))["results"][1]["rule_id"] == "ZZA-002"


def test_loader_accepts_newer_minor_versions_with_unknown_fields() -> None:
    document = report_to_dict(sample_report(), MOMENT)
    document.update(schema_version="1.7", something_new=[1, 2])
    validate_report(document)
    assert load_json(json.dumps(document))["something_new"] == [1, 2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"results": []}', "schema_version"),
        ('{"schema_version": "2.0", "standard": {}, "results": [], "sections": []}', "2.0"),
        ('{"schema_version": "1.0", "standard": {}, "sections": []}', "results"),
    ],
)
def test_loader_refuses_what_it_cannot_read(text: str, message: str) -> None:
    with pytest.raises(ReportFormatError, match=re.escape(message)):
        load_json(text)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("results", 0, "status"), "bogus"),
        (("results", 0, "severity"), "blocker"),
        (("level",), "platinum"),
        (("score",), 101),
        (("generated_at",), "2026-03-04 05:06:07"),
        (("commit",), "not-a-sha"),
        (("schema_version",), "2.0"),
    ],
)
def test_report_schema_rejects_malformed_documents(path: tuple[Any, ...], value: Any) -> None:
    document = copy.deepcopy(report_to_dict(sample_report(), MOMENT))
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError):
        validate_report(document)


def test_report_schema_requires_every_documented_field() -> None:
    document = report_to_dict(sample_report(), MOMENT)
    for key in REPORT_SCHEMA["required"]:
        broken = {k: v for k, v in document.items() if k != key}
        with pytest.raises(ValidationError):
            validate_report(broken)


# ----- SARIF -----------------------------------------------------------------------------
def test_sarif_log_is_valid_against_the_official_schema() -> None:
    log = json.loads(render_sarif(sample_report(), generated_at=MOMENT))
    validate_sarif(log)
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1


def test_sarif_validator_is_not_vacuous() -> None:
    log = report_to_sarif(sample_report())
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(ValidationError):
        validate_sarif(log)


def test_sarif_driver_describes_every_rule() -> None:
    run = report_to_sarif(sample_report())["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "yardstick"
    assert driver["version"] == "0.1.0"
    ids = [rule["id"] for rule in driver["rules"]]
    assert ids == ["ZZA-001", "ZZA-002", "ZZB-001", "ZZB-002"]
    todo = driver["rules"][1]
    assert todo["name"] == "NoTODOMarkers"
    assert todo["shortDescription"]["text"] == "No TODO markers"
    assert todo["fullDescription"]["text"] == "Why no todo markers matters."
    assert "Add what ZZA-002 asks for." in todo["help"]["text"]
    assert todo["defaultConfiguration"]["level"] == "error"
    assert "ZZA" in todo["properties"]["tags"]
    levels = [rule["defaultConfiguration"]["level"] for rule in driver["rules"]]
    assert levels == ["error", "error", "warning", "note"]


def test_sarif_results_only_for_fail_and_warn_one_per_location() -> None:
    run = report_to_sarif(sample_report())["runs"][0]
    results = run["results"]
    assert {r["ruleId"] for r in results} == {"ZZA-002", "ZZB-001"}
    todo = [r for r in results if r["ruleId"] == "ZZA-002"]
    assert len(todo) == 7
    first = todo[0]
    assert first["level"] == "error"
    assert first["ruleIndex"] == 1
    assert first["message"]["text"] == "7 TODO markers: TODO number 0"
    physical = first["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "backend/app/m0.py", "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {"startLine": 1}
    fingerprints = {r["partialFingerprints"]["yardstickFinding/v2"] for r in todo}
    assert len(fingerprints) == 7


def test_sarif_warn_is_one_level_softer_and_pathless_findings_point_at_the_anchor() -> None:
    run = report_to_sarif(sample_report())["runs"][0]
    (licence,) = [r for r in run["results"] if r["ruleId"] == "ZZB-001"]
    assert licence["level"] == "note"  # minor failure = warning; a warn is one step softer
    physical = licence["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "backend/pyproject.toml"
    assert "region" not in physical


def test_sarif_anchor_falls_back_to_the_project_folder(tmp_path: Path) -> None:
    assert default_anchor("backend", None) == "backend/pyproject.toml"
    assert default_anchor("", tmp_path) == "./"
    assert default_anchor("backend", tmp_path) == "backend/"
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    assert default_anchor("", tmp_path) == "pyproject.toml"
    log = report_to_sarif(sample_report(project_dir=""), anchor="./")
    validate_sarif(log)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert "./" in uris


def test_sarif_invocation_reports_errors_and_notes() -> None:
    run = report_to_sarif(sample_report(), generated_at=MOMENT)["runs"][0]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["endTimeUtc"] == "2026-03-04T05:06:07Z"
    notices = invocation["toolExecutionNotifications"]
    assert notices[0]["level"] == "error"
    assert notices[0]["associatedRule"] == {"id": "ZZB-002"}
    assert notices[1]["level"] == "note"
    assert run["properties"]["level"] == "bronze"


def test_sarif_version_control_provenance_only_for_urls() -> None:
    run = report_to_sarif(sample_report())["runs"][0]
    assert run["versionControlProvenance"] == [
        {"repositoryUri": "https://git.example.com/org/api.git", "revisionId": "a" * 40}
    ]
    local = report_to_sarif(sample_report(repository="/srv/checkouts/api"))["runs"][0]
    assert "versionControlProvenance" not in local
    validate_sarif(report_to_sarif(sample_report(repository="/srv/checkouts/api")))


def test_sarif_of_an_all_passing_report_has_no_results() -> None:
    standard = sample_standard()
    report = Report(
        standard=standard,
        outcomes=[RuleOutcome(standard.rules["ZZA-001"], RuleResult(Status.PASS, "ok"))],
        repository=".",
        commit=None,
        project_dir="",
        engine_version="0.1.0",
    )
    log = report_to_sarif(report)
    validate_sarif(log)
    assert log["runs"][0]["results"] == []


# ----- text ------------------------------------------------------------------------------
def test_text_groups_by_section_with_section_scores() -> None:
    text = render_text(sample_report())
    alpha = text.index("ZZA  Alpha section")
    beta = text.index("ZZB  Beta section")
    assert alpha < text.index("ZZA-002") < beta < text.index("ZZB-001")
    assert "ZZA  Alpha section  (66.67/100, 1 of 2 rules passed)\n" in text
    assert "ZZB  Beta section  (50/100, 0 of 1 rule passed, 1 not scored)\n" in text
    assert "✓ PASS    ZZA-001  README present — README.md found" in text
    assert "✗ FAIL    ZZA-002  No TODO markers — 7 TODO markers" in text


def _section_line(statuses: dict[str, Status]) -> str:
    """The text report's heading line of section ZZB when its rules end as `statuses`."""
    standard = sample_standard()
    outcomes = [
        RuleOutcome(standard.rules[rule_id], RuleResult(status, ""))
        for rule_id, status in statuses.items()
    ]
    report = Report(standard, outcomes, ".", None, "", "0.1.0")
    return next(line for line in render_text(report).splitlines() if line.startswith("ZZB"))


def test_text_section_line_shows_no_level() -> None:
    # A minor failure blocks no level below Gold: the section's "level" would read silver.
    line = _section_line({"ZZB-001": Status.FAIL})
    assert line == "ZZB  Beta section  (0/100, 0 of 1 rule passed)"
    assert "level" not in render_text(sample_report()).split("\nScore ")[0]


def test_text_section_line_counts_passes_among_scored_rules() -> None:
    statuses = {"ZZB-001": Status.PASS, "ZZB-002": Status.NOT_APPLICABLE}
    assert (
        _section_line(statuses) == "ZZB  Beta section  (100/100, 1 of 1 rule passed, 1 not scored)"
    )


def test_text_section_with_nothing_scored_says_so() -> None:
    statuses = {"ZZB-001": Status.NOT_APPLICABLE, "ZZB-002": Status.MANUAL}
    assert _section_line(statuses) == "ZZB  Beta section  (no score, 2 not scored)"


def test_text_caps_evidence_and_shows_remediation_for_failures_only() -> None:
    text = render_text(sample_report())
    assert "backend/app/m4.py:5 TODO number 4" in text
    assert "backend/app/m5.py" not in text
    assert "… 2 more" in text
    assert "fix: Add what ZZA-002 asks for." in text
    assert "fix: Add what ZZB-001 asks for." in text  # warn shows the fix too
    assert "fix: Add what ZZA-001 asks for." not in text  # a pass does not


def test_text_summary_line_has_score_level_and_counts() -> None:
    last = render_text(sample_report()).rstrip("\n").splitlines()[-1]
    assert last == "Score 64.29/100, level bronze · 1 pass, 1 fail, 1 warn, 1 error"


def test_text_is_plain_unless_colour_is_asked() -> None:
    assert "\033[" not in render_text(sample_report())
    coloured = render_text(sample_report(), colour=True)
    assert "\033[31m✗ FAIL" in coloured
    assert "\033[32m✓ PASS" in coloured


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_tty_without_no_color() -> None:
    assert use_colour(_Tty(), {}) is True
    assert use_colour(io.StringIO(), {}) is False
    assert use_colour(_Tty(), {"NO_COLOR": "1"}) is False
    assert use_colour(_Tty(), {"NO_COLOR": ""}) is True  # the convention: set and non-empty


def test_text_lists_notes_and_handles_evidence_without_path() -> None:
    report = sample_report()
    spec = report.standard.rules["ZZA-001"]
    report.outcomes[0] = RuleOutcome(
        spec, RuleResult(Status.FAIL, "no README", [Evidence(None, None, "add README.md")])
    )
    text = render_text(report)
    assert "      . add README.md" in text
    assert "backend/big.bin: binary file: skipped" in text
