"""Daily roll-ups: trend pages read these, never raw results."""

from __future__ import annotations

from django.db import models

from dashboard.models.org import Team
from dashboard.models.repos import Repository
from dashboard.models.standards import Rule


class RepositoryDailyScore(models.Model):
    """A repository's score at the end of a day (its latest scan that day, or carried over)."""

    repository = models.ForeignKey(
        Repository, on_delete=models.CASCADE, related_name="daily_scores"
    )
    date = models.DateField()
    score = models.FloatField(null=True)
    level = models.CharField(max_length=8, blank=True)
    scan = models.ForeignKey(
        "dashboard.Scan", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    section_scores = models.JSONField(default=dict)
    # Rule ids not met at the end of the day (fail, warn, error, unattested; upcoming rules by
    # their engine verdict): initiative burn-ups read these.
    open_rules = models.JSONField(default=list)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("repository", "date"), name="repo_daily_unique"),
        )
        indexes = (models.Index(fields=("date",), name="repo_daily_date"),)

    def __str__(self) -> str:
        return f"{self.repository_id} {self.date}: {self.score}"


class TeamDailyScore(models.Model):
    """Mean of a team's active repositories' scores on a day."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="daily_scores")
    date = models.DateField()
    score = models.FloatField(null=True)
    repositories = models.PositiveIntegerField(default=0)
    section_scores = models.JSONField(default=dict)

    class Meta:
        constraints = (models.UniqueConstraint(fields=("team", "date"), name="team_daily_unique"),)
        indexes = (models.Index(fields=("date",), name="team_daily_date"),)

    def __str__(self) -> str:
        return f"team {self.team_id} {self.date}: {self.score}"


class RuleDailyStats(models.Model):
    """How many of a team's repositories pass/fail a rule on a day."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="daily_stats")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="rule_daily_stats")
    date = models.DateField()
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    warned = models.PositiveIntegerField(default=0)
    other = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("rule", "team", "date"), name="rule_daily_unique"),
        )
        # Both carry the counts (as key columns: SQLite has no INCLUDE), so the overview's most
        # failed rules (one day, every rule) and a rule's adoption trend (one rule, every day)
        # are index-only scans at scale.
        indexes = (
            models.Index(
                fields=("date", "rule", "passed", "failed", "warned"), name="rule_daily_date_rule"
            ),
            models.Index(
                fields=("rule", "date", "passed", "failed", "warned"), name="rule_daily_rule_date"
            ),
        )

    def __str__(self) -> str:
        return f"{self.rule_id} team {self.team_id} {self.date}: {self.passed} passed"
