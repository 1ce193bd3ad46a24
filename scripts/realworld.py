"""Re-check the engine's verdicts on real public repositories against the recorded ones.

`docs/real-world.json` records, for each repository of `docs/real-world.md`, the commit that
was checked, its layout classes, the project folder a user names (`named_project_dir`, absent
when discovery chooses), the project folder that was judged and the status of every rule.
This script scans a folder of checkouts of those repositories (one folder per repository,
named `owner+name`, at the recorded commit) and prints every verdict that differs from the
recorded one, every rule that errors, and the CPU time of each scan.

CI does not run it: it needs the checkouts. Run it before a change to the engine lands:

    uv run python scripts/realworld.py --checkouts ~/rw            # compare; exit 1 on a difference
    uv run python scripts/realworld.py --checkouts ~/rw --only fastapi/full-stack-fastapi-template
    uv run python scripts/realworld.py --checkouts ~/rw --record   # after reading the changes

Make the checkouts with `--clone-commands`, which prints the git commands for each one.
A verdict that changes on purpose is read against the code, explained in docs/real-world.md,
then recorded with `--record`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess  # nosec B404 - git rev-parse on the developer's own checkouts
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scanners.engine import scan  # noqa: E402 - after the path set-up above

RECORD = ROOT / "docs" / "real-world.json"
#: A scan of one repository must take less than this many CPU seconds (issue 18); an entry
#: with a `stress` note (a repository far larger than a service usually is) is exempt, and
#: its time is still printed and recorded.
CPU_LIMIT_S = 10.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one scan of one checkout gave."""

    project_dir: str
    verdicts: dict[str, str]
    errors: dict[str, str]
    cpu_s: float
    score: float | None
    level: str


def folder_name(repo: str) -> str:
    """`owner/name` -> the checkout folder name `owner+name`."""
    return repo.replace("/", "+")


def head_commit(path: Path) -> str | None:
    """The commit checked out at `path`, or None outside a git checkout."""
    try:
        out = subprocess.run(  # noqa: S603 # nosec B603 B607 - fixed argv, the developer's git
            ["git", "-C", str(path), "rev-parse", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # ruff runs as a child
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def scan_isolated(path: Path, project_dir: str | None) -> Outcome:
    """`scan_checkout` in a fresh process pinned to one core: CPU time is this scan's alone.

    In one long process, the CPU of child processes (ruff, git) is counted when they are
    reaped, which may be during a later scan; a process per scan keeps the figures apart.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(scan_checkout, path, project_dir, one_core=True).result()


def warm_up() -> None:
    """Scan an empty folder first, so the figure is the scan's own: a worker process scans
    one repository after another, and the engine's module imports (compiled afresh where
    bytecode is not written, e.g. PYTHONDONTWRITEBYTECODE) and parsed standard are paid once
    per process, not per repository."""
    with tempfile.TemporaryDirectory(prefix="yardstick-warm-") as empty:
        scan(Path(empty))


def scan_checkout(path: Path, project_dir: str | None, *, one_core: bool = False) -> Outcome:
    """Scan one checkout with the engine, as `yardstick scan --project-dir` would."""
    if one_core and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # ruff inherits it too
    if one_core:
        warm_up()
    before = _cpu_seconds()
    report = scan(path, project_dir=project_dir or None)
    cpu = _cpu_seconds() - before
    verdicts = {o.spec.id: o.status.value for o in report.outcomes}
    errors = {o.spec.id: o.result.message for o in report.outcomes if o.status.value == "error"}
    return Outcome(
        project_dir=report.project_dir,
        verdicts=verdicts,
        errors=errors,
        cpu_s=round(cpu, 2),
        score=report.score.value,
        level=report.score.level.value,
    )


def compare(entry: dict[str, Any], outcome: Outcome) -> list[str]:
    """Human lines for every difference between a recorded entry and a new scan."""
    lines: list[str] = []
    if entry.get("project_dir", "") != outcome.project_dir:
        recorded_dir = entry.get("project_dir")
        lines.append(f"project folder: recorded {recorded_dir!r}, now {outcome.project_dir!r}")
    raw = entry.get("verdicts")
    recorded: dict[str, str] = raw if isinstance(raw, dict) else {}
    if not recorded:
        return [*lines, "no verdicts recorded yet (run with --record)"]
    for rule_id in sorted(set(recorded) | set(outcome.verdicts)):
        old, new = recorded.get(rule_id, "-"), outcome.verdicts.get(rule_id, "-")
        if old != new:
            lines.append(f"{rule_id}: recorded {old}, now {new}")
    for rule_id, message in sorted(outcome.errors.items()):
        lines.append(f"{rule_id}: rule error: {message}")
    if outcome.cpu_s >= CPU_LIMIT_S and not entry.get("stress"):
        lines.append(f"scan took {outcome.cpu_s:.1f} CPU s, over the {CPU_LIMIT_S:.0f} s limit")
    return lines


def load_record(path: Path = RECORD) -> dict[str, Any]:
    """The recorded verdicts (`{"repositories": [...]}`)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("repositories"), list):
        raise SystemExit(f"{path}: expected an object with a 'repositories' list")
    return data


