"""CSV export of 1,000,000 result rows through the web server: rows/s and the worker's peak RSS.

Fills its own PostgreSQL database (default `yardstick_bench_export`, created and migrated if
missing) with generate.py: enough repositories that their latest scans hold at least
`--rows` results (124 a scan). Then serves the dashboard with one production gunicorn worker
on 127.0.0.1, signs in, and downloads `/exports/results.csv` `--runs` times, reading the
stream as a client would. Reported: rows, MiB, seconds, rows/s, and the worker's RSS before
and its peak (VmHWM) after each download.

    uv run python benchmarks/orgscale/export.py [--rows 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, git_commit, machine, say
from server import HOST, gunicorn, request, rss_kib, sign_in

DEFAULT_URL = "postgresql://postgres@127.0.0.1/yardstick_bench_export"
RULES = 124
# generate.py leaves ~2% of repositories inactive and ~1% never scanned.
COVERED = 0.965


def ensure_database(url: str, rows: int) -> None:
    """Create, migrate and fill the export database unless it already is."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            say(f"created database {name}")
    env = {**os.environ, "DATABASE_URL": url}
    run = [sys.executable, "manage.py", "migrate", "--verbosity", "0"]
    subprocess.run(run, cwd=ROOT, env=env, check=True)
    repositories = int(rows / (RULES * COVERED)) + 50
    generate = [
        sys.executable, str(Path(__file__).with_name("generate.py")),
        "--repositories", str(repositories), "--teams", "200", "--days", "2",
        "--rule-days", "1", "--scans-per-repo", "2",
    ]  # fmt: skip
    subprocess.run(generate, cwd=ROOT, env=env, check=True)


def download(port: int, cookie: str) -> tuple[int, int, float]:
    """Stream the results export; (data rows, bytes, seconds)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", "/exports/results.csv", headers={"Cookie": cookie})
    response = conn.getresponse()
    if response.status != 200:
        raise SystemExit(f"export answered {response.status}")
    size = lines = 0
    while chunk := response.read(256 * 1024):
        size += len(chunk)
        lines += chunk.count(b"\n")
    conn.close()
    return lines - 1, size, time.perf_counter() - started


def main() -> int:
    """Fill if needed, then download the export `--runs` times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--database-url", default=os.environ.get("EXPORT_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--password", default="bench-password-2026")
    args = parser.parse_args()
    ensure_database(args.database_url, args.rows)
    say(f"machine: {machine()}; commit {git_commit()}")
    results = []
    with gunicorn(args.database_url, workers=1, cache="redis") as server:
        worker = server.workers()[0]
        cookie = sign_in(server.port, "bench", args.password)
        request(server.port, "GET", "/", headers={"Cookie": cookie})  # a page first: warm
        for run in range(1, args.runs + 1):
            before, _ = rss_kib(worker)
            rows, size, seconds = download(server.port, cookie)
            _, peak = rss_kib(worker)
            results.append((rows, size, seconds, before, peak))
            say(
                f"run {run}: {rows:,} rows, {size / 2**20:.0f} MiB in {seconds:.1f} s "
                f"({rows / seconds:,.0f} rows/s); worker RSS {before / 1024:.0f} MiB before, "
                f"peak {peak / 1024:.0f} MiB"
            )
    if any(r[0] < args.rows for r in results):
        raise SystemExit(f"fewer than {args.rows:,} rows exported: regenerate with --reset")
    rates = [r[0] / r[2] for r in results]
    say(f"load after: {machine()}")
    say("")
    say(
        "| rows | CSV MiB | seconds (best / median) | rows/s (best / median) "
        "| worker RSS before → peak |"
    )
    say("|---:|---:|---:|---:|---:|")
    rows, size = results[0][0], results[0][1]
    say(
        f"| {rows:,} | {size / 2**20:.0f} | {min(r[2] for r in results):.1f} / "
        f"{statistics.median(r[2] for r in results):.1f} | {max(rates):,.0f} / "
        f"{statistics.median(rates):,.0f} | {min(r[3] for r in results) / 1024:.0f} → "
        f"{max(r[4] for r in results) / 1024:.0f} MiB |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
