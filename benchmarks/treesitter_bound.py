"""Benchmark: the least a tree-sitter engine would pay, against the engine scan's floor.

ADR 0002 weighs rewriting the analyses on tree-sitter to meet "a full scan within 2x the
floor". Before anyone funds that, this measures the work such an engine could not avoid, on
the same generated repository as `engine_scan.py` and in the same rounds, pinned to one core:

- the floor, exactly as `engine_scan.py` takes it (one `ruff check --isolated` with the
  scanner's arguments + read and `ast.parse` of every file);
- what every engine pays whatever its parser: the file index (`git ls-files`), `ruff check`
  with its JSON parsed (`ctx.lint`), `ruff format --check` (`ctx.format_check`), `uv.lock`;
- tree-sitter: parse every file (the trees kept), then one query capturing every call,
  import, function, class, decorator, assignment, string, raise, try, with and await, with
  the type and start line of each capture read once in Python: the least a rule written in
  Python does with a native query's answer.

What is left of 2x the floor after that is the budget for the judgements of all 124 rules.

tree-sitter is not a dependency of Yardstick. Run:
`uv run --with tree-sitter --with tree-sitter-python python benchmarks/treesitter_bound.py`
(options: `--lines 50000`, `--runs 5`, `--repo DIR` to reuse a repository that
`engine_scan.py --keep DIR` generated: pass `DIR/repo`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import tree_sitter_python
from engine_scan import (
    OSV_FIXTURE,
    cpu_model,
    generate,
    git_commit,
    parse_all,
    pin_one_core,
    ruff_floor,
)
from tree_sitter import Language, Parser, Query, QueryCursor, Tree

from scanners.analysis.lint import lint_targets
from scanners.context import RepoContext
from scanners.gcpause import gc_paused

PYTHON = Language(tree_sitter_python.language())
FACTS = """
(call function: (_) @callee) @call
(import_statement) @import
(import_from_statement) @import_from
(function_definition name: (identifier) @function_name) @function
(class_definition name: (identifier) @class_name) @class
(decorator) @decorator
(assignment left: (_) @target) @assignment
(string) @string
(raise_statement) @raise
(try_statement) @try
(with_statement) @with
(await) @await
"""


FLOOR = ("ruff check", "ast.parse")


def engine_common(root: Path) -> float:
    """Seconds that any engine pays, whatever parses the Python: the file index, `ruff check`
    with its JSON parsed, `ruff format --check`, `uv.lock`.

    `RepoContext` lists ruff's targets from its parsed modules, so the modules are built
    first and their time (reading and `ast.parse`, which a tree-sitter engine would not do)
    is left out.
    """
    start = time.perf_counter()
    ctx = RepoContext(root)
    ctx.files  # noqa: B018 - cached properties: computing them is the point
    before = time.perf_counter()
    ctx.python_files  # noqa: B018
    skipped = time.perf_counter() - before
    ctx.lint  # noqa: B018
    ctx.format_check  # noqa: B018
    ctx.uv_lock  # noqa: B018
    return time.perf_counter() - start - skipped


def ts_parse(root: Path, files: list[str], trees: list[Tree]) -> None:
    """Read and parse every file with tree-sitter, keeping the trees (as an engine must)."""
    parser = Parser(PYTHON)
    trees.clear()
    trees.extend(parser.parse((root / rel).read_bytes()) for rel in files)


def ts_facts(trees: list[Tree], query: Query) -> int:
    """Run the fact query over every tree and read each capture's type and line once."""
    seen = 0
    for tree in trees:
        for nodes in QueryCursor(query).captures(tree.root_node).values():
            for node in nodes:
                _ = node.type, node.start_point[0]
                seen += 1
    return seen


def timed(func: Callable[[], object], *, pause_gc: bool) -> float:
    """Wall seconds of one call (or the seconds it returns, when it measures itself); the
    engine's parts run with the GC paused, as `engine.scan` runs, and the floor's parts as
    `engine_scan.py` times them (collector on).
    """
    with gc_paused() if pause_gc else nullcontext():
        start = time.perf_counter()
        measured = func()
        elapsed = time.perf_counter() - start
    return measured if isinstance(measured, float) else elapsed


def main() -> int:
    """Generate (or reuse) the repository, time in rounds, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000, help="Python lines to generate")
    parser.add_argument("--runs", type=int, default=5, help="rounds")
    parser.add_argument("--repo", type=Path, help="an already generated repository to reuse")
    args = parser.parse_args()
    os.environ.setdefault("YARDSTICK_ADVISORY_DB", str(OSV_FIXTURE))
    pinned = pin_one_core()
    workdir = None if args.repo else Path(tempfile.mkdtemp(prefix="yardstick-ts-"))
    try:
        root = args.repo or workdir / "repo"  # type: ignore[operator]
        if workdir is not None:
            root.mkdir(parents=True)
            generate(root, args.lines)
        files = lint_targets(RepoContext(root))
        query = Query(PYTHON, FACTS)
        trees: list[Tree] = []
        names = ("ruff check", "ast.parse", "common", "ts parse", "ts facts")
        times: dict[str, list[float]] = {name: [] for name in names}
        captures = 0

        def facts() -> None:
            nonlocal captures
            captures = ts_facts(trees, query)

        steps = {
            "ruff check": lambda: ruff_floor(root, files),
            "ast.parse": lambda: parse_all(root, files),
            "common": lambda: engine_common(root),
            "ts parse": lambda: ts_parse(root, files, trees),
            "ts facts": facts,
        }
        for _ in range(args.runs):
            for name, step in steps.items():
                times[name].append(timed(step, pause_gc=name not in FLOOR))
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    floors = [r + p for r, p in zip(times["ruff check"], times["ast.parse"], strict=True)]
    bounds = [
        c + p + f
        for c, p, f in zip(times["common"], times["ts parse"], times["ts facts"], strict=True)
    ]
    ratios = sorted(b / f for b, f in zip(bounds, floors, strict=True))
    budgets = sorted(2 * f - b for b, f in zip(bounds, floors, strict=True))
    print(f"# tree-sitter lower bound (commit {git_commit()})\n")
    print(f"- machine: {cpu_model()}, {pinned}; {len(files)} files, {captures:,} captures\n")
    print("| measurement | best (s) | median (s) |")
    print("|---|---:|---:|")
    labels = {
        "ruff check": "ruff check --isolated (floor part)",
        "ast.parse": "read + ast.parse every file (floor part)",
        "common": "any engine: file index, ruff check + JSON, ruff format --check, uv.lock",
        "ts parse": "tree-sitter: read + parse every file, trees kept",
        "ts facts": "tree-sitter: fact query, each capture read once",
    }
    for name in names:
        best, median = min(times[name]), statistics.median(times[name])
        print(f"| {labels[name]} | {best:.3f} | {median:.3f} |")
    print(f"| **floor** | {min(floors):.3f} | {statistics.median(floors):.3f} |")
    print(f"| **tree-sitter engine before any rule** | {min(bounds):.3f} | ", end="")
    print(f"{statistics.median(bounds):.3f} |")
    print(
        f"| that / floor of the same round | {ratios[0]:.2f}x | {statistics.median(ratios):.2f}x |"
    )
    print(
        f"| left for all rules within 2x the floor, same round | {budgets[-1]:.3f} | "
        f"{statistics.median(budgets):.3f} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
