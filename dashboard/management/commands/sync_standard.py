"""`manage.py sync_standard`: bring the Standard and Rule tables in step with the engine."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from dashboard.services.standard.sync import sync_standard


class Command(BaseCommand):
    """Upsert rules from the engine's standard file; retire removed ones."""

    help = "Sync the standard and its rules from the engine's standard file (safe to re-run)."

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the sync and say what is there."""
        standard = sync_standard()
        active = standard.rules.filter(retired=False).count()
        self.stdout.write(f"{standard.name} {standard.version}: {active} active rules")
