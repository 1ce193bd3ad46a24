"""Page latency under 20 concurrent clients, and SQL queries per page, at organisation scale.

Needs the database filled by generate.py. Serves the dashboard with the production command
(`gunicorn --config gunicorn.conf.py`: gthread workers sized for 2 cores, DEBUG off, Redis
cache) on 127.0.0.1, signs in as `bench` through the login form, loads every path once (the
page cache then holds what a busy server's holds; `--cold` instead retires every cached panel
before each run), then for every page drives wrk (20 connections, closed loop: each client
sends its next request as soon as the last one answered) over random objects (any team,
repository, rule or table page), `--runs` times, pages interleaved.

    uv run python benchmarks/orgscale/pages.py [--duration 10] [--runs 3] [--only rule] [--cold]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    DEFAULT_DATABASE_URL,
    best_and_median,
    django_setup,
    git_commit,
    machine,
    machine_load,
    say,
)
from server import HOST, gunicorn, request, sign_in

LUA = Path(__file__).resolve().parent / "pages.lua"
RESULT = re.compile(r"RESULT (.*)")


@dataclass(frozen=True, slots=True)
class PageKind:
    """A page (or htmx partial) and the pool of concrete paths it is loaded with."""

    name: str
    htmx: bool
    paths: list[str]


def page_kinds(rng: random.Random) -> list[PageKind]:
    """Every page under test with its paths, from the generated organisation."""
    from dashboard.models import Repository, Rule, Team

    slugs = list(Team.objects.values_list("slug", flat=True))
    repos = list(Repository.objects.exclude(latest_scan=None).values_list("pk", flat=True))
    repos = rng.sample(repos, min(1000, len(repos)))
    rules = list(Rule.objects.filter(retired=False).values_list("rule_id", flat=True))
    team_pages = -(-len(slugs) // 25)
    repo_pages = -(-Repository.objects.filter(active=True).count() // 25)
    return [
        PageKind("overview", False, ["/"]),
        PageKind(
            "overview: teams table",
            True,
            [f"/?sort=-score&page={n}" for n in range(1, team_pages + 1)],
        ),
        PageKind("overview: what changed panel", True, ["/?panel=changes&changes=7"]),
        PageKind("overview: fix first panel", True, ["/?panel=fix-first"]),
        PageKind("teams index", False, [f"/teams/?page={n}" for n in range(1, team_pages + 1)]),
        PageKind("team", False, [f"/teams/{s}/" for s in slugs]),
        PageKind("team: a year", False, [f"/teams/{s}/?range=365" for s in slugs]),
        PageKind("team: repositories table", True, [f"/teams/{s}/?sort=name" for s in slugs]),
        PageKind(
            "repositories", False, [f"/repositories/?page={n}" for n in range(1, repo_pages + 1)]
        ),
        PageKind(
            "repositories: search",
            True,
            [f"/repositories/?q=svc-{a}&sort=-score" for a in ("app", "services", "routers")],
        ),
        PageKind("repository", False, [f"/repositories/{pk}/" for pk in repos]),
        PageKind(
            "repository: results",
            True,
            [f"/repositories/{pk}/?status=fail&partial=results" for pk in repos],
        ),
        PageKind("rule", False, [f"/rules/{r}/" for r in rules]),
        PageKind("rule: results table", True, [f"/rules/{r}/?status=fail&page=2" for r in rules]),
        PageKind("waivers register", False, ["/waivers/", "/waivers/?expiry=expiring"]),
        PageKind("exports", False, ["/exports/"]),
    ]


def query_counts(kinds: list[PageKind]) -> dict[str, tuple[int, int]]:
    """SQL queries of each page (in this process, Django's test client): (uncached, cached).

    Uncached: the first request after every cached panel was retired; cached: the next one.
    """
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(username="bench"))
    counts = {}
    for kind in kinds:
        headers = {"HX-Request": "true"} if kind.htmx else {}
        client.get(kind.paths[0], headers=headers)  # warm the process (standard, templates)
        found = []
        for retire in (True, False):
            if retire:
                retire_cached_panels()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(kind.paths[0], headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{kind.paths[0]} answered {response.status_code}")
            found.append(len(queries))
        counts[kind.name] = (found[0], found[1])
    return counts


def wrk(
    port: int,
    kind: PageKind,
    paths_file: Path,
    cookie: str,
    args: argparse.Namespace,
    duration: int,
) -> dict[str, float]:
    """One wrk run over the page's paths; the parsed RESULT line."""
    env = {
        **os.environ,
        "BENCH_PATHS": str(paths_file),
        "BENCH_COOKIE": cookie,
        "BENCH_HTMX": "1" if kind.htmx else "0",
        "BENCH_THINK_MS": str(args.think),
    }
    command = [
        "wrk", f"-t{min(2, args.connections)}", f"-c{args.connections}", f"-d{duration}s",
        "--timeout", "10s",
        "-s", str(LUA), f"http://{HOST}:{port}",
    ]  # fmt: skip
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    match = RESULT.search(out)
    if match is None:
        raise SystemExit(f"wrk gave no result:\n{out}")
    values = {k: float(v) for k, v in (item.split("=") for item in match.group(1).split())}
    _drain(port)
    if not values["requests"]:
        raise SystemExit(f"{kind.name}: no answer within {duration} s: try a longer --duration")
    if values["errors"] or values["wrong"]:
        raise SystemExit(
            f"{kind.name}: {values['errors']:.0f} errors, {values['wrong']:.0f} non-200"
        )
    values["rps"] = values["requests"] / values["seconds"]
    return values


def prime(port: int, kind: PageKind, cookie: str) -> float:
    """Request each of the page's paths once (4 at a time), as visitors would have; seconds."""
    headers = {"Cookie": cookie, **({"HX-Request": "true"} if kind.htmx else {})}
    started = time.monotonic()

    def one(path: str) -> None:
        status, _, _ = request(port, "GET", path, headers=headers)
        if status != 200:
            raise SystemExit(f"{path} answered {status}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, kind.paths))
    return time.monotonic() - started


def retire_cached_panels() -> None:
    """What midnight's roll-up does to the page cache: every panel is rendered afresh."""
    from dashboard.services.infra import page_versions

    page_versions.changed(everything=True)


def _drain(port: int) -> None:
    """Wait until requests a finished wrk left queued are served: runs must not overlap."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        started = time.monotonic()
        request(port, "GET", "/health")
        if time.monotonic() - started < 0.05:
            return
        time.sleep(0.5)


def main() -> int:
    """Measure every page; print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument(
        "--think", type=int, default=0, help="mean think time (ms) between a client's requests"
    )
    parser.add_argument("--workers", type=int, help="override the production WEB_WORKERS")
    parser.add_argument("--threads", type=int, help="override the production WEB_THREADS")
    parser.add_argument("--cache", choices=("redis", "file"), default="redis")
    parser.add_argument("--cold", action="store_true", help="retire cached panels before runs")
    parser.add_argument("--only", default="", help="only pages whose name contains this")
    parser.add_argument("--password", default="bench-password-2026")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    database_url = os.environ["DATABASE_URL"]
    if args.cache == "redis":  # this process retires panels in the server's cache (--cold)
        os.environ["CACHE_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    django_setup()
    kinds = [k for k in page_kinds(random.Random(7)) if args.only in k.name]
    counts = query_counts(kinds)
    say(f"machine: {machine()}; commit {git_commit()}")
    results: dict[str, list[dict[str, float]]] = {k.name: [] for k in kinds}
    with (
        tempfile.TemporaryDirectory(prefix="yardstick-pages-") as tmp,
        gunicorn(
            database_url, workers=args.workers, threads=args.threads, cache=args.cache
        ) as server,
    ):
        cookie = sign_in(server.port, "bench", args.password)
        files = {}
        for kind in kinds:
            files[kind.name] = Path(tmp) / f"{len(files)}.txt"
            files[kind.name].write_text("\n".join(kind.paths) + "\n")
            if not args.cold:
                seconds = prime(server.port, kind, cookie)
                say(f"primed {kind.name}: {len(kind.paths)} paths in {seconds:.0f} s")
            wrk(server.port, kind, files[kind.name], cookie, args, 2)  # warm-up, not counted
        for run in range(1, args.runs + 1):
            for kind in kinds:
                if args.cold:
                    retire_cached_panels()
                values = wrk(server.port, kind, files[kind.name], cookie, args, args.duration)
                results[kind.name].append(values)
                say(
                    f"run {run} {kind.name}: {values['rps']:.0f} req/s, p50 {values['p50']:.0f} "
                    f"p95 {values['p95']:.0f} p99 {values['p99']:.0f} ms ({machine_load()})"
                )
    say(f"load after: {machine()}")
    say("")
    say(
        "| page | queries (uncached / cached) | req/s (best / median) | p50 ms "
        "| p95 ms (best / median) | p99 ms (best / median) |"
    )
    say("|---|---:|---:|---:|---:|---:|")
    for kind in kinds:
        runs = results[kind.name]
        rps = best_and_median([r["rps"] for r in runs], lower_is_better=False)
        p50 = best_and_median([r["p50"] for r in runs])
        p95 = best_and_median([r["p95"] for r in runs])
        p99 = best_and_median([r["p99"] for r in runs])
        say(
            f"| {kind.name}{' (htmx)' if kind.htmx else ''} "
            f"| {counts[kind.name][0]} / {counts[kind.name][1]} "
            f"| {rps[0]:.0f} / {rps[1]:.0f} | {p50[1]:.0f} | {p95[0]:.0f} / {p95[1]:.0f} "
            f"| {p99[0]:.0f} / {p99[1]:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
