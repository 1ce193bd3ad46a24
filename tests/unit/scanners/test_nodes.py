"""The per-tree node index (scanners.analysis.nodes) and the scan's other caches and shortcuts.

Each cached answer must equal what the uncached reference computes, in the same order, since
rules report evidence in that order.
"""

from __future__ import annotations

import ast
import gc
import subprocess
import sys
import weakref
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scanners.analysis import nodes
from scanners.analysis.codescan import iter_scoped_nodes
from scanners.analysis.lint import wait_exit
from scanners.analysis.secrets import _LITERALS, _PATTERNS
from scanners.context import RepoContext, _nesting_depth, _too_deep
from scanners.engine import scan
from scanners.gcpause import gc_paused
from tests.gitrepo import make_repo

SOURCE = '''
import os
from typing import Any

CONFIG = {"a": 1, **os.environ, None: f"{os.getenv('X')!r:>{width()}}"}


@decorate(arg=make())
async def handler(x: int = default(), *, y: Any = None) -> list[int]:
    """Doc."""
    global COUNTER
    data = [call(i) for i in range(3) if check(i)]
    fn = lambda z=outer(): inner(z)
    try:
        await x.fetch()
    except* ValueError:
        pass
    match data:
        case [first, *rest] if guard(first):
            return rest
        case Point(x=0):
            return [first_call()]
    return data if ok() else other()


class Service(Base, metaclass=Meta):
    def method(self) -> None:
        def nested() -> None:
            deep()

        nested()
'''


def parse() -> ast.Module:
    return ast.parse(SOURCE)


def test_walk_matches_ast_walk_order_and_is_computed_once() -> None:
    tree = parse()
    found = nodes.walk(tree)
    assert list(found) == list(ast.walk(tree))
    assert nodes.walk(tree) is found
    function = next(n for n in ast.walk(tree) if isinstance(n, ast.AsyncFunctionDef))
    assert list(nodes.walk(function)) == list(ast.walk(function))


EVERY_KIND = """
from .pkg import name as alias
type Pair[T: int, *Ts, **P] = tuple[T, T]
def generic[T](a, /, b, *args, c, d=1, **kw) -> T:
    nonlocal_ = {**kw, "k": a, None: b} if a else {*args}
    def inner():
        nonlocal nonlocal_
        del nonlocal_
    with open(a) as f, ctx():
        yield from (x async for x in f)
    match b:
        case None | True | {"k": [1, *_], **rest} if rest:
            raise ValueError(b) from None
        case Point(1, y=2) as p:
            assert p, f"{p!r:>{c}}"
    for i in range(-1, +2, ~3):
        a @= b ** c // d
    return lambda *, q=None, r: (q := r) is not q not in [q]
"""


def test_walk_matches_ast_walk_over_every_kind_of_field() -> None:
    tree = ast.parse(EVERY_KIND)
    assert list(nodes.walk(tree)) == list(ast.walk(tree))
    for node in ast.walk(tree):
        assert nodes._children(node) == list(ast.iter_child_nodes(node))


def test_iter_walk_yields_ast_walk_order_lazily_and_reads_an_index() -> None:
    for source in (SOURCE, EVERY_KIND):
        tree = ast.parse(source)
        assert list(nodes.iter_walk(tree)) == list(ast.walk(tree))  # not indexed: its own queue
        assert not hasattr(tree, nodes._ATTRIBUTE)  # nothing cached
        function = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))
        assert list(nodes.iter_walk(function)) == list(ast.walk(function))
    tree = parse()
    walker = nodes.iter_walk(tree)
    assert next(walker) is tree
    assert next(walker) is tree.body[0]  # breadth first: the module's statements come next
    indexed = parse()
    with nodes.indexing():
        cached = nodes.walk(indexed)
        assert list(nodes.iter_walk(indexed)) == list(cached)
    assert list(nodes.iter_walk(indexed)) == list(ast.walk(indexed))


