"""`manage.py demo`: teams, generated repositories and a year of real scans to look at."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dashboard.demo.builder import Options, build, reset
from dashboard.demo.org import DemoConflict
from dashboard.management.database import apply_migrations

#: `--size` presets: (teams, repositories, days of history).
SIZES = {"full": (6, 24, 365), "small": (2, 4, 120), "tiny": (1, 2, 60)}


class Command(BaseCommand):
    """Populate the dashboard with demo data (idempotent); --reset removes it."""

    help = (
        "Create demo teams, people and sign-in accounts, generate real git repositories with "
        "a year of history under VAR_DIR/demo-repos, scan them with the engine and rebuild "
        "the daily roll-ups. Running it again changes nothing; --reset removes the demo."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Size, randomness, reset."""
        parser.add_argument("--size", choices=sorted(SIZES), default="full", help="preset size")
        parser.add_argument("--teams", type=int, help="number of teams (1-8)")
        parser.add_argument("--repos", type=int, help="number of repositories")
        parser.add_argument("--days", type=int, help="days of history (default 365)")
        parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
        parser.add_argument(
            "--workers", type=int, default=0, help="engine processes (default: one per core)"
        )
        parser.add_argument("--reset", action="store_true", help="remove the demo data (then stop)")

    def handle(self, *args: Any, **options: Any) -> None:
        """Migrate if needed, then reset, or build and print the one-time passwords."""
        apply_migrations(self.stdout)
        if options["reset"]:
            removed = reset()
            self.stdout.write("Demo data removed." if removed else "No demo data to remove.")
            return
        teams, repos, days = SIZES[options["size"]]
        chosen = Options(
            teams=options["teams"] or teams,
            repos=options["repos"] or repos,
            days=options["days"] or days,
            seed=options["seed"],
            workers=options["workers"],
        )
        if not 1 <= chosen.teams <= 8 or chosen.repos < 1 or chosen.days < 30:
            raise CommandError("--teams must be 1-8, --repos at least 1, --days at least 30")
        self.stdout.write("Building demo data (real git repositories, real scans)…")
        try:
            summary = build(chosen, log=lambda line: self.stdout.write(f"  {line}"))
        except DemoConflict as exc:
            raise CommandError(f"{exc}; demo data goes into an empty dashboard") from None
        if not summary.created:
            self.stdout.write("Demo data already present: nothing to do (--reset removes it).")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {summary.repositories} repositories, {summary.scans} scans "
                f"in {summary.seconds:.0f}s."
            )
        )
        for user, password in summary.passwords.items():
            self.stdout.write(
                self.style.SUCCESS(f"Demo account — user: {user}  password: {password}")
            )
        if summary.passwords:
            self.stdout.write("(passwords are shown once)")
