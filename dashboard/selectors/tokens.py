"""API tokens as their owners see them on the tokens page."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from dashboard.models import ApiToken


def tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first, with their team (legacy team tokens are not theirs:
    administrators manage those in the admin)."""
    return ApiToken.objects.filter(owner=user).select_related("team").order_by("-created_at", "-pk")