def test_of_type_and_of_types_keep_walk_order() -> None:
    tree = parse()
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert list(nodes.of_type(tree, ast.Call)) == calls
    assert nodes.of_type(tree, ast.Call) is nodes.of_type(tree, ast.Call)
    mixed = [n for n in ast.walk(tree) if isinstance(n, ast.Name | ast.Attribute)]
    assert list(nodes.of_types(tree, ast.Name, ast.Attribute)) == mixed
    assert [f.name for f in nodes.functions(tree)] == ["handler", "method", "nested"]
    assert list(nodes.of_type(tree, ast.expr)) == [
        n for n in ast.walk(tree) if isinstance(n, ast.expr)
    ]  # abstract bases match their subclasses, as isinstance does


def test_scoped_matches_the_reference_and_scoped_calls_keep_its_order() -> None:
    tree = parse()
    reference = list(iter_scoped_nodes(tree))
    assert [(id(n), id(s)) for n, s in nodes.scoped(tree)] == [(id(n), id(s)) for n, s in reference]
    calls = [(n, s) for n, s in reference if isinstance(n, ast.Call)]
    assert [(id(n), id(s)) for n, s in nodes.scoped_calls(tree)] == [
        (id(n), id(s)) for n, s in calls
    ]
    scopes = {ast.unparse(n.func): getattr(s, "name", type(s).__name__) for n, s in calls}
    assert scopes["decorate"] == "NoneType"  # decorators run in the enclosing scope
    assert scopes["default"] == "NoneType"  # so do default values
    assert scopes["outer"] == "handler"  # a lambda's default runs where the lambda is built
    assert scopes["inner"] == "Lambda"
    assert scopes["deep"] == "nested"


def test_parents_match_the_reference_map() -> None:
    tree = parse()
    reference = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    assert nodes.parents(tree) == reference
    assert nodes.parents(tree) is nodes.parents(tree)


def test_memo_computes_once_per_tree_and_key() -> None:
    tree, other = parse(), parse()
    calls: list[ast.AST] = []

    def compute(node: ast.AST) -> int:
        calls.append(node)
        return len(calls)

    assert nodes.memo(tree, "k", compute) == 1
    assert nodes.memo(tree, "k", compute) == 1
    assert nodes.memo(tree, "other", compute) == 2
    assert nodes.memo(other, "k", compute) == 3
    assert calls == [tree, tree, other]


def test_the_index_dies_with_its_tree() -> None:
    tree = parse()
    nodes.walk(tree)
    nodes.scoped(tree)
    nodes.parents(tree)
    gone = weakref.ref(tree)
    del tree
    gc.collect()
    assert gone() is None


# ----- context shortcuts ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "limit"),
    [("", 0), ("(" * 3, 2), ("(" * 3, 3), ("()" * 50, 1), ("([{" * 4 + ")]}" * 4, 11), ("[", 0)],
)
def test_too_deep_agrees_with_the_nesting_depth(text: str, limit: int) -> None:
    assert _too_deep(text, limit) is (_nesting_depth(text) > limit)


def _reference_depth(text: str) -> int:
    """The nesting depth as a loop over every character: brackets, never below zero."""
    depth = best = 0
    for char in text:
        if char in "([{":
            depth += 1
            best = max(best, depth)
        elif char in ")]}":
            depth = max(0, depth - 1)
    return best


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="([{)]}a\n", max_size=80))
@example(text="))((")
@example(text="(()))((((")
@example(text="")
def test_nesting_depth_equals_the_character_loop(text: str) -> None:
    assert _nesting_depth(text) == _reference_depth(text)


