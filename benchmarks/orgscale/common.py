"""Shared helpers of the organisation-scale benchmarks: Django set-up, machine facts, stats."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1/yardstick_bench"


def say(message: str) -> None:
    """Print a progress line at once."""
    print(message, flush=True)


def django_setup() -> Any:
    """Configure Django from the environment (DATABASE_URL required); the default connection."""
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit(f"set DATABASE_URL (e.g. {DEFAULT_DATABASE_URL})")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.db import connection

    django.setup()
    return connection


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; values need not be sorted."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def best_and_median(values: list[float], lower_is_better: bool = True) -> tuple[float, float]:
    """Best and median of repeated measurements."""
    best = min(values) if lower_is_better else max(values)
    return best, statistics.median(values)


def machine() -> str:
    """CPU model, core count, load average, Python and PostgreSQL-independent facts."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return f"{model}, {os.cpu_count()} CPUs, load {load}, Python {platform.python_version()}"


def machine_load() -> str:
    """The 1-minute load average, for a progress line."""
    return f"load {os.getloadavg()[0]:.1f}"


def git_commit() -> str:
    """The commit benchmarked (short), with `+dirty` when the tree differs from it."""

    def run(*args: str) -> str:
        return subprocess.run(
            ["git", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()

    commit = run("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+changes" if run("status", "--porcelain", "--untracked-files=no") else "")
