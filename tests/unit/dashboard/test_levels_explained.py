"""Level explanations agree with the scoring: below the top, something is always named."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dashboard.domain.levels import (
    Blocker,
    Member,
    explain_level,
    explain_results,
    explain_team,
)
from scanners.report import score_outcomes
from scanners.results import Severity, Status
from scanners.standard import RuleSpec

SEVERITIES = list(Severity)
STATUSES = [s.value for s in Status] + ["upcoming"]


def _spec(index: int, severity: Severity) -> RuleSpec:
    return RuleSpec(
        f"TST-{index:03d}", "TST", severity, "static", "t", "r", "m", "h", severity.weight
    )


results = st.lists(st.tuples(st.sampled_from(SEVERITIES), st.sampled_from(STATUSES)), max_size=8)


@given(results)
def test_a_level_below_gold_always_names_what_blocks_the_next(
    drawn: list[tuple[Severity, str]],
) -> None:
    scored = [
        (_spec(i, sev), Status(st_)) for i, (sev, st_) in enumerate(drawn) if st_ != "upcoming"
    ]
    score = score_outcomes(scored)
    shown = [Blocker(f"TST-{i:03d}", sev.value, st_, "a.py") for i, (sev, st_) in enumerate(drawn)]

    gap = explain_results(score.level.value, score.value, shown)

    if score.level.value == "gold":
        assert gap.reason == "top"
        assert gap.next_level is None
    elif score.value is None:
        assert gap.reason == "nothing_scorable"
        assert "nothing scorable" in gap.text
    else:
        assert gap.blockers, (drawn, score)
        # Passing every named result would lift the level at least to the next one.
        named = {b.rule_id for b in gap.blockers}
        fixed = [(spec, Status.PASS if spec.id in named else status) for spec, status in scored]
        assert score_outcomes(fixed).level.value != score.level.value


def test_a_repository_sentence_names_count_severity_rule_and_path() -> None:
    shown = [
        Blocker("DEP-001", "critical", "pass"),
        Blocker("STY-004", "minor", "warn", "app/x.py"),
        Blocker("DEP-003", "minor", "waived", "app/y.py"),
        Blocker("DEP-005", "minor", "upcoming", "app/z.py"),
    ]
    assert explain_results("silver", 98.0, shown).text == (
        "1 minor warning blocks Gold: STY-004 in app/x.py"
    )
    two = [Blocker("A-001", "major", "fail"), Blocker("A-002", "major", "warn", "b.py")]
    assert explain_results("bronze", 60.0, two).text == (
        "2 major failing or warning results block Silver: A-001, A-002 in b.py"
    )


def test_no_level_says_why() -> None:
    assert "nothing scorable" in explain_results("none", None, []).text
    assert explain_results("none", 40.0, [Blocker("X-001", "critical", "fail")]).text == (
        "1 critical failure blocks Bronze: X-001"
    )
    assert explain_team(None, []).text == "No level yet: no successful scan."
    assert explain_level("none", 40.0).text == "A critical rule failing or warning blocks Bronze."
    assert "nothing scorable" in explain_level("", None).text


def test_a_team_is_kept_from_the_next_level_by_its_lowest_repositories() -> None:
    members = [Member(f"r{i}", "bronze", 70.0) for i in range(5)] + [Member("g", "gold", 100.0)]
    gap = explain_team("bronze", members)
    assert gap.next_level == "silver"
    assert gap.text == (
        "5 repositories below Silver block Silver: r0 (Bronze), r1 (Bronze), r2 (Bronze) and 2 more"
    )
    assert explain_team("gold", [Member("g", "gold", 100.0)]).reason == "top"
