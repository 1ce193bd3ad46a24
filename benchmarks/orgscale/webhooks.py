"""Webhook ingestion: signed GitHub pushes per second on one web process, with p99 latency.

Needs the database filled by generate.py. Gives `--repositories` of its repositories a webhook
secret, then sends GitHub `push` deliveries (the fixture payload, re-addressed to each
repository, a unique X-GitHub-Delivery each, signed with X-Hub-Signature-256) to one gunicorn
worker (gthread, `--threads`) on 127.0.0.1:

- open loop at `--rate` deliveries per second for `--duration` seconds: every delivery is sent
  at its scheduled instant on a new connection (as a git host does), whether or not earlier
  ones were answered, and its latency counts from that instant (no coordinated omission);
- closed loop (`--capacity`): `--connections` senders back to back, for the ceiling.

Pushes go to a feature branch by default (recorded, verified, deduplicated, answered
`ignored`: no scan). `--branch main` requests scans instead: they merge into one queued scan
per repository, published to the Redis broker; the benchmark deletes them and purges its queue
afterwards. The rate limit per source address (WEBHOOK_RATE_LIMIT) is raised for the run
(every delivery comes from 127.0.0.1 here; see benchmarks/README.md).

    uv run python benchmarks/orgscale/webhooks.py [--rate 300] [--duration 30] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import sys
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    DEFAULT_DATABASE_URL,
    ROOT,
    best_and_median,
    django_setup,
    git_commit,
    machine,
    percentile,
    say,
)
from server import HOST, SECRET_KEY, gunicorn, rss_kib

FIXTURE = ROOT / "tests" / "fixtures" / "webhooks" / "github-push.json"
SECRET = "bench-webhook-secret-0123456789abcdef"  # noqa: S105
Delivery = tuple[bytes, bytes]  # (request head, body)


def prepare(count: int) -> list[tuple[str, str]]:
    """Give `count` active repositories the benchmark's secret; their (name, clone URL)."""
    from dashboard.models import Repository, WebhookDelivery
    from dashboard.services.access import secrets

    repos = list(
        Repository.objects.filter(active=True)
        .order_by("pk")
        .values_list("pk", "name", "clone_url")[:count]
    )
    token = secrets.encrypt(SECRET)
    Repository.objects.filter(pk__in=[r[0] for r in repos]).update(webhook_secret_encrypted=token)
    WebhookDelivery.objects.filter(provider="github").delete()
    return [(name, url) for _, name, url in repos]


