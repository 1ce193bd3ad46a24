"""Create or update a provider user: password, e-mail and groups (replacing the old ones)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Create or update a user of the test OpenID Connect provider."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--groups", default="", help="comma-separated group names")

    def handle(self, *args: Any, **options: Any) -> None:
        user, _ = User.objects.get_or_create(username=options["username"])
        user.email = options["email"]
        if not user.check_password(options["password"]):
            # Only when it changes: a new password ends the user's session at the provider.
            user.set_password(options["password"])
        user.save()
        names = [name for name in options["groups"].split(",") if name]
        user.groups.set([Group.objects.get_or_create(name=name)[0] for name in names])
