"""Register (or update) the relying party: Yardstick's client id, secret and callback URL."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from oauth2_provider.models import Application


class Command(BaseCommand):
    help = "Create or update the test provider's confidential client."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id")
        parser.add_argument("--secret", required=True)
        parser.add_argument("--redirect-uri", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        app = Application.objects.filter(client_id=options["client_id"]).first() or Application(
            client_id=options["client_id"]
        )
        app.name = "Yardstick"
        app.client_secret = options["secret"]  # hashed on save
        app.client_type = Application.CLIENT_CONFIDENTIAL
        app.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
        app.redirect_uris = options["redirect_uri"]
        app.algorithm = Application.RS256_ALGORITHM
        app.skip_authorization = True  # a company's provider asks no consent for its own apps
        app.save()
