"""Benchmark: static scans are not slowed by deep scans or by the report rules.

- static: `scanners.engine.scan()` of the golden project (fresh context each run), alone;
- static while a deep scan runs: the same, while another process runs deep scans of the
  small shop fixture back to back (what a `-Q deep` worker on the same host does);
- static with measured reports: the same scan given a coverage report (TST-006 path mapping).
Median of `--runs` runs each; the deep scan's own cost is printed too.

Run: `uv run python benchmarks/deep_scan.py [--runs 5]`
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scanners.deep import DeepScan, DeepScanConfig  # noqa: E402
from scanners.engine import scan  # noqa: E402
from scanners.measured import CoverageData, Reports  # noqa: E402
from tests.gitrepo import golden_repo, make_repo  # noqa: E402
from tests.unit.scanners.test_deep import fixture_files  # noqa: E402


def timed(func: object, runs: int) -> list[float]:
    """Wall times of `runs` calls."""
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        func()  # type: ignore[operator]
        out.append(time.perf_counter() - started)
    return out


def deep_loop(repo: str, work: str, stop: multiprocessing.synchronize.Event) -> None:
    """Deep scans back to back until told to stop."""
    config = DeepScanConfig(work_dir=Path(work) / "deep", cache_dir=Path(work) / "cache")
    while not stop.is_set():
        DeepScan(config).run(Path(repo))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="bench-deep-") as tmp:
        base = Path(tmp)
        base.chmod(0o755)
        golden = golden_repo(base / "golden")
        shop = make_repo(base / "shop", fixture_files())
        config = DeepScanConfig(work_dir=base / "deep", cache_dir=base / "cache")
        deep = DeepScan(config).run(shop)  # warms uv's cache
        files = {f"/ci/{m}": (8, 10) for m in ("src/services/note_service.py",)}
        reports = Reports(coverage=CoverageData(files))
        alone = timed(lambda: scan(golden), runs)
        with_reports = timed(lambda: scan(golden, reports=reports), runs)
        stop = multiprocessing.Event()
        worker = multiprocessing.Process(target=deep_loop, args=(str(shop), tmp, stop))
        worker.start()
        time.sleep(2)
        busy = timed(lambda: scan(golden), runs)
        stop.set()
        worker.join()
    peak = deep.peak_memory_kb // 1024
    print(f"deep scan of the shop fixture: {deep.duration_ms} ms, peak {peak} MiB")
    print("| measurement | median (s) |\n|---|---:|")
    for name, values in (
        ("static scan, alone", alone),
        ("static scan, measured reports given", with_reports),
        ("static scan, deep scans running beside it", busy),
    ):
        print(f"| {name} | {statistics.median(values):.3f} |")
    print(f"ratio busy/alone: {statistics.median(busy) / statistics.median(alone):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
