"""`manage.py create_api_token TEAM NAME [--write] [--days N]`: print a new team token once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import Team
from dashboard.services.access import api_tokens


class Command(BaseCommand):
    """Issue an API token for a team (by slug) and print it; it is never shown again."""

    help = "Create an API token for a team. Prints the token once; only its hash is stored."

    def add_arguments(self, parser: CommandParser) -> None:
        """TEAM (slug), NAME, --write and --days."""
        parser.add_argument("team", help="team slug")
        parser.add_argument("name", help="what the token is for, e.g. 'GitHub Actions'")
        parser.add_argument(
            "--write",
            action="store_true",
            help="also register repositories, request scans and upload reports for the team",
        )
        parser.add_argument(
            "--days",
            type=int,
            default=api_tokens.DEFAULT_DAYS,
            help=f"days until it expires (default {api_tokens.DEFAULT_DAYS}, "
            f"at most {api_tokens.MAX_DAYS})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Create the token and write it to stdout."""
        team = Team.objects.filter(slug=options["team"]).first()
        if team is None:
            raise CommandError(f"no team with slug {options['team']!r}")
        try:
            issued = api_tokens.issue(
                team,
                options["name"],
                write=options["write"],
                days=options["days"],
                actor="manage.py create_api_token",
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(
            f"{issued.token.scope} token {issued.token.name!r} for team {team.name!r}, "
            f"expires {issued.token.expires_at:%Y-%m-%d} (copy it now: it is not shown again):"
        )
        self.stdout.write(issued.plaintext)
