"""Peak memory of the results CSV export over N result rows (default 100,000).

Builds a throwaway SQLite database (or an empty PostgreSQL database named by --database-url)
with enough repositories
whose latest scans hold N results, then streams `/exports/results.csv`'s rows through the CSV
helper exactly as the view does, and reports throughput, the Python heap's peak during the
export (tracemalloc) and the process's peak RSS before and after it.

    uv run python benchmarks/export_memory.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup(workdir: Path, database_url: str | None) -> None:
    # Never the configured database: the benchmark fills its own.
    os.environ["VAR_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "dashboard.settings"
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _populate(rows: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from dashboard.models import CheckResult, Repository, Scan, Team
    from dashboard.services.standard.sync import current_standard

    standard = current_standard()
    rules = list(standard.rules.all())
    statuses = ("pass", "fail", "warn", "pass", "not_applicable")
    repositories = -(-rows // len(rules))
    left = rows
    with transaction.atomic():
        teams = Team.objects.bulk_create(
            Team(name=f"Team {n:03}", slug=f"team-{n:03}")
            for n in range(max(1, repositories // 25))
        )
        for n in range(repositories):
            repo = Repository.objects.create(
                team=teams[n % len(teams)],
                name=f"service-{n:05}",
                clone_url=f"https://git.example.com/org/service-{n:05}.git",
                url_key=f"git.example.com/org/service-{n:05}",
            )
            scan = Scan.objects.create(
                repository=repo,
                standard=standard,
                status=Scan.Status.SUCCEEDED,
                commit_sha=f"{n:040x}",
                finished_at=timezone.now(),
            )
            batch = rules[: min(left, len(rules))]
            left -= len(batch)
            CheckResult.objects.bulk_create(
                CheckResult(
                    scan=scan,
                    rule=rule,
                    status=statuses[(n + i) % len(statuses)],
                    message=f"{rule.rule_id}: a message of typical length for service {n}",
                    evidence=[
                        {"path": f"src/module_{i}.py", "line": i + 1, "message": "evidence"}
                        for i in range(3)
                    ],
                )
                for i, rule in enumerate(batch)
            )
            Repository.objects.filter(pk=repo.pk).update(latest_scan=scan, score=50.0)


def _rss_mib() -> float:
    # ru_maxrss is KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _export() -> tuple[int, int, float]:
    """Stream the results export as the view does; (lines, bytes, seconds)."""
    from dashboard.services.reporting import export_rows
    from dashboard.services.reporting.csv_stream import csv_lines

    started = time.perf_counter()
    header, rows = export_rows.results(export_rows.ResultFilters())
    size = lines = 0
    for chunk in csv_lines(header, rows):
        size += len(chunk)
        lines += chunk.count(b"\n")
    return lines, size, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", help="an EMPTY PostgreSQL database to fill (optional)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yardstick-bench-") as tmp:
        _setup(Path(tmp), args.database_url)
        started = time.perf_counter()
        _populate(args.rows)
        print(f"populated {args.rows:,} results in {time.perf_counter() - started:.1f} s")
        rss_before = _rss_mib()
        lines, size, elapsed = _export()
        rss_after = _rss_mib()
        tracemalloc.start()  # a second pass: tracing slows Python down, so it is not timed
        _export()
        _, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(f"exported {lines - 1:,} rows, {size / 2**20:.1f} MiB of CSV in {elapsed:.1f} s")
    print(f"peak RSS: {rss_before:.0f} MiB before the export, {rss_after:.0f} MiB after")
    print(f"python heap peak during the export: {heap_peak / 2**20:.1f} MiB")
    assert lines - 1 == args.rows, "every result is exported once"
    return 0


if __name__ == "__main__":
    sys.exit(main())
