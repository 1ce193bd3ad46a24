"""Scans and the result of every rule in them."""

from __future__ import annotations

from django.db import models

from dashboard.models.repos import Repository
from dashboard.models.standards import Rule, Standard


class Scan(models.Model):
    """One run of the engine over one commit of a repository."""

    class Trigger(models.TextChoices):
        MANUAL = "manual"
        WEBHOOK = "webhook"
        SCHEDULE = "schedule"
        UPLOAD = "upload"
        CLI = "cli"
        # Recorded by `manage.py demo` (its history backfill and first scans): no push,
        # schedule or person asked for them.
        DEMO = "demo"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        SKIPPED = "skipped"

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="scans")
    standard = models.ForeignKey(Standard, null=True, on_delete=models.PROTECT, related_name="+")
    ref = models.CharField(max_length=200, blank=True)
    commit_sha = models.CharField(max_length=40, blank=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    score = models.FloatField(null=True, blank=True)
    level = models.CharField(max_length=8, blank=True)
    engine_version = models.CharField(max_length=32, blank=True)
    standard_version = models.CharField(max_length=32, blank=True)
    tool_versions = models.JSONField(default=dict, blank=True)
    section_scores = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    skipped_reason = models.CharField(max_length=200, blank=True)
    # A skipped scan's earlier scan of the same commit (what the skip message links to).
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A maintainer forced it: the engine runs even when the commit was already scanned.
    forced = models.BooleanField(default=False)
    # The opt-in deep scan of the same commit (queue "deep"): state and cost.
    deep_status = models.CharField(max_length=10, blank=True)  # "", queued, running, done, failed
    deep_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    deep_peak_memory_kb = models.PositiveBigIntegerField(null=True, blank=True)
    deep_detail = models.TextField(blank=True)
    # A CI upload (trigger `upload`): the measured rules' results it reported (TST-006,
    # TST-008, STY-009), applied when the server scans that commit itself.
    reported_results = models.JSONField(default=list, blank=True)
    # The engine's project discovery (the report's `discovery`): the checkout's Python
    # projects and why the judged one was chosen; {} for scans stored without it.
    discovery = models.JSONField(default=dict, blank=True)
    # Rule ids whose stored result came from CI rather than from this server.
    reported_rules = models.JSONField(default=list, blank=True)
    # A scan of a commit older than the repository's latest one: history for that commit,
    # never the repository's score, level or roll-ups.
    history_only = models.BooleanField(default=False)

    class Meta:
        ordering = ("-queued_at", "-id")
        indexes = (
            models.Index(fields=("repository", "-queued_at"), name="scan_repo_recent"),
            models.Index(fields=("status", "queued_at"), name="scan_status_queued"),
            models.Index(fields=("repository", "commit_sha", "engine_version"), name="scan_commit"),
        )
        constraints = (
            models.CheckConstraint(
                condition=models.Q(
                    status__in=("queued", "running", "succeeded", "failed", "skipped")
                ),
                name="scan_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    trigger__in=("manual", "webhook", "schedule", "upload", "cli", "demo")
                ),
                name="scan_trigger_valid",
            ),
        )

    def __str__(self) -> str:
        return f"scan {self.pk} of {self.repository_id} ({self.status})"

    @property
    def source(self) -> str:
        """Who produced the results: "ci" (an uploaded report) or "yardstick" (this server)."""
        return "ci" if self.trigger == self.Trigger.UPLOAD else "yardstick"

    @property
    def reported_by(self) -> str:
        """The marker shown beside the scan: "reported by CI" or "scanned by Yardstick"."""
        return "reported by CI" if self.source == "ci" else "scanned by Yardstick"

    @property
    def is_finished(self) -> bool:
        """Whether the scan reached a final state."""
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED, self.Status.SKIPPED}


class CheckResult(models.Model):
    """The engine's verdict of one rule in one scan (before waivers and attestations)."""

    class Status(models.TextChoices):
        PASS = "pass"  # noqa: S105 - a status, not a password  # nosec B105
        FAIL = "fail"
        WARN = "warn"
        NOT_APPLICABLE = "not_applicable"
        ERROR = "error"
        WAIVED = "waived"
        MANUAL = "manual"

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="results")
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="results")
    status = models.CharField(max_length=16, choices=Status.choices)
    message = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True)
    # How many evidence items the engine reported (stored evidence is capped): ratchets count it.
    findings = models.PositiveIntegerField(default=0)
    duration_ms = models.FloatField(default=0)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("scan", "rule"), name="result_unique_scan_rule"),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=(
                        "pass",
                        "fail",
                        "warn",
                        "not_applicable",
                        "error",
                        "waived",
                        "manual",
                    )
                ),
                name="result_status_valid",
            ),
        )
        indexes = (models.Index(fields=("rule", "status"), name="result_rule_status"),)

    def __str__(self) -> str:
        return f"{self.rule_id} {self.status}"
