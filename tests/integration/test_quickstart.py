"""`manage.py quickstart` on the embedded defaults: migrate, admin, web + worker + beat."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(VAR_DIR=str(tmp_path / "var"), LOG_DIR=str(tmp_path / "logs"), PYTHONUNBUFFERED="1")
    return env


def test_quickstart_serves_ready_with_a_worker_then_exits(tmp_path: Path) -> None:
    port = _free_port()
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "quickstart",
            "--port",
            str(port),
            "--exit-when-ready",
            "--no-demo",
        ],
        cwd=ROOT,
        env=_embedded_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "worker executed a task" in result.stdout
    assert (tmp_path / "var" / "yardstick.sqlite3").exists()
    # One block at the end: where, who, the logs, how to stop; the servers' logs in files.
    block = result.stdout.split("─" * 72)[1]
    assert f"Yardstick is running at http://127.0.0.1:{port}/" in block
    assert "Admin account created — user: admin  password: " in block
    logs_line = (
        f"Logs: {tmp_path / 'var' / 'logs'}/ (web.log, worker.log, deep-worker.log, beat.log)"
    )
    assert logs_line in block
    assert "Stop: Ctrl-C here, or `kill " in block
    assert result.stdout.rstrip().endswith("Stopped.")
    logs = tmp_path / "var" / "logs"
    assert "celery@" in (logs / "worker.log").read_text()  # the worker's banner, not on screen
    assert "celery beat v" in (logs / "beat.log").read_text()
    for noise in ("celery@", "celery beat v", "Starting WSGI development server"):
        assert noise not in result.stdout + result.stderr


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("signum", "to_group"),
    [
        (signal.SIGINT, False),  # Ctrl-C
        (signal.SIGINT, True),  # Ctrl-C in a terminal reaches the whole foreground group
        (signal.SIGTERM, False),  # `kill`, `timeout`
        (signal.SIGHUP, False),  # the terminal closed
    ],
    ids=["sigint", "sigint-to-group", "sigterm", "sighup"],
)
def test_quickstart_stops_all_processes_on_a_signal(
    tmp_path: Path, signum: signal.Signals, to_group: bool
) -> None:
    """Started with SIGINT ignored, as a shell without job control starts a background
    command (Python would otherwise keep the "ignore"), in a session of its own so that the
    group signal reaches nothing but quickstart's group."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "quickstart", "--port", str(port), "--no-demo"],
        cwd=ROOT,
        env=_embedded_env(tmp_path),
        preexec_fn=_ignore_sigint,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # up to the summary: web ready and a task run by the worker
            seen.append(line)
            if line.startswith("  Stop: "):
                break
        assert seen[-1].startswith("  Stop: "), "".join(seen)[-2000:]
        if to_group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # never leave it (and its servers) to the next tests
            proc.terminate()
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()  # its servers may hold the pipe: do not wait to read it
                proc.wait()
    out = "".join(seen) + rest
    assert out.rstrip().endswith("Stopped."), out[-2000:]
    assert "Traceback" not in out
    assert "KeyboardInterrupt" not in out
    with pytest.raises(urllib.error.URLError):  # the web server is gone: the port is free
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as a server would
        sock.bind(("127.0.0.1", port))
    worker_log = (tmp_path / "var" / "logs" / "worker.log").read_text()
    assert "Warm shutdown" in worker_log, worker_log[-1500:]  # stopped, not killed
