"""`manage.py quickstart` on the embedded defaults: migrate, admin, web + worker + beat."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
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
    assert "Admin account created — user: admin  password: " in result.stdout
    assert "worker executed a task" in result.stdout
    assert f"Yardstick is running at http://127.0.0.1:{port}/" in result.stdout
    assert (tmp_path / "var" / "yardstick.sqlite3").exists()


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_quickstart_stops_all_processes_on_ctrl_c(tmp_path: Path) -> None:
    """Even started as a shell without job control starts a background command: with
    SIGINT ignored, which Python would otherwise keep."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "quickstart", "--port", str(port), "--no-demo"],
        cwd=ROOT,
        env=_embedded_env(tmp_path),
        preexec_fn=_ignore_sigint,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    ready = False
    while time.monotonic() < deadline and not ready:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as r:
                ready = r.status == 200
        except OSError:
            time.sleep(0.5)
    try:
        assert ready
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # never leave it (and its servers) to the next tests
            proc.terminate()
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()  # its servers may hold the pipe: do not wait to read it
                proc.wait()
    assert "Stopped." in out
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
