"""`manage.py check_scores [--fix]`: stored scores against the one definition of a score."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from dashboard.services.scoring import check as score_check


class Command(BaseCommand):
    """Print every stored repository or team score or level that differs from its recomputed
    value (raw results + governance in force); exit 1 when there is one."""

    help = (
        "Recompute every repository's and team's score and level from the raw results and "
        "the governance in force, print each mismatch and exit 1 on any. --fix repairs them "
        "(one audit event per repair)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """--fix."""
        parser.add_argument("--fix", action="store_true", help="repair the mismatches")

    def handle(self, *args: Any, **options: Any) -> None:
        """Check, print, optionally repair; exit 1 when anything differed."""
        at = timezone.now()
        drifts = score_check.check(at)
        for drift in drifts:
            self.stdout.write(f"mismatch: {drift}")
        if not drifts:
            self.stdout.write("scores consistent")
            return
        if options["fix"]:
            score_check.repair(drifts, at)
            self.stdout.write(f"repaired {len(drifts)} mismatch(es)")
        sys.exit(1)
