"""Run the dashboard as production does (gunicorn, DEBUG off) on 127.0.0.1, and sign in."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common import ROOT, say

HOST = "127.0.0.1"
# A fixed key: sessions and webhook secrets written by one run stay readable by the next.
SECRET_KEY = "benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105


@dataclass(frozen=True, slots=True)
class Server:
    """A running gunicorn: its address and the pid of its master."""

    port: int
    pid: int

    def workers(self) -> list[int]:
        """Pids of the master's worker processes."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []


def production_env(
    database_url: str, cache: str, overrides: dict[str, str] | None = None
) -> dict[str, str]:
    """Environment of a production-like process: DEBUG off, JSON logs, Redis or file cache."""
    var = Path(tempfile.gettempdir()) / "yardstick-bench"
    (var / "logs").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": f"{HOST},localhost",
        "DATABASE_URL": database_url,
        "VAR_DIR": str(var),
        "LOG_DIR": str(var / "logs"),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("DEBUG", "CACHE_URL", "WEB_WORKERS", "WEB_THREADS", "WEB_BIND"):
        env.pop(name, None)
    if cache == "redis":
        # The broker URL also selects Django's Redis cache (dashboard/settings.py).
        env["CELERY_BROKER_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    else:
        env.pop("CELERY_BROKER_URL", None)
    env.update(overrides or {})
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(
    database_url: str,
    *,
    workers: int | None = None,
    threads: int | None = None,
    cache: str = "redis",
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> Iterator[Server]:
    """The production web server (`gunicorn --config gunicorn.conf.py`, as the Dockerfile runs
    it) on a free loopback port until the block ends. `workers`/`threads` override the
    production sizing (WEB_WORKERS, WEB_THREADS) when given; `env`, extra settings."""
    port = _free_port()
    overrides = dict(env or {})
    if workers is not None:
        overrides["WEB_WORKERS"] = str(workers)
    if threads is not None:
        overrides["WEB_THREADS"] = str(threads)
    overrides["WEB_BIND"] = f"{HOST}:{port}"
    command = [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py")]
    log = log or Path(tempfile.gettempdir()) / "yardstick-bench" / "gunicorn.log"
    log.parent.mkdir(parents=True, exist_ok=True)  # a fresh machine has no such folder yet
    out = log.open("ab")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=production_env(database_url, cache, overrides),
        stdout=out,
        stderr=out,
    )
    try:
        _wait_ready(port, process)
        server = Server(port, process.pid)
        say(
            f"gunicorn on {HOST}:{port}: {len(server.workers())} worker(s) "
            f"x {overrides.get('WEB_THREADS', 'default')} thread(s), gthread, cache {cache}"
        )
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        out.close()


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited at start: see its log under /tmp/yardstick-bench")
        try:
            status, _, _ = request(port, "GET", "/health")
        except OSError:
            time.sleep(0.2)
            continue
        if status == 200:
            return
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /health within 60 s")


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request to the local server: (status, headers, body); Set-Cookie joined."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        found = {k.lower(): v for k, v in response.getheaders()}
        found["set-cookie"] = "\n".join(response.headers.get_all("Set-Cookie") or [])
        return response.status, found, data
    finally:
        conn.close()


def _cookie(headers: dict[str, str], name: str) -> str:
    match = re.search(rf"(?m)^{name}=([^;]+)", headers.get("set-cookie", ""))
    if not match:
        raise SystemExit(f"no {name} cookie in the answer")
    return match.group(1)


def sign_in(port: int, username: str, password: str) -> str:
    """Sign in through the login form like a browser; the Cookie header to send afterwards."""
    status, headers, body = request(port, "GET", "/accounts/login/")
    if status != 200:
        raise SystemExit(f"login page answered {status}")
    csrf = _cookie(headers, "csrftoken")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if token is None:
        raise SystemExit("no CSRF token on the login page")
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1).decode()}
    ).encode()
    status, headers, _ = request(
        port,
        "POST",
        "/accounts/login/",
        form,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",
            "Referer": f"http://{HOST}:{port}/accounts/login/",
        },
    )
    if status != 302:
        raise SystemExit(f"sign-in refused ({status}): run generate.py, check --password")
    return f"csrftoken={csrf}; sessionid={_cookie(headers, 'sessionid')}"


def rss_kib(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of a process in KiB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            fields[key] = int(value.split()[0])
    return fields.get("VmRSS", 0), fields.get("VmHWM", 0)
