"""`manage.py quickstart`: migrate, create an admin, load demo data, run web + worker + beat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from argparse import ArgumentParser
from pathlib import Path
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
        "worker and Celery beat together (their logs under VAR_DIR/logs). Ctrl-C, SIGTERM or "
        "SIGHUP stops all of them."
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
        """Prepare, start the processes, print the summary, supervise them until stopped."""
        _stop_on_signals()
        procs: dict[str, subprocess.Popen[bytes]] = {}
        try:
            accounts = self._prepare(options)
            logs = _log_dir()
            procs = self._start(options["host"], options["port"], logs)
            url = f"http://{options['host']}:{options['port']}/"
            self._wait_ready(url, procs)
            self._summary(url, accounts, logs, procs)
            if options["exit_when_ready"]:
                return
            self._supervise(procs)
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM or SIGHUP, at any stage: no traceback
            self.stdout.write("\nStopping…")
        finally:
            _stop(procs)
            self.stdout.write("Stopped.")

    def _prepare(self, options: dict[str, Any]) -> list[str]:
        """Migrate, create the admin, load the demo; the account lines for the summary."""
        apply_migrations(self.stdout)
        accounts = []
        password = ensure_admin()
        if password:
            accounts.append(
                f"Admin account created — user: admin  password: {password}  (shown once)"
            )
        if not options["no_demo"] and not Team.objects.exists():
            demo_output = _AccountLines(self.stdout)
            call_command("demo", size=options["demo_size"], stdout=demo_output)
            accounts += demo_output.accounts
        return accounts

    def _summary(
        self,
        url: str,
        accounts: list[str],
        logs: Path,
        procs: dict[str, subprocess.Popen[bytes]],
    ) -> None:
        """One block, last on the screen: where, who, the logs, how to stop."""
        rule = "─" * 72
        self.stdout.write(rule)
        self.stdout.write(self.style.SUCCESS(f"Yardstick is running at {url}"))
        for line in accounts:
            self.stdout.write(self.style.SUCCESS(f"  {line}"))
        if accounts:
            self.stdout.write("  (passwords are shown once: note them now)")
        else:
            self.stdout.write("  Sign in with your existing accounts (no password was created).")
        self.stdout.write(f"  Logs: {logs}/ ({', '.join(f'{name}.log' for name in procs)})")
        self.stdout.write(f"  Stop: Ctrl-C here, or `kill {os.getpid()}`: every process stops.")
        self.stdout.write(rule)

    def _start(self, host: str, port: int, logs: Path) -> dict[str, subprocess.Popen[bytes]]:
        """Web, workers and beat, each in its own session, writing to `logs/<name>.log`."""
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
                # Pull request reviews too (production gives them their own workers).
                "--queues=celery,reviews",
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
        # Their output goes to a file each, so the summary stays the last thing on screen.
        logs.mkdir(parents=True, exist_ok=True)
        procs = {}
        for name, argv in commands.items():
            with (logs / f"{name}.log").open("ab") as log:
                procs[name] = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
                    argv, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
                )
        return procs

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
    """Ctrl-C (SIGINT), SIGTERM (`kill`, `timeout`) and SIGHUP (a closed terminal) stop
    quickstart and its processes, whatever the parent did: a shell without job control starts
    background commands with SIGINT ignored, and Python keeps an inherited "ignore"."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupted)


class _AccountLines:
    """A stdout for `demo`: passes its progress through, keeps its account lines for the
    summary (they would otherwise scroll away above the servers' start)."""

    PREFIX = "Demo account — user:"

    def __init__(self, out: Any) -> None:
        self.out = out
        self.accounts: list[str] = []

    def write(self, text: str, *args: Any, **kwargs: Any) -> None:
        if self.PREFIX in text:
            self.accounts.append(text[text.index(self.PREFIX) :].strip())
        elif "(passwords are shown once)" not in text:
            self.out.write(text, *args, **kwargs)

    def flush(self) -> None:
        self.out.flush()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback URL
            return bool(response.status == 200)
    except OSError:
        return False


def _log_dir() -> Path:
    """Where the web server's, workers' and beat's output goes (`<name>.log` each)."""
    return Path(settings.VAR_DIR) / "logs"


def _raise_if_dead(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for name, proc in procs.items():
        if proc.poll() is not None:
            log = _log_dir() / f"{name}.log"
            raise CommandError(
                f"the {name} process exited with code {proc.returncode}; "
                f"the end of {log}:\n{_tail(log)}"
            )


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


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
