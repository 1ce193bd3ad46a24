"""Teams and who belongs to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Team(models.Model):
    """A team owns repositories; its score is the mean of their latest scores."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in a team: maintainers manage repositories, waivers and attestations."""

    class Role(models.TextChoices):
        MAINTAINER = "maintainer", "Maintainer"
        MEMBER = "member", "Member"

    class Source(models.TextChoices):
        MANUAL = "manual", "Added by hand"
        IDENTITY_PROVIDER = "idp", "Identity provider"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    # Who owns the membership: a person (in the UI or the admin) or the identity provider's
    # group mapping, applied at each sign-in (SSO_GROUP_MAPPING); a mapped one is changed only
    # there, never in the UI.
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("user", "team"), name="membership_unique_user_team"),
            models.CheckConstraint(
                condition=models.Q(role__in=("maintainer", "member")), name="membership_role_valid"
            ),
        )

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"
