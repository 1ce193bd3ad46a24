"""Scan throughput of one worker: repositories per minute at 5k and 50k lines, and rescans.

For each size, generates a FastAPI repository with benchmarks/engine_scan.py's generator,
copies it into `--repos` distinct git repositories, registers them (team `scan-bench`, removed
afterwards) in the database of DATABASE_URL, and runs the worker's pipeline
(`scanning.run_scan`, what the Celery task calls) in this process pinned to one CPU:

- first scan: mirror clone, checkout, engine, results, scores and roll-ups;
- new commit: one file changed and committed, then scanned (mirror fetch, checkout, engine,
  store): the everyday case of a push to the default branch;
- unchanged rescan: the same commit again (fetch, then the skip path: no checkout, no engine).

Beside them, in the same process: the floor (one `ruff check --isolated` plus one `ast.parse`
of every linted file, best runs summed) and the engine alone (`scanners.engine.scan`).

    uv run python benchmarks/orgscale/scans.py [--sizes 5000,50000] [--repos 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATABASE_URL, ROOT, django_setup, git_commit, machine, say

sys.path.insert(0, str(ROOT / "benchmarks"))
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
}
TEAM = "scan-bench"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True)


def floor_and_engine(root: Path, runs: int) -> tuple[float, float, float]:
    """(floor, engine best, engine median) in seconds, on the repository at `root`."""
    import engine_scan  # benchmarks/engine_scan.py

    from scanners.analysis.lint import lint_targets
    from scanners.context import RepoContext
    from scanners.engine import scan

    files = lint_targets(RepoContext(root))
    ruff = engine_scan.timed(lambda: engine_scan.ruff_floor(root, files), runs)
    parse = engine_scan.timed(lambda: engine_scan.parse_all(root, files), runs)
    engine = engine_scan.timed(lambda: scan(root), runs)
    return min(ruff) + min(parse), min(engine), statistics.median(engine)


def pipeline(template: Path, workdir: Path, count: int) -> dict[str, list[float]]:
    """Seconds per scan through `run_scan`: first scans, new commits, unchanged rescans."""
    from dashboard.models import Repository, Scan, Team
    from dashboard.services.scans.pipeline import request_scan, run_scan

    team, _ = Team.objects.get_or_create(slug=TEAM, defaults={"name": "Scan benchmark"})
    repos = []
    for n in range(count):
        path = workdir / f"repo-{n}"
        shutil.copytree(template, path)
        repos.append(
            Repository.objects.create(
                team=team, name=path.name, clone_url=str(path), url_key=f"scan-bench/{path}"
            )
        )
    times: dict[str, list[float]] = {"first scan": [], "new commit": [], "unchanged rescan": []}
    for phase in times:
        for repository in repos:
            if phase == "new commit":
                path = Path(repository.clone_url)
                with (path / "README.md").open("a") as readme:
                    readme.write(f"\nChange {time.time_ns()}.\n")
                _git(path, "commit", "-q", "-am", "docs: a change")
            scan = request_scan(repository, Scan.Trigger.MANUAL, send=False)
            started = time.perf_counter()
            outcome = run_scan(scan.pk, "bench")
            times[phase].append(time.perf_counter() - started)
            expected = "skipped" if phase == "unchanged rescan" else "succeeded"
            if outcome.status != expected:
                raise SystemExit(f"{phase}: {outcome.status} {outcome.detail}")
    return times


def _cleanup() -> None:
    from dashboard.models import Repository, Team

    Repository.objects.filter(team__slug=TEAM).delete()
    Team.objects.filter(slug=TEAM).delete()


def main() -> int:
    """Measure every size; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,50000", help="Python lines, comma-separated")
    parser.add_argument("--repos", type=int, default=3, help="repositories (scans) per size")
    parser.add_argument("--runs", type=int, default=3, help="runs of the floor and the engine")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("YARDSTICK_ADVISORY_DB", str(ROOT / "tests" / "fixtures" / "osv"))
    workdir = Path(tempfile.mkdtemp(prefix="yardstick-scans-"))
    os.environ["VAR_DIR"] = str(workdir / "var")  # mirrors and scratch checkouts
    os.environ.pop("ENVIRONMENT", None)  # development: local repositories allowed
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    django_setup()
    import engine_scan

    say(f"machine: {machine()}; commit {git_commit()}; pinned to CPU {cpu}")
    rows = []
    try:
        _cleanup()
        for lines in (int(s) for s in args.sizes.split(",")):
            template = workdir / f"template-{lines}"
            template.mkdir()
            files, real_lines = engine_scan.generate(template, lines)
            floor, engine_best, engine_median = floor_and_engine(template, args.runs)
            times = pipeline(template, workdir / f"repos-{lines}", args.repos)
            rows.append((real_lines, files, floor, engine_best, engine_median, times))
            say(
                f"{real_lines:,} lines: floor {floor:.2f} s, engine {engine_best:.2f} s, "
                + ", ".join(f"{k} {statistics.median(v):.2f} s" for k, v in times.items())
            )
    finally:
        _cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    say(f"load after: {machine()}")
    say("")
    say(
        "| Python lines | floor s | engine s (best / median) | first scan s | new commit s "
        "| unchanged rescan ms | repositories / min / worker (new commit, best / median) |"
    )
    say("|---:|---:|---:|---:|---:|---:|---:|")
    for real_lines, _, floor, engine_best, engine_median, times in rows:
        first, new, same = times["first scan"], times["new commit"], times["unchanged rescan"]
        say(
            f"| {real_lines:,} | {floor:.2f} | {engine_best:.2f} / {engine_median:.2f} "
            f"| {min(first):.2f} / {statistics.median(first):.2f} "
            f"| {min(new):.2f} / {statistics.median(new):.2f} "
            f"| {1000 * min(same):.0f} / {1000 * statistics.median(same):.0f} "
            f"| {60 / min(new):.1f} / {60 / statistics.median(new):.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
