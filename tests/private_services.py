"""Private PostgreSQL and Redis servers for fault tests: stopped and restarted at will.

The shared services on 5432/6379 serve every other test (and other people's runs), so a test
that breaks a service starts its own: a throwaway cluster from the machine's PostgreSQL
binaries (`initdb`, `pg_ctl`) and a `redis-server`, each on a free loopback port in a
temporary folder. `initdb` refuses to run as root, so as root the cluster belongs to the
`postgres` OS user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin() -> Path | None:
    """The newest `/usr/lib/postgresql/<n>/bin` holding initdb and pg_ctl, if any."""
    found = [
        Path(folder)
        for folder in glob.glob("/usr/lib/postgresql/*/bin")
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file()
    ]
    return max(found, key=lambda p: int(p.parent.name), default=None)


def missing_binaries() -> str | None:
    """Why private servers cannot start here, or None when they can."""
    if postgres_bin() is None:
        return "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
    if shutil.which("redis-server") is None:
        return "no redis-server on PATH"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a `postgres` OS user for initdb"
    return None


class PrivatePostgres:
    """A throwaway PostgreSQL cluster: trust auth, no fsync, on a free port."""

    def __init__(self) -> None:
        binaries = postgres_bin()
        if binaries is None:
            raise RuntimeError("no PostgreSQL server binaries")
        self.bin = binaries
        # Short path: the Unix socket lives here too (socket paths are limited to ~100 bytes).
        self.root = Path(tempfile.mkdtemp(prefix="ys-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self._owner: str | None = None
        if os.geteuid() == 0:
            self._owner = "postgres"
            shutil.chown(self.root, user="postgres", group="postgres")

    def _run(self, *argv: str, timeout: float = 60) -> None:
        prefix = ["runuser", "-u", self._owner, "--"] if self._owner else []
        subprocess.run(
            [*prefix, *argv], check=True, capture_output=True, timeout=timeout, cwd=self.root
        )

    def init(self) -> PrivatePostgres:
        """Create the cluster and start it."""
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        self.start()
        return self

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = " ".join(
            [
                f"-p {self.port}",
                f"-k {self.root}",
                "-c listen_addresses=127.0.0.1",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c shared_buffers=16MB",
                "-c max_connections=40",
            ]
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; `fast` disconnects every client, as a restart does."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        """Whether the postmaster is up."""
        return (self.data / "postmaster.pid").exists()

    def url(self, database: str = "postgres") -> str:
        """A libpq URL of `database` on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE)."""
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.encode())

    def destroy(self) -> None:
        """Stop the server (if up) and delete the cluster."""
        if self.running():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """A throwaway redis-server; `appendonly` makes queued messages survive a restart."""

    def __init__(self, *, appendonly: bool) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ys-redis-"))
        self.port = free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server on the same port and folder as before; wait for PONG."""
        argv = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.root),
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            "always",
            "--logfile",
            str(self.root / "server.log"),
        ]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"redis-server did not start: {self.root / 'server.log'}"
                    f" {(self.root / 'server.log').read_text(errors='replace')[-2000:]}"
                )
            time.sleep(0.05)

    def ping(self) -> bool:
        """Whether the server answers PING."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server the way an orchestrator does (SIGTERM: AOF flushed if enabled)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def url(self, db: int = 0) -> str:
        """The broker URL of database `db`."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    def destroy(self) -> None:
        """Stop the server and delete its folder."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
