"""`manage.py quickstart`: migrate, create an admin, load demo data, run web + worker + beat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboard.management.database import apply_migrations
from dashboard.models import Team
from dashboard.services.access.accounts import ensure_admin
from dashboard.services.infra.heartbeat import latest_heartbeat

READY_TIMEOUT_S = 60.0


class Command(BaseCommand):
    """Run Yardstick on the embedded defaults: one command, Ctrl-C stops everything."""

    help = (
        "Migrate the database, create an admin account (password printed once), load demo data "
        "into an empty dashboard (--no-demo to skip), then start the web server, a Celery "
        "worker and Celery beat together. Ctrl-C stops all of them."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Options for address and for CI smoke runs."""
        parser.add_argument(
            "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)"
        )
        parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
        parser.add_argument(
            "--no-demo",
            action="store_true",
            help="do not load demo data (loaded only when the database has no teams)",
        )
        parser.add_argument(
            "--demo-size",
            choices=("full", "small", "tiny"),
            default="full",
            help="size of the demo data (default full: 6 teams, 24 repositories, a year)",
        )
        parser.add_argument(
            "--exit-when-ready",
            action="store_true",
            help="stop everything once the server is ready and a worker ran a task (smoke test)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Prepare, start the processes, supervise them until interrupted."""
        _stop_on_signals()
        apply_migrations(self.stdout)
        password = ensure_admin()
        if password:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Admin account created — user: admin  password: {password}  (shown once)"
                )
            )
        if not options["no_demo"] and not Team.objects.exists():
            call_command("demo", size=options["demo_size"], stdout=self.stdout)
        procs = self._start(options["host"], options["port"])
        url = f"http://{options['host']}:{options['port']}/"
        try:
            self._wait_ready(url, procs)
            self.stdout.write(
                self.style.SUCCESS(f"Yardstick is running at {url}  (Ctrl-C to stop)")
            )
            if options["exit_when_ready"]:
                return
            self._supervise(procs)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            _stop(procs)
            self.stdout.write("Stopped.")

    def _start(self, host: str, port: int) -> dict[str, subprocess.Popen[bytes]]:
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        commands = {
            "web": [python, manage, "runserver", f"{host}:{port}", "--noreload", "--skip-checks"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "dashboard",
                "worker",
                "--loglevel=INFO",
                "--pool=solo",
                "--without-mingle",
                "--without-gossip",
            ],
            # Deep scans (opt-in, sandboxed tests) on their own queue and worker.
            "deep-worker": [
                python,
                "-m",
                "celery",
                "-A",
                "dashboard",
                "worker",
                "--queues=deep",
                "--hostname=deep@%h",
                "--loglevel=INFO",
                "--pool=solo",
                "--without-mingle",
                "--without-gossip",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "dashboard",
                "beat",
                "--loglevel=INFO",
                f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
            ],
        }
        # Own process group per child: Ctrl-C reaches us once, and we stop them in order.
        return {
            name: subprocess.Popen(argv, env=env, start_new_session=True)  # noqa: S603
            for name, argv in commands.items()
        }

    def _wait_ready(self, url: str, procs: dict[str, subprocess.Popen[bytes]]) -> None:
        from dashboard.tasks import heartbeat

        started = timezone.now()
        heartbeat.delay("quickstart")
        deadline = time.monotonic() + READY_TIMEOUT_S
        web_ok = worker_ok = False
        while time.monotonic() < deadline:
            _raise_if_dead(procs)
            web_ok = web_ok or _answers(url + "health/ready")
            worker_ok = worker_ok or latest_heartbeat(started) is not None
            if web_ok and worker_ok:
                self.stdout.write("Web server ready; worker executed a task.")
                return
            time.sleep(0.5)
        raise CommandError(
            f"not ready after {READY_TIMEOUT_S:.0f}s (web: {web_ok}, worker: {worker_ok})"
        )

    def _supervise(self, procs: dict[str, subprocess.Popen[bytes]]) -> None:
        while True:
            _raise_if_dead(procs)
            time.sleep(1)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _stop_on_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM stop quickstart and its processes, whatever the parent
    did: a shell without job control starts background commands with SIGINT ignored, and
    Python keeps an inherited "ignore"."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupted)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback URL
            return bool(response.status == 200)
    except OSError:
        return False


def _raise_if_dead(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for name, proc in procs.items():
        if proc.poll() is not None:
            raise CommandError(f"the {name} process exited with code {proc.returncode}")


def _stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
