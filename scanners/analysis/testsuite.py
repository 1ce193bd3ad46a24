"""The scanned project's own test suite, read statically: test modules, test functions, asserts.

Collection follows pytest's defaults: modules named `test_*.py` or `*_test.py`, functions
named `test*` at module level, and methods named `test*` of classes named `Test*` or derived
from a `*TestCase` class. Nothing is imported or run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from scanners.analysis.astutil import dotted_name
from scanners.analysis.nodes import functions, iter_walk

if TYPE_CHECKING:
    from scanners.context import PyModule, RepoContext

TEST_DIRS = frozenset({"tests", "test"})
#: Folders that never hold the project's own tests (virtualenvs, vendored code, builds).
SKIPPED_DIRS = frozenset(
    {".venv", "venv", "env", "node_modules", "vendor", "vendored", "third_party",
     "site-packages", "__pycache__", "build", "dist"}
)  # fmt: skip
#: Calls that assert by themselves (last part of the called name).
ASSERTING_CALLS = frozenset({"raises", "warns", "deprecated_call", "fail", "expect", "RaisesGroup"})
#: Prefixes of helper names taken as assertions even when their definition is not visible.
ASSERTING_PREFIXES = ("assert", "check_", "verify_", "expect_", "ensure_")
_FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True, slots=True)
class TestFunction:
    """One collected test: its module, its `def` node and its class (for methods)."""

    path: str  # repository-relative
    node: ast.FunctionDef | ast.AsyncFunctionDef
    class_name: str | None = None

    @property
    def name(self) -> str:
        """The function's name."""
        return self.node.name

    @property
    def line(self) -> int:
        """Line of the `def`."""
        return self.node.lineno

    @property
    def label(self) -> str:
        """`TestClass.test_name` or `test_name`, for messages."""
        return f"{self.class_name}.{self.name}" if self.class_name else self.name


def is_test_file(name: str) -> bool:
    """Whether a file name is a pytest test module (`test_*.py` or `*_test.py`)."""
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def _project_rel(ctx: RepoContext, path: str) -> str:
    prefix = f"{ctx.project_rel}/" if ctx.project_rel else ""
    return path[len(prefix) :] if prefix and path.startswith(prefix) else path


def _searched(ctx: RepoContext) -> Iterator[tuple[PyModule, PurePosixPath]]:
    """Project Python modules outside virtualenvs, vendored and hidden folders."""
    for mod in ctx.python_files:
        rel = PurePosixPath(_project_rel(ctx, mod.path))
        if not any(p in SKIPPED_DIRS or p.startswith(".") for p in rel.parts[:-1]):
            yield mod, rel


def test_modules(ctx: RepoContext) -> list[PyModule]:
    """The project's test modules, wherever they sit."""
    return [mod for mod, rel in _searched(ctx) if is_test_file(rel.name)]


def test_tree_modules(ctx: RepoContext) -> list[PyModule]:
    """Test modules plus every module of a tests folder (conftest, helpers, factories)."""
    return [
        mod
        for mod, rel in _searched(ctx)
        if is_test_file(rel.name)
        or rel.name == "conftest.py"
        or TEST_DIRS.intersection(rel.parts[:-1])
    ]


def _is_test_class(node: ast.ClassDef) -> bool:
    if node.name.startswith("Test"):
        return True
    return any((dotted_name(b) or "").endswith("TestCase") for b in node.bases)


def test_functions(ctx: RepoContext) -> list[TestFunction]:
    """Every test function and test method of the project's test modules."""
    out: list[TestFunction] = []
    for mod in test_modules(ctx):
        if mod.tree is None:
            continue
        for node in mod.tree.body:
            if isinstance(node, _FunctionNode) and node.name.startswith("test"):
                out.append(TestFunction(mod.path, node))
            elif isinstance(node, ast.ClassDef) and _is_test_class(node):
                out.extend(
                    TestFunction(mod.path, item, node.name)
                    for item in node.body
                    if isinstance(item, _FunctionNode) and item.name.startswith("test")
                )
    return out


def _called_name(call: ast.Call) -> str:
    """Last part of a call's callee (`assert_called_once` of `mock.x.assert_called_once()`)."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def asserts(node: ast.AST, helpers: frozenset[str] = frozenset()) -> bool:
    """Whether code asserts: `assert`, `pytest.raises`/`warns`/`fail`, `x.assert_*()`, a helper."""
    direct, called = _assertion_facts(node)
    return direct or not called.isdisjoint(helpers)


def assertion_helpers(modules: Iterable[PyModule]) -> frozenset[str]:
    """Names of functions defined in the test tree that assert, directly or through each other."""
    helpers = [
        (node.name, *_assertion_facts(node))
        for mod in modules
        if mod.tree is not None
        for node in functions(mod.tree)
        if not node.name.startswith("test")
    ]
    found: frozenset[str] = frozenset()
    while True:  # a fixed point: each round adds helpers that call helpers found so far
        more = frozenset(
            name
            for name, direct, called in helpers
            if name not in found and (direct or not called.isdisjoint(found))
        )
        if not more:
            return found
        found |= more


def _assertion_facts(node: ast.AST) -> tuple[bool, frozenset[str]]:
    """(whether `node` asserts by itself, the names it calls): one walk, read every round."""
    called: set[str] = set()
    for child in iter_walk(node):
        if isinstance(child, ast.Assert):
            return True, frozenset()
        if isinstance(child, ast.Call):
            name = _called_name(child)
            if name in ASSERTING_CALLS or name.startswith(ASSERTING_PREFIXES):
                return True, frozenset()
            called.add(name)
    return False, frozenset(called)
