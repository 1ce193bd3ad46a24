"""Coverage reports uploaded (or measured) for a commit."""

from __future__ import annotations

from django.db import models

from dashboard.models.repos import Repository


class CoverageReport(models.Model):
    """Line coverage per file for one commit: `files` maps path -> [covered, total]."""

    repository = models.ForeignKey(
        Repository, on_delete=models.CASCADE, related_name="coverage_reports"
    )
    commit_sha = models.CharField(max_length=40)
    source = models.CharField(max_length=16, default="upload")
    files = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("repository", "commit_sha", "source"), name="coverage_unique_commit"
            ),
        )

    def __str__(self) -> str:
        return f"coverage {self.commit_sha[:8]} of {self.repository_id}"
