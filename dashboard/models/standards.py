"""The standard and its rules, synced from the engine's standard file."""

from __future__ import annotations

from django.db import models

from dashboard.domain.governance import Weighting
from scanners.results import Severity


class Standard(models.Model):
    """A standard the engine judges against (key from the file, e.g. `python-backend`)."""

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=32)
    synced_at = models.DateTimeField(auto_now=True)
    # How many times the organisation changed its rule configuration (severity, weight,
    # enabled): each change is a version of its own, `1.4.0+org.3`, marked on trends.
    org_revision = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} {self.effective_version}"

    @property
    def effective_version(self) -> str:
        """The bundled version, plus `+org.N` once the organisation changed its rules."""
        return f"{self.version}+org.{self.org_revision}" if self.org_revision else self.version


class Rule(models.Model):
    """One rule of a standard. Ids are never reused; removed rules are retired, not deleted."""

    class Severity(models.TextChoices):
        CRITICAL = "critical"
        MAJOR = "major"
        MINOR = "minor"
        INFO = "info"

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="rules")
    rule_id = models.CharField(max_length=16)
    section = models.CharField(max_length=8)
    section_title = models.CharField(max_length=120)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    weight = models.PositiveSmallIntegerField()
    evaluation = models.CharField(max_length=8)
    title = models.CharField(max_length=200)
    rationale = models.TextField()
    remediation = models.TextField()
    heading = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField(default=0)
    retired = models.BooleanField(default=False)
    # Grace period: results before this day (UTC) are shown as upcoming and not scored.
    effective_from = models.DateField(null=True, blank=True)
    # Count-based rules (one evidence item per finding) may be ratcheted per repository.
    countable = models.BooleanField(default=False)
    # The organisation's configuration, kept apart from the bundled values above (which
    # every sync of the standard refreshes): blank/None keeps the bundled value.
    severity_override = models.CharField(
        max_length=8, choices=Severity.choices, blank=True, help_text="blank: the bundled one"
    )
    weight_override = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="empty: the bundled weight"
    )
    # A disabled rule is still judged by the engine but leaves every score.
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ("position",)
        constraints = (
            models.UniqueConstraint(fields=("standard", "rule_id"), name="rule_unique_id"),
            models.CheckConstraint(
                condition=models.Q(severity__in=("critical", "major", "minor", "info")),
                name="rule_severity_valid",
            ),
        )

    def __str__(self) -> str:
        return f"{self.rule_id} {self.title}"

    @property
    def weighting(self) -> Weighting:
        """Severity and weight as scored: the organisation's override, else the bundled."""
        return Weighting(
            Severity(self.severity_override or self.severity),
            self.weight if self.weight_override is None else self.weight_override,
        )


class StandardRelease(models.Model):
    """A version of a standard the dashboard synced, and when: trend charts mark these."""

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="releases")
    version = models.CharField(max_length=32)
    previous_version = models.CharField(max_length=32, blank=True)
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ("synced_at", "id")
        constraints = (
            models.UniqueConstraint(fields=("standard", "version"), name="release_unique_version"),
        )

    def __str__(self) -> str:
        return f"{self.standard_id} {self.version} @ {self.synced_at:%Y-%m-%d}"
