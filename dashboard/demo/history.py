"""Pick the older commits of a generated history to scan, and run the engine over them.

Nothing here touches Django: the engine runs in worker processes (one per core) over a
scratch clone per repository, each commit checked out in turn, and the reports come back to
the caller, which stores them through the normal services.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from scanners.engine import scan
from scanners.report import Report


@dataclass(frozen=True, slots=True)
class Point:
    """A commit to scan and when it was made."""

    sha: str
    when: datetime


@dataclass(frozen=True, slots=True)
class Job:
    """The older commits of one repository to scan."""

    key: str
    path: Path
    project_dir: str
    points: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class Scanned:
    """One commit's report and how long the engine took."""

    point: Point
    report: Report
    duration_ms: int


def sample(commits: list[Point], interval: timedelta) -> list[Point]:
    """The commit at the head of the history every `interval` from the first one.

    The last commit is left out (the live scan judges it); a commit at the head on several
    sample dates is scanned once, since the daily roll-ups carry a score forward.
    """
    if len(commits) < 2:
        return []
    older, head = commits[:-1], commits[-1]
    picked: list[Point] = []
    moment = older[0].when
    while moment < head.when:
        current = [c for c in older if c.when <= moment][-1]
        if not picked or picked[-1].sha != current.sha:
            picked.append(current)
        moment += interval
    return picked


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=True)  # noqa: S603, S607


def scan_job(job: Job) -> tuple[str, list[Scanned]]:
    """Scan each point of `job` in a scratch clone (full history, commit checked out)."""
    out = []
    with tempfile.TemporaryDirectory(prefix="yardstick-demo-") as tmp:
        checkout = Path(tmp) / "checkout"
        _git(Path(tmp), "clone", "-q", "--no-checkout", str(job.path), str(checkout))
        for point in job.points:
            _git(checkout, "checkout", "-q", "-f", "--detach", point.sha)
            started = time.perf_counter()
            report = scan(checkout, project_dir=job.project_dir or None, repository=str(job.path))
            out.append(Scanned(point, report, int((time.perf_counter() - started) * 1000)))
    return job.key, out


def scan_jobs(jobs: list[Job], workers: int) -> Iterator[tuple[str, list[Scanned]]]:
    """Scan every job, in `workers` processes when more than one; yields as they finish."""
    if workers <= 1 or len(jobs) <= 1:
        yield from (scan_job(job) for job in jobs)
        return
    # `spawn`: never fork a process that holds database connections and threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(scan_job, jobs)


def default_workers() -> int:
    """One engine process per available core (at least one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)
