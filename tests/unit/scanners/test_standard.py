"""The default standard file against the rule catalog, the loader's errors, and scoring."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanners.context import RepoContext
from scanners.engine import evaluate_rule
from scanners.report import score_outcomes, scores_if_passed
from scanners.results import Level, Severity, Status
from scanners.rules import AttestRule, registry
from scanners.standard import (
    DEFAULT_STANDARD_PATH,
    RuleSpec,
    StandardError,
    default_standard,
    load_standard,
    parse_standard,
)
from tests.gitrepo import make_repo

Mutation = Callable[[dict[str, Any]], None]

CATALOG_PATH = Path(__file__).resolve().parents[3].parent / "shared/standard/rule-catalog.md"
CATALOG_ROW = re.compile(r"^\| ([A-Z]+-\d{3}) \| (\w+) \|.*\| ([a-z]+)[^|]*\|$")

# The catalog as `id:severity:how`, used when the shared catalog file is not beside the repo.
FALLBACK_CATALOG = """
DEP-001:critical:static DEP-002:major:static DEP-003:minor:static DEP-004:major:static
DEP-005:minor:history DEP-006:minor:history FW-001:critical:static FW-002:major:static
FW-003:major:static FW-004:minor:static VER-001:major:static VER-002:major:static
VER-003:major:static VER-004:minor:static VER-005:attest:attest STR-001:major:static
STR-002:critical:static STR-003:major:static STR-004:major:static STR-005:major:static
STR-006:minor:static STR-007:major:static STR-008:critical:static LAY-001:critical:static
LAY-002:critical:static LAY-003:minor:static LAY-004:major:static LAY-005:major:static
LAY-006:major:static LAY-007:major:static LAY-008:minor:static LAY-009:minor:static
LAY-010:minor:static SCH-001:major:static SCH-002:minor:static SCH-003:major:static
SCH-004:minor:static SCH-005:major:static SCH-006:info:static DB-001:major:static
DB-002:major:static DB-003:major:static DB-004:major:history DB-005:minor:static
DB-006:major:static DB-007:minor:static DB-008:minor:static DB-009:minor:static
CFG-001:critical:static CFG-002:minor:static CFG-003:major:static CFG-004:major:static
CFG-005:critical:static CFG-006:minor:static LOG-001:major:static LOG-002:minor:static
LOG-003:minor:static LOG-004:major:static LOG-005:minor:static LOG-006:major:static
ERR-001:major:static ERR-002:major:static ERR-003:major:static SEC-001:major:static
SEC-002:critical:static SEC-003:minor:static SEC-004:minor:static SEC-005:major:static
SEC-006:major:static SEC-007:minor:static SEC-008:critical:static SEC-009:major:static
SEC-010:minor:static SEC-011:attest:attest API-001:major:static API-002:minor:static
API-003:minor:static API-004:major:static API-005:minor:static API-006:minor:static
API-007:minor:static API-008:minor:static TST-001:major:static TST-002:major:static
TST-003:minor:static TST-004:major:static TST-005:minor:static TST-006:critical:report
TST-007:minor:static TST-008:major:report PERF-001:minor:static PERF-002:minor:static
ASY-001:major:static ASY-002:major:static ASY-003:minor:static STY-001:major:static
STY-002:minor:static STY-003:minor:static STY-004:minor:static STY-005:minor:static
STY-006:minor:static STY-007:major:static STY-008:minor:static STY-009:major:report
DOC-001:minor:static DOC-002:minor:static DOC-003:info:static MON-001:major:static
MON-002:major:static MON-003:major:static MON-004:minor:static MON-005:minor:static
MON-006:attest:attest WF-001:major:static WF-002:minor:history WF-003:minor:history
WF-004:major:static WF-005:minor:static WF-006:attest:attest DSEC-001:minor:static
DSEC-002:minor:static DSEC-003:major:static ENV-001:minor:static ENV-002:attest:attest
"""

SECTION_ORDER = "DEP FW VER STR LAY SCH DB CFG LOG ERR SEC API TST PERF ASY STY DOC MON WF DSEC ENV"
WEIGHTS = {"critical": 8, "major": 4, "minor": 2, "info": 0}


def _parse_catalog(text: str) -> list[tuple[str, str, str]]:
    rows = [CATALOG_ROW.match(line) for line in text.splitlines()]
    return [(m[1], m[2], m[3]) for m in rows if m]


def _fallback_catalog() -> list[tuple[str, str, str]]:
    return [(a, b, c) for a, b, c in (tok.split(":") for tok in FALLBACK_CATALOG.split())]


def catalog() -> list[tuple[str, str, str]]:
    """(id, severity, evaluation) per catalog row, in order; attest severity means minor."""
    if CATALOG_PATH.is_file():
        rows = _parse_catalog(CATALOG_PATH.read_text(encoding="utf-8"))
    else:
        rows = _fallback_catalog()
    return [(rid, "minor" if sev == "attest" else sev, how) for rid, sev, how in rows]


# ----- the default standard ---------------------------------------------------------------
def test_default_standard_loads_with_identity():
    standard = load_standard()
    assert (standard.key, standard.version) == ("python-backend", "2026.11")
    assert standard.name == "Python Backend Development Standards"
    assert standard.text_path == DEFAULT_STANDARD_PATH.parent / "python-backend-standards.md"
    assert standard.text().startswith("# Python Backend Development Standards")


def test_default_standard_sections_in_catalog_order():
    assert list(default_standard().sections) == SECTION_ORDER.split()


def test_default_standard_rules_match_catalog_ids_in_order():
    rows = catalog()
    assert len(rows) == 124
    assert list(default_standard().rules) == [rid for rid, _, _ in rows]


def test_fallback_catalog_agrees_with_shared_catalog():
    if CATALOG_PATH.is_file():
        assert _fallback_catalog() == _parse_catalog(CATALOG_PATH.read_text(encoding="utf-8"))
    assert len({rid for rid, _, _ in _fallback_catalog()}) == 124


@pytest.mark.parametrize(("rule_id", "severity", "evaluation"), catalog())
def test_rule_matches_catalog_row(rule_id, severity, evaluation):
    spec = default_standard().rules[rule_id]
    assert spec.severity == Severity(severity)
    assert spec.evaluation == evaluation
    assert spec.section == rule_id.split("-")[0]
    assert spec.weight == WEIGHTS[severity]


def test_every_rule_has_prose_and_an_existing_heading():
    standard = default_standard()
    for spec in standard.rules.values():
        assert not spec.title.endswith("."), spec.id
        assert len(spec.title) <= 70, spec.id
        assert spec.rationale.endswith("."), spec.id
        assert spec.remediation.endswith("."), spec.id
        assert standard.section_text(spec.heading), f"{spec.id}: no text under {spec.heading}"


def test_every_section_heading_has_text():
    standard = default_standard()
    for section in standard.sections.values():
        assert standard.section_text(section.heading), section.code


def test_rule_heading_override_replaces_section_heading():
    rules = default_standard().rules
    assert rules["STR-008"].heading == "Development Workflow"
    assert rules["STR-001"].heading == "Project Structure"


# ----- attest rules -----------------------------------------------------------------------
def test_attest_rules_evaluate_to_manual(tmp_path):
    ctx = RepoContext(make_repo(tmp_path / "repo", {"README.md": "# demo\n"}))
    attest = [s for s in default_standard().rules.values() if s.is_attest]
    assert [s.id for s in attest] == ["VER-005", "SEC-011", "MON-006", "WF-006", "ENV-002"]
    for spec in attest:
        assert issubclass(registry()[spec.id], AttestRule)
        outcome = evaluate_rule(spec, ctx)
        assert outcome.status is Status.MANUAL, spec.id
        assert outcome.result.evidence == []


def test_attest_rule_classes_are_only_registered_for_attest_rules():
    rules = default_standard().rules
    attest_ids = {rid for rid, cls in registry().items() if issubclass(cls, AttestRule)}
    assert attest_ids == {rid for rid, spec in rules.items() if spec.is_attest}


# ----- loader errors ----------------------------------------------------------------------
def _valid_doc() -> dict[str, Any]:
    rule = {
        "id": "DEP-001",
        "section": "DEP",
        "severity": "critical",
        "evaluation": "static",
        "title": "uv project",
        "rationale": "Why.",
        "remediation": "What.",
    }
    return {
        "key": "k",
        "name": "N",
        "version": "1",
        "sections": {"DEP": {"title": "Deps", "heading": "Dependency Management"}},
        "rules": [rule],
    }


def _without_rule_key(key: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        del doc["rules"][0][key]

    return mutate


def _set_rule(key: str, value: object) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        doc["rules"][0][key] = value

    return mutate


def _duplicate_rule(doc: dict[str, Any]) -> None:
    doc["rules"].append(copy.deepcopy(doc["rules"][0]))


def _set_top(key: str, value: object) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        doc[key] = value

    return mutate


MALFORMED = [
    ("missing id", _without_rule_key("id"), r"rules\[0\]: 'id' is required"),
    ("bad id pattern", _set_rule("id", "dep-1"), r"rule dep-1: id must look like ABC-001"),
    ("unknown section", _set_rule("section", "XYZ"), r"rule DEP-001: unknown section 'XYZ'"),
    ("bad severity", _set_rule("severity", "huge"), r"DEP-001: severity must be critical"),
    ("bad evaluation", _set_rule("evaluation", "magic"), r"DEP-001: evaluation must be"),
    ("missing title", _without_rule_key("title"), r"DEP-001: 'title' is required"),
    ("negative weight", _set_rule("weight", -1), r"DEP-001: weight must be a non-negative"),
    ("duplicate id", _duplicate_rule, r"rule DEP-001: duplicated"),
    ("rule not a mapping", _set_top("rules", ["DEP-001"]), r"rules\[0\]: must be a mapping"),
    ("no rules", _set_top("rules", []), r"'rules' must be a non-empty list"),
    ("no sections", _set_top("sections", {}), r"'sections' must be a non-empty mapping"),
    ("section not a mapping", _set_top("sections", {"DEP": "x"}), r"section DEP: must be"),
    ("missing key", _set_top("key", ""), r"standard: 'key' is required"),
]


@pytest.mark.parametrize(
    ("mutate", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_parse_standard_rejects_malformed_entry(mutate, message):
    doc = _valid_doc()
    mutate(doc)
    with pytest.raises(StandardError, match=message):
        parse_standard(doc)


def test_parse_standard_accepts_the_valid_document():
    standard = parse_standard(_valid_doc())
    assert standard.rules["DEP-001"].weight == 8
    assert standard.rules["DEP-001"].heading == "Dependency Management"


def test_parse_standard_rejects_non_mapping_document():
    with pytest.raises(StandardError, match="the standard file must be a mapping"):
        parse_standard(["DEP-001"])


def test_load_standard_reports_missing_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(StandardError, match=r"cannot read standard file .*nope\.yaml"):
        load_standard(missing)


def test_load_standard_reports_bad_yaml(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: [unclosed\n", encoding="utf-8")
    with pytest.raises(StandardError, match=r"bad\.yaml is not valid YAML"):
        load_standard(bad)


def test_load_standard_reports_non_mapping_yaml(tmp_path):
    listing = tmp_path / "list.yaml"
    listing.write_text("- DEP-001\n", encoding="utf-8")
    with pytest.raises(StandardError, match="must be a mapping"):
        load_standard(listing)


def test_weight_override_and_default_follow_severity():
    doc = _valid_doc()
    doc["rules"][0]["weight"] = 5
    assert parse_standard(doc).rules["DEP-001"].weight == 5
    for severity, weight in WEIGHTS.items():
        doc["rules"][0].pop("weight", None)
        doc["rules"][0]["severity"] = severity
        assert parse_standard(doc).rules["DEP-001"].weight == weight


# ----- scoring ----------------------------------------------------------------------------
def _spec(severity: Severity, index: int = 0) -> RuleSpec:
    return RuleSpec(
        id=f"TST-{index:03d}",
        section="TST",
        severity=severity,
        evaluation="static",
        title="t",
        rationale="r",
        remediation="m",
        heading="Testing Standards",
        weight=severity.weight,
    )


CRIT, MAJ, MIN, INFO = (_spec(s) for s in Severity)


def test_score_weighs_credit_by_severity():
    score = score_outcomes([(CRIT, Status.PASS), (MAJ, Status.WARN), (MIN, Status.FAIL)])
    # (8·1 + 4·0.5 + 2·0) / 14
    assert score.value == pytest.approx(71.43)
    assert score.level is Level.BRONZE


@given(
    st.lists(
        st.tuples(st.sampled_from([CRIT, MAJ, MIN, INFO]), st.sampled_from(list(Status))),
        max_size=30,
    )
)
def test_scores_if_passed_equal_rescoring_each_outcome_passing(outcomes):
    expected = [
        None
        if status.credit is None
        else score_outcomes([*outcomes[:i], (spec, Status.PASS), *outcomes[i + 1 :]]).value
        for i, (spec, status) in enumerate(outcomes)
    ]
    assert scores_if_passed(outcomes) == pytest.approx(expected, abs=0.005)


def test_scores_if_passed_of_a_failure_and_a_warning():
    after = scores_if_passed([(CRIT, Status.PASS), (MAJ, Status.WARN), (MIN, Status.FAIL)])
    # Now (8 + 2 + 0) / 14 = 71.43; the warning passing: 12/14; the failure passing: 12/14.
    assert after == [pytest.approx(71.43), pytest.approx(85.71), pytest.approx(85.71)]
    assert scores_if_passed([(CRIT, Status.MANUAL)]) == [None]


@pytest.mark.parametrize(
    "status", [Status.WAIVED, Status.NOT_APPLICABLE, Status.MANUAL, Status.ERROR]
)
def test_score_excludes_statuses_that_leave_the_sum(status):
    base = [(CRIT, Status.PASS), (MAJ, Status.FAIL)]
    assert score_outcomes([*base, (CRIT, status), (MIN, status)]) == score_outcomes(base)
    assert score_outcomes(base).value == pytest.approx(66.67)


@pytest.mark.parametrize(
    ("outcomes", "level"),
    [
        ([(CRIT, Status.FAIL), (MAJ, Status.PASS), (MIN, Status.PASS)], Level.NONE),
        ([(CRIT, Status.WARN), (MAJ, Status.PASS)], Level.NONE),
        ([(CRIT, Status.PASS), (MAJ, Status.FAIL), (MIN, Status.PASS)], Level.BRONZE),
        ([(CRIT, Status.PASS), (MAJ, Status.PASS), (MIN, Status.WARN)], Level.SILVER),
        ([(CRIT, Status.PASS), (MAJ, Status.PASS), (MIN, Status.PASS)], Level.GOLD),
        ([(CRIT, Status.PASS), (MAJ, Status.PASS), (INFO, Status.FAIL)], Level.GOLD),
        ([(CRIT, Status.PASS), (MAJ, Status.ERROR), (MIN, Status.MANUAL)], Level.GOLD),
    ],
)
def test_score_levels_at_their_boundaries(outcomes, level):
    assert score_outcomes(outcomes).level is level


def test_score_ignores_info_weight():
    score = score_outcomes([(CRIT, Status.PASS), (INFO, Status.FAIL)])
    assert score.value == 100.0
    assert score_outcomes([(INFO, Status.FAIL)]).value == 100.0


def test_score_without_scorable_results_is_none():
    score = score_outcomes([(CRIT, Status.MANUAL), (MAJ, Status.NOT_APPLICABLE)])
    assert score.value is None
    assert score.level is Level.NONE
    assert score_outcomes([]).value is None


@given(st.lists(st.tuples(st.sampled_from(list(Severity)), st.sampled_from(list(Status)))))
def test_score_stays_within_bounds(pairs):
    score = score_outcomes((_spec(sev, i), status) for i, (sev, status) in enumerate(pairs))
    scorable = [p for p in pairs if p[1].credit is not None]
    if not scorable:
        assert score.value is None
        return
    assert score.value is not None
    assert 0.0 <= score.value <= 100.0
    if score.level is Level.GOLD:
        assert score.value == 100.0
