"""Generic helpers of the code rules (SEC, PERF, ASY, STY): scopes, references, lint evidence.

Everything works on the context's cached ASTs and its one ruff run; nothing here parses or
runs a tool again. Names are resolved through `ImportGraph.aliases`, so `import httpx as h`
then `h.AsyncClient()` is `httpx.AsyncClient`.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from scanners.analysis import nodes
from scanners.analysis.astutil import dotted_name, qualified_name
from scanners.results import Evidence

if TYPE_CHECKING:
    from scanners.analysis.lint import Finding
    from scanners.context import PyModule, RepoContext

MAX_EVIDENCE = 50
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
Scope = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | None
_MAX_CONSTANT_DEPTH = 10
_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
}


def capped(evidence: Iterable[Evidence], limit: int = MAX_EVIDENCE) -> list[Evidence]:
    """At most `limit` evidence items, plus one that counts the rest."""
    items = list(evidence)
    if len(items) <= limit:
        return items
    return [*items[:limit], Evidence(None, None, f"... and {len(items) - limit} more")]


def finding_evidence(findings: Iterable[Finding]) -> list[Evidence]:
    """One evidence item per ruff finding: `CODE message` at its path and line."""
    return [Evidence(f.path, f.line, f"{f.code} {f.message}") for f in findings]


def lint_error(ctx: RepoContext) -> Evidence | None:
    """Evidence of why the scan's ruff run failed, or None when it ran."""
    if ctx.lint.error is None:
        return None
    return Evidence(ctx.path("pyproject.toml"), None, f"ruff did not run: {ctx.lint.error}")


def dedupe(evidence: Iterable[Evidence]) -> list[Evidence]:
    """Evidence with at most one item per (path, line), first one kept, sorted by place."""
    seen: dict[tuple[str | None, int | None], Evidence] = {}
    for item in evidence:
        seen.setdefault((item.path, item.line), item)
    return sorted(seen.values(), key=lambda e: (e.path or "", e.line or 0))


def parsed(
    modules: Iterable[PyModule], hint: str | None = None
) -> Iterator[tuple[PyModule, ast.Module]]:
    """(module, tree) of the modules that parsed, only those holding `hint` when given."""
    for mod in modules:
        if mod.tree is not None and (hint is None or hint in (mod.source or "")):
            yield mod, mod.tree


# ----- scopes -------------------------------------------------------------------------------
def iter_scoped_nodes(tree: ast.AST) -> Iterator[tuple[ast.AST, Scope]]:
    """Every node with the innermost function (or lambda) whose body runs it.

    Decorators, default values and annotations run where the function is defined, so they
    belong to the enclosing scope, not to the function itself.
    """
    stack: list[tuple[ast.AST, Scope]] = [(tree, None)]
    while stack:
        node, scope = stack.pop()
        yield node, scope
        children: list[tuple[ast.AST, Scope]]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            outer: list[ast.AST] = [*node.decorator_list, node.args]
            outer += [node.returns] if node.returns is not None else []
            children = [(c, scope) for c in outer] + [(c, node) for c in node.body]
        elif isinstance(node, ast.Lambda):
            children = [(node.args, scope), (node.body, node)]
        else:
            children = [(c, scope) for c in ast.iter_child_nodes(node)]
        stack.extend(reversed(children))


def parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    """Child -> parent map of a tree, computed once per tree (a shared map: do not mutate)."""
    return nodes.parents(tree)


def references(
    tree: ast.AST, aliases: dict[str, str], names: frozenset[str]
) -> Iterator[tuple[ast.expr, str]]:
    """Names and attribute chains whose qualified name is one of `names`."""
    for node in nodes.of_types(tree, ast.Name, ast.Attribute):
        if isinstance(node, ast.Name | ast.Attribute):
            qualified = qualified_name(node, aliases)
            if qualified in names:
                yield node, qualified


def module_references(
    ctx: RepoContext, names: frozenset[str], hint: str
) -> Iterator[tuple[PyModule, ast.expr, str]]:
    """`references` over the app code; `hint` is a text prefilter (a name's last part)."""
    for mod, tree in parsed(ctx.app_files, hint):
        aliases = ctx.import_graph.aliases(mod.path)
        for node, qualified in references(tree, aliases, names):
            yield mod, node, qualified


def decorator_names(func: FunctionNode, aliases: dict[str, str]) -> list[str]:
    """Qualified names of a function's decorators (`functools.lru_cache`, `router.get`)."""
    out = []
    for decorator in func.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = qualified_name(target, aliases)
        if name is not None:
            out.append(name)
    return out


def last_part(node: ast.AST) -> str | None:
    """`c` of `a.b.c` and of `c`; None for anything else."""
    dotted = dotted_name(node)
    return dotted.rsplit(".", 1)[-1] if dotted else None


# ----- values -------------------------------------------------------------------------------
def number(node: ast.AST | None, depth: int = 0) -> float | None:
    """The value of a numeric literal or constant arithmetic (`60 * 24 * 7`), else None."""
    if node is None or depth > _MAX_CONSTANT_DEPTH:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return None if isinstance(node.value, bool) else float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = number(node.operand, depth + 1)
        return -inner if inner is not None else None
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = number(node.left, depth + 1), number(node.right, depth + 1)
        if left is None or right is None or (right == 0 and isinstance(node.op, ast.Div)):
            return None
        if right == 0 and isinstance(node.op, ast.FloorDiv):
            return None
        return _BINARY[type(node.op)](left, right)
    return None
