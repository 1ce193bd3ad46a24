"""`manage.py scan REPO`: queue (or, with --sync, run) a scan of a registered repository."""

from __future__ import annotations

import socket
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dashboard.models import Repository, Scan
from dashboard.services.scans import pipeline as scanning


class Command(BaseCommand):
    """Operators' entry to the pipeline."""

    help = (
        "Scan a registered repository, named by id, name or clone URL. Without --sync the "
        "scan is queued for the workers; with --sync it runs here and prints the result."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """REPO, --ref, --sync, --force."""
        parser.add_argument("repo", help="repository id, name or clone URL")
        parser.add_argument("--ref", default="", help="branch, tag or commit (default branch)")
        parser.add_argument("--sync", action="store_true", help="run now instead of queueing")
        parser.add_argument(
            "--force",
            action="store_true",
            help="run the engine even if the commit was already scanned (stores a new scan)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Find the repository, then queue or run."""
        repository = _find(options["repo"])
        with transaction.atomic():
            scan = scanning.request_scan(
                repository,
                Scan.Trigger.MANUAL,
                options["ref"],
                send=not options["sync"],
                force=options["force"],
            )
        if not options["sync"]:
            forced = " (forced)" if scan.forced else ""
            self.stdout.write(f"scan {scan.pk} of {repository.name} queued{forced}")
            return
        outcome = scanning.run_scan(scan.pk, socket.gethostname())
        scan.refresh_from_db()
        line = f"scan {scan.pk} of {repository.name}: {outcome.status}"
        if scan.status == Scan.Status.SUCCEEDED:
            line += f" — score {scan.score}, level {scan.level or 'none'}"
        elif outcome.detail:
            line += f" — {outcome.detail}"
        self.stdout.write(line)
        if scan.status == Scan.Status.FAILED:
            raise CommandError(scan.error)


def _find(key: str) -> Repository:
    queryset = Repository.objects.all()
    found = (
        (queryset.filter(pk=int(key)).first() if key.isdigit() else None)
        or queryset.filter(name=key).first()
        or queryset.filter(clone_url=key).first()
    )
    if found is None:
        raise CommandError(f"no registered repository matches {key!r}")
    return found