def say(line: str) -> None:
    """One line of the script's output."""
    sys.stdout.write(line + "\n")


def clone_commands(entries: list[dict[str, Any]]) -> None:
    """Print the git commands that make a checkout of each entry at its recorded commit."""
    for entry in entries:
        folder = folder_name(str(entry["repo"]))
        say(
            f"git clone -q https://github.com/{entry['repo']}.git {folder}"
            f" && git -C {folder} checkout -q {entry['commit']}"
        )


def recheck(entry: dict[str, Any], checkouts: Path, record: bool) -> bool:
    """Rescan one entry's checkout, print what differs; True when something does."""
    repo = str(entry["repo"])
    path = checkouts / folder_name(repo)
    if not path.is_dir():
        say(f"{repo}: no checkout at {path}")
        return True
    commit = head_commit(path)
    if commit is not None and not commit.startswith(str(entry["commit"])):
        say(f"{repo}: checkout is at {commit[:10]}, the record is for {entry['commit'][:10]}")
    started = time.perf_counter()
    outcome = scan_isolated(path, str(entry.get("named_project_dir") or "") or None)
    wall = time.perf_counter() - started
    lines = compare(entry, outcome)
    status = "as recorded" if not lines else f"{len(lines)} difference(s)"
    say(
        f"{repo}: {status} (score {outcome.score}, {outcome.level};"
        f" {outcome.cpu_s:.1f} CPU s, {wall:.1f} s)"
    )
    for line in lines:
        say(f"    {line}")
    if record:
        entry.update(
            project_dir=outcome.project_dir,
            verdicts=outcome.verdicts,
            score=outcome.score,
            level=outcome.level,
            cpu_s=outcome.cpu_s,
        )
    return bool(lines)


def main(argv: list[str] | None = None) -> int:
    """Compare (or record) the verdicts of every chosen repository."""
    parser = argparse.ArgumentParser(
        description="Rescan checkouts of the real-world repositories and print every verdict "
        "that differs from docs/real-world.json.",
        epilog="exit status: 0 every verdict as recorded, 1 some differ or a checkout is missing.",
    )
    parser.add_argument(
        "--checkouts", type=Path, help="folder holding one owner+name checkout per repository"
    )
    parser.add_argument(
        "--only", action="append", default=[], metavar="OWNER/NAME", help="just this one"
    )
    parser.add_argument(
        "--record", action="store_true", help="write the new verdicts into docs/real-world.json"
    )
    parser.add_argument(
        "--record-file", type=Path, default=RECORD, help="the record (default docs/real-world.json)"
    )
    parser.add_argument(
        "--clone-commands", action="store_true", help="print git commands making the checkouts"
    )
    args = parser.parse_args(argv)

    data = load_record(args.record_file)
    entries = [e for e in data["repositories"] if isinstance(e, dict)]
    if args.only:
        entries = [e for e in entries if e.get("repo") in args.only]
        if not entries:
            parser.error(f"no recorded repository is named {', '.join(args.only)}")
    if args.clone_commands:
        clone_commands(entries)
        return 0
    if args.checkouts is None:
        parser.error("--checkouts is required (or --clone-commands)")
    differing = sum(recheck(entry, args.checkouts, args.record) for entry in entries)
    if args.record:
        args.record_file.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        say(f"recorded {len(entries)} repositories in {args.record_file}")
        return 0
    say(f"{len(entries) - differing} of {len(entries)} repositories as recorded")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