def deliveries(repos: list[tuple[str, str]], count: int, branch: str, port: int) -> list[Delivery]:
    """`count` signed pushes, round-robin over the repositories, each with a new delivery id."""
    template = json.loads(FIXTURE.read_text(encoding="utf-8"))
    out = []
    for n in range(count):
        name, url = repos[n % len(repos)]
        template["ref"] = f"refs/heads/{branch}"
        template["after"] = hashlib.sha1(f"{n}".encode()).hexdigest()  # noqa: S324 - a fake sha
        repo = template["repository"]
        repo.update(name=name, full_name=f"org/{name}", clone_url=url, html_url=url[:-4])
        repo.update(ssh_url=f"git@git.example.com:org/{name}.git", git_url=f"git://{url[8:]}")
        body = json.dumps(template, separators=(",", ":")).encode()
        signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        head = (
            f"POST /webhooks/github/ HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            "Content-Type: application/json\r\nUser-Agent: GitHub-Hookshot/bench\r\n"
            f"X-GitHub-Event: push\r\nX-GitHub-Delivery: {uuid.uuid4()}\r\n"
            f"X-Hub-Signature-256: sha256={signature}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        out.append((head, body))
    return out


async def _send(port: int, delivery: Delivery) -> int:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(delivery[0] + delivery[1])
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()  # until the server closes: `Connection: close`
        return int(status_line.split()[1])
    finally:
        writer.close()


async def open_loop(
    port: int, items: list[Delivery], rate: float
) -> tuple[list[float], Counter[int], float]:
    """Send each delivery at its instant; (latencies in ms, statuses, seconds taken)."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1

    async def one(index: int, delivery: Delivery) -> None:
        due = start + index / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        try:
            statuses[await _send(port, delivery)] += 1
        except OSError:
            statuses[0] += 1
        latencies.append((loop.time() - due) * 1000)

    await asyncio.gather(*(one(i, d) for i, d in enumerate(items)))
    return latencies, statuses, loop.time() - start


async def closed_loop(
    port: int, items: list[Delivery], connections: int
) -> tuple[list[float], Counter[int], float]:
    """`connections` senders back to back over the deliveries."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    queue = iter(items)
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def sender() -> None:
        for delivery in queue:
            sent = loop.time()
            try:
                statuses[await _send(port, delivery)] += 1
            except OSError:
                statuses[0] += 1
            latencies.append((loop.time() - sent) * 1000)

    await asyncio.gather(*(sender() for _ in range(connections)))
    return latencies, statuses, loop.time() - start


def _cleanup(branch: str) -> None:
    from dashboard.models import Scan

    if branch != "main":
        return
    deleted, _ = Scan.objects.filter(status="queued", trigger="webhook").delete()
    import redis

    client = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
    client.delete("celery")
    say(f"deleted {deleted} queued scans; purged the benchmark's Celery queue")


def main() -> int:
    """Run the open-loop (and optionally closed-loop) measurements; print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=300.0, help="deliveries per second")
    parser.add_argument("--duration", type=int, default=30, help="seconds per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, help="of the one worker (default: WEB_THREADS)")
    parser.add_argument("--repositories", type=int, default=500)
    parser.add_argument("--branch", default="feature/bench", help="`main` requests scans")
    parser.add_argument("--capacity", type=int, default=0, help="also N closed-loop senders")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["SECRET_KEY"] = SECRET_KEY  # secrets are encrypted with the server's key
    django_setup()
    repos = prepare(args.repositories)
    say(f"machine: {machine()}; commit {git_commit()}")
    rows = []
    # Every delivery comes from 127.0.0.1 here, where a git host's come from a few addresses:
    # the per-address limit is raised; the limiter still runs (one Redis call per delivery).
    with gunicorn(
        os.environ["DATABASE_URL"],
        workers=1,
        threads=args.threads,
        env={"WEBHOOK_RATE_LIMIT": "10000000"},
    ) as server:
        worker = server.workers()[0]
        count = int(args.rate * args.duration)
        warm = deliveries(repos, 200, args.branch, server.port)
        asyncio.run(closed_loop(server.port, warm, 4))
        for run in range(1, args.runs + 1):
            items = deliveries(repos, count, args.branch, server.port)
            latencies, statuses, seconds = asyncio.run(open_loop(server.port, items, args.rate))
            rows.append(("open", len(items) / seconds, latencies, statuses))
            say(
                f"run {run}: offered {args.rate:.0f}/s, {len(items) / seconds:.0f}/s done, "
                f"p50 {percentile(latencies, 50):.1f} p99 {percentile(latencies, 99):.1f} ms, "
                f"statuses {dict(statuses)}"
            )
            if args.capacity:
                items = deliveries(repos, count, args.branch, server.port)
                latencies, statuses, seconds = asyncio.run(
                    closed_loop(server.port, items, args.capacity)
                )
                rows.append(("closed", len(items) / seconds, latencies, statuses))
                say(
                    f"run {run}: {args.capacity} senders back to back: "
                    f"{len(items) / seconds:.0f}/s, "
                    f"p50 {percentile(latencies, 50):.1f} p99 {percentile(latencies, 99):.1f} ms"
                )
        rss, peak = rss_kib(worker)
    _cleanup(args.branch)
    from dashboard.models import WebhookDelivery

    recorded = WebhookDelivery.objects.filter(provider="github", accepted=True).count()
    say(f"load after: {machine()}; worker RSS {rss / 1024:.0f} MiB (peak {peak / 1024:.0f})")
    say(f"deliveries recorded as accepted: {recorded:,}")
    for mode in ("open", "closed"):
        runs = [r for r in rows if r[0] == mode]
        if not runs:
            continue
        rate = best_and_median([r[1] for r in runs], lower_is_better=False)
        p50 = best_and_median([percentile(r[2], 50) for r in runs])
        p99 = best_and_median([percentile(r[2], 99) for r in runs])
        bad = sum(n for r in runs for s, n in r[3].items() if s != 202)
        say(
            f"| {mode} loop | {rate[0]:.0f} / {rate[1]:.0f} deliveries/s | p50 {p50[1]:.1f} ms "
            f"| p99 {p99[0]:.1f} / {p99[1]:.1f} ms | non-202: {bad} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
