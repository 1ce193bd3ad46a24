"""Initiatives: a goal (a level, or a set of rules) for some teams or repositories, by a date."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dashboard.models.org import Team
from dashboard.models.repos import Repository
from dashboard.models.standards import Rule


class Initiative(models.Model):
    """A named adoption goal with a start, a target date and an owner.

    Its scope is the active repositories of `teams` plus `repositories`. A repository is done
    when it reaches `target_level` (goal `level`) or meets every rule of `rules` (goal `rules`:
    pass, not applicable or waived).
    """

    class Goal(models.TextChoices):
        LEVEL = "level", "Reach a level"
        RULES = "rules", "Meet rules"

    class Level(models.TextChoices):
        BRONZE = "bronze", "Bronze"
        SILVER = "silver", "Silver"
        GOLD = "gold", "Gold"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    goal = models.CharField(max_length=8, choices=Goal.choices, default=Goal.LEVEL)
    target_level = models.CharField(max_length=8, choices=Level.choices, blank=True)
    rules = models.ManyToManyField(Rule, blank=True, related_name="initiatives")
    teams = models.ManyToManyField(Team, blank=True, related_name="initiatives")
    repositories = models.ManyToManyField(Repository, blank=True, related_name="initiatives")
    start_date = models.DateField()
    target_date = models.DateField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("closed_at", "target_date", "name")
        constraints = (
            models.CheckConstraint(
                condition=models.Q(goal__in=("level", "rules")), name="initiative_goal_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(target_date__gt=models.F("start_date")),
                name="initiative_target_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(goal="level")
                | models.Q(target_level__in=("bronze", "silver", "gold")),
                name="initiative_level_goal_has_level",
            ),
        )

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        """Whether the initiative still runs."""
        return self.closed_at is None