def test_context_caches_modules_layers_and_derived_values(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "pyproject.toml": '[project]\nname = "svc"\nversion = "0"\n',
            "src/services/a.py": "x = 1\n",
            "src/models/b.py": "y = 2\n",
        },
    )
    ctx = RepoContext(repo)
    by_list = {m.path: m for m in ctx.python_files}
    assert ctx.module("src/services/a.py") is by_list["src/services/a.py"]
    assert ctx.module("src/missing.py") is None
    first = ctx.layer_files("services")
    assert [m.path for m in first] == ["src/services/a.py"]
    first.clear()  # callers get their own list
    assert [m.path for m in ctx.layer_files("services")] == ["src/services/a.py"]
    with pytest.raises(KeyError):
        ctx.layer_files("nonsense")
    seen: list[RepoContext] = []
    assert ctx.memo("key", lambda c: seen.append(c) or 7) == 7
    assert ctx.memo("key", lambda c: seen.append(c) or 8) == 7
    assert seen == [ctx]


# ----- secrets prefilter --------------------------------------------------------------------
def test_every_secret_pattern_has_literals_that_its_matches_contain() -> None:
    samples = {
        "private key block": "-----BEGIN RSA PRIVATE KEY-----",
        "AWS access key id": "ASIAQWERTYUIOPASDFGH",
        "GitHub token": "ghs_" + "a1" * 18,
        "Slack token": "xoxb-1234567890-abc",
        "Google API key": "AIza" + "b" * 35,
        "Stripe live key": "rk_live_" + "c" * 20,
        "JWT": "eyJhbGciOiJI.eyJzdWIiOiIx.c2lnbmF0dXJl",
    }
    assert set(_LITERALS) == set(_PATTERNS) == set(samples)
    for kind, sample in samples.items():
        assert _PATTERNS[kind].search(sample), kind
        assert any(literal in sample for literal in _LITERALS[kind]), kind


# ----- waiting for ruff ---------------------------------------------------------------------
def test_wait_exit_returns_the_exit_status() -> None:
    with subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"]) as proc:
        assert wait_exit(proc, 30) == 3


def test_wait_exit_raises_at_the_time_limit() -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as proc:
        with pytest.raises(subprocess.TimeoutExpired):
            wait_exit(proc, 0.2)
        proc.kill()
        proc.wait()


def test_indexing_blocks_keep_indexes_off_the_trees_and_drop_them_at_the_end() -> None:
    tree = parse()
    with nodes.indexing():
        found = nodes.walk(tree)
        assert nodes.walk(tree) is found
        assert not hasattr(tree, "_yardstick_index")
    assert nodes.walk(tree) is not found  # the block's table is gone
    assert list(nodes.walk(tree)) == list(found)


def test_trees_indexed_in_a_block_are_freed_without_the_cyclic_collector() -> None:
    gc.disable()
    try:
        with nodes.indexing():
            tree = parse()
            nodes.walk(tree)
            nodes.scoped_calls(tree)
            nodes.parents(tree)
            nodes.of_type(tree, ast.Call)
            gone = weakref.ref(tree)
            del tree
        assert gone() is None
    finally:
        gc.enable()


def test_a_scan_frees_its_context_and_trees_without_the_cyclic_collector(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "pyproject.toml": '[project]\nname = "svc"\nversion = "0"\n',
            "src/services/a.py": "from src.models import b\nx = b.y\n",
            "src/models/b.py": "y = 2\n",
        },
    )
    made: list[weakref.ref[RepoContext]] = []
    real_init = RepoContext.__post_init__

    def spy(self: RepoContext) -> None:
        real_init(self)
        made.append(weakref.ref(self))

    gc.disable()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(RepoContext, "__post_init__", spy)
            scan(repo, only={"LAY-001"})  # builds the import graph, which refers to the context
        assert made
        assert all(ref() is None for ref in made)
    finally:
        gc.enable()


def test_of_type_with_several_matching_classes_keeps_walk_order() -> None:
    tree = parse()
    expected = [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    assert list(nodes.of_type(tree, ast.stmt)) == expected
    assert list(nodes.of_type(tree, ast.Yield)) == []


def test_gc_paused_nests_and_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a collector disabled before stays disabled
    finally:
        gc.enable()
