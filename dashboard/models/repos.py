"""Registered repositories."""

from __future__ import annotations

from django.db import models

from dashboard.models.org import Team
from scanners.repo_url import redact_url


class RepositoryQuerySet(models.QuerySet["Repository"]):
    """Repositories, with the one definition of those that count (dashboard/domain/scores.py)."""

    def scored(self) -> RepositoryQuerySet:
        """Active repositories with a succeeded scan: those a team's score is made of."""
        from dashboard.domain.scores import scored

        return self.filter(scored())


class Repository(models.Model):
    """A git repository a team registered for scanning."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="repositories")
    name = models.CharField(max_length=200)
    clone_url = models.CharField(max_length=500)
    # host/path lower-cased without scheme, credentials or `.git`: https, ssh and scp-like
    # spellings of one repository share it (webhooks match on it). A monorepo's services are
    # sibling rows of one `url_key`, one per project folder; the same folder twice is refused.
    url_key = models.CharField(max_length=500)
    default_branch = models.CharField(max_length=200, default="main")
    # The folder judged, relative to the checkout ("" for the root, or what the engine picks).
    project_dir = models.CharField(max_length=300, blank=True)
    webhook_secret_encrypted = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    # Opt-in, set by a maintainer: run the repository's own tests and mypy in a sandbox.
    deep_scan = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Denormalised from the latest finished scan, so list pages need no per-row query.
    latest_scan = models.ForeignKey(
        "dashboard.Scan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.FloatField(null=True, blank=True)
    level = models.CharField(max_length=8, blank=True)
    # Where pull/merge request reviews post their commit status and comment (none: no reviews).
    code_host = models.ForeignKey(
        "dashboard.CodeHostConnection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repositories",
    )
    # Review statuses fail on a new critical/major failure or a lower level (else: success).
    pr_gate = models.BooleanField(default=False)
    # Reviews also keep one summary comment on the pull request, updated in place.
    pr_comment = models.BooleanField(default=True)

    objects = RepositoryQuerySet.as_manager()

    class Meta:
        ordering = ("name",)
        verbose_name_plural = "repositories"
        indexes = (models.Index(fields=("team", "active"), name="repo_team_active"),)
        constraints = (
            # Its index also serves the webhooks' lookup by `url_key` (the leading column).
            models.UniqueConstraint(
                fields=("url_key", "project_dir"), name="repository_unique_url_folder"
            ),
        )

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name, with the project folder when there is one: `api (services/api)`.

        Sibling rows of one monorepo may share a name; the folder tells them apart wherever
        a repository is named in plain text (page titles, messages, notifications).
        """
        if not self.project_dir or self.name.endswith(f"({self.project_dir})"):
            return self.name
        return f"{self.name} ({self.project_dir})"

    @property
    def public_clone_url(self) -> str:
        """The clone URL with any password or token in it replaced by `***`.

        What pages, the API and exports show: reading is organisation-wide, and a
        credential in a clone URL belongs to the repository's team alone.
        """
        return redact_url(self.clone_url)

    @property
    def holds_credential(self) -> bool:
        """The clone URL carries a password or token (which belongs to the repository's team)."""
        return self.public_clone_url != self.clone_url
