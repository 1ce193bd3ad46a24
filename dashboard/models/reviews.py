"""Code-host connections and review scans of pull/merge requests.

A review scan is kept apart from `Scan` by construction: it is its own table, so a pull
request's head never becomes a repository's latest scan, score, roll-up or trend point.
"""

from __future__ import annotations

from django.db import models

from dashboard.models.repos import Repository


class CodeHostConnection(models.Model):
    """An API credential Yardstick uses to post statuses and comments back to a code host.

    The token is stored encrypted (`services/access/secrets.py`) and never shown or logged;
    the organisation import will reuse these rows to list repositories.
    """

    class Provider(models.TextChoices):
        GITHUB = "github", "GitHub"
        GITLAB = "gitlab", "GitLab"
        GITEA = "gitea", "Gitea"

    name = models.CharField(max_length=100, unique=True)
    provider = models.CharField(max_length=10, choices=Provider.choices)
    # e.g. https://api.github.com, https://gitlab.example.com/api/v4, https://gitea.example.com/api/v1
    api_base_url = models.CharField(max_length=300)
    token_encrypted = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} ({self.get_provider_display()})"


class ReviewScan(models.Model):
    """One scan of a pull/merge request's head, compared with its base branch's latest scan."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="reviews")
    provider = models.CharField(max_length=10)
    number = models.PositiveIntegerField()
    host_repo = models.CharField(max_length=300)  # "owner/name", or GitLab's project id
    head_sha = models.CharField(max_length=64)
    head_ref = models.CharField(max_length=255, blank=True)
    base_ref = models.CharField(max_length=255, blank=True)
    base_sha = models.CharField(max_length=64, blank=True)  # "" when the base was never scanned
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    score = models.FloatField(null=True, blank=True)
    level = models.CharField(max_length=8, blank=True)
    base_score = models.FloatField(null=True, blank=True)
    base_level = models.CharField(max_length=8, blank=True)
    # Finding.to_dict() lists from scanners.fingerprints.compare.
    new_findings = models.JSONField(default=list, blank=True)
    fixed_findings = models.JSONField(default=list, blank=True)
    notes = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, blank=True)  # the commit status posted
    description = models.CharField(max_length=140, blank=True)
    comment_id = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-queued_at", "-id")
        indexes = (
            models.Index(fields=("repository", "provider", "number"), name="review_request"),
        )

    def __str__(self) -> str:
        return f"review of #{self.number} at {self.head_sha[:12]}"
