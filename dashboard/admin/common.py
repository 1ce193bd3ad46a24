"""Shared pieces of the admin pages."""

from __future__ import annotations

from typing import cast

from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import Model
from django.http import HttpRequest


def _user(request: HttpRequest) -> User:
    """The signed-in administrator (the admin site lets no one else in)."""
    return cast(User, request.user)


class RecordAdmin[M: Model](admin.ModelAdmin[M]):
    """A record the services write (a log, a decision, a reminder sent): listed and read here,
    never added, edited or deleted, administrators included, so the history stays true."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Written by the services only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Never edited."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Never deleted."""
        return False
