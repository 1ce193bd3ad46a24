"""API tokens: stored hashed, scoped (read/write, one team or all), expiring, revocable."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from dashboard.models.org import Team


class ApiToken(models.Model):
    """A bearer token for the JSON API and CI uploads; only its SHA-256 is stored.

    Two kinds. A personal token has an `owner` and never gives more than the owner has at
    the moment of use: `write` changes the repositories the owner may manage (of its `team`
    only, when one is set). A legacy team token (no owner, issued by `create_api_token`
    before tokens had owners) writes for its `team`, as it always did.

    `read` tokens read scorecards organisation-wide, like any signed-in user.

    `expires_at` is set on every token issued since tokens expire; null marks a token from
    before then, which keeps working until it is revoked (no expiry was promised to it).
    """

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        # A personal token must never outlive its owner as a team-wide one.
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("team", "name")
        constraints = (
            models.CheckConstraint(
                condition=models.Q(scope__in=("read", "write")), name="token_scope_valid"
            ),
            # "All teams" is only ever "all the owner's": a token without an owner has a team.
            models.CheckConstraint(
                condition=models.Q(owner__isnull=False) | models.Q(team__isnull=False),
                name="token_owner_or_team",
            ),
        )

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name} ({self.team_id or 'all'}, {self.scope})"

    @property
    def can_write(self) -> bool:
        """Whether the token's scope lets it change repositories (its owner's rights permitting)."""
        return self.scope == self.Scope.WRITE

    def is_expired(self, now: datetime | None = None) -> bool:
        """Past its expiry (legacy tokens without one never expire)."""
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    def status(self, now: datetime | None = None) -> ApiToken.Status:
        """Active, expired or revoked (revoked wins: it was a decision)."""
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.is_expired(now):
            return self.Status.EXPIRED
        return self.Status.ACTIVE
