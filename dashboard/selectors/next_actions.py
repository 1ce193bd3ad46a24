"""A team's next actions toward its next level: the rules blocking it, its failing rules and
its waivers about to expire.

Counts come from the team's latest rule roll-up (`RuleDailyStats`: statuses under the
governance in force, active repositories only), so the panel agrees with the team's level and
the rule pages. A team's level is the lowest of its repositories' (dashboard/domain/levels.py),
so the repositories failing or warning on a rule of the severity guarding the next level are
exactly those keeping the team out of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from dashboard.domain.levels import LevelGap
from dashboard.models import RuleDailyStats, Team, Waiver
from dashboard.selectors.governance import EXPIRING_SOON_DAYS, waivers_expiring
from scanners.report import LEVEL_BLOCKED_BY
from scanners.results import Level

FAILING_SHOWN = 10


@dataclass(frozen=True, slots=True)
class RuleCount:
    """A rule and how many of the team's repositories it concerns."""

    rule_id: str
    title: str
    severity: str
    repositories: int


@dataclass(slots=True)
class NextActions:
    """What the team page's "Next actions" panel lists."""

    next_level: str | None
    blocking: list[RuleCount] = field(default_factory=list)
    failing: list[RuleCount] = field(default_factory=list)
    expiring: list[Waiver] = field(default_factory=list)

    @property
    def valid_until(self) -> datetime | None:
        """When the list stops being true without any write: the first waiver expiring."""
        return min((waiver.expires_at for waiver in self.expiring), default=None)

    @property
    def empty(self) -> bool:
        """Nothing to do: no blocker, no failing rule, no waiver running out."""
        return not (self.blocking or self.failing or self.expiring)


def next_actions(team: Team, gap: LevelGap | None, now: datetime | None = None) -> NextActions:
    """The team's next actions (2 queries). `gap`: the team's level gap (`team_summary`)."""
    now = now or timezone.now()
    after = gap.next_level if gap is not None and gap.reason == "blocked" else None
    wanted = LEVEL_BLOCKED_BY[Level(after)].value if after else None
    latest = RuleDailyStats.objects.filter(team=team).order_by("-date").values("date")[:1]
    # Severity as scored: the organisation's override, else the bundled one (Rule.weighting);
    # a disabled rule leaves every score, so it blocks nothing.
    rows = [
        (rule_id, title, override or severity, failed, warned)
        for rule_id, title, severity, override, failed, warned in RuleDailyStats.objects.filter(
            team=team, date=latest, rule__enabled=True
        )
        .alias(against=F("failed") + F("warned"))
        .filter(against__gt=0)
        .values_list(
            "rule__rule_id",
            "rule__title",
            "rule__severity",
            "rule__severity_override",
            "failed",
            "warned",
        )
    ]
    blocking = sorted(
        (
            RuleCount(rule_id, title, severity, failed + warned)
            for rule_id, title, severity, failed, warned in rows
            if severity == wanted
        ),
        key=_most_first,
    )
    failing = sorted(
        (
            RuleCount(rule_id, title, severity, failed)
            for rule_id, title, severity, failed, _ in rows
            if failed
        ),
        key=_most_first,
    )[:FAILING_SHOWN]
    expiring = list(waivers_expiring(timedelta(days=EXPIRING_SOON_DAYS), team, now))
    return NextActions(after, blocking, failing, expiring)


def _most_first(row: RuleCount) -> tuple[int, str]:
    return (-row.repositories, row.rule_id)
