"""Shared pieces of the admin pages."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import User
from django.http import HttpRequest


def _user(request: HttpRequest) -> User:
    """The signed-in administrator (the admin site lets no one else in)."""
    return cast(User, request.user)
