"""Shapes the layering rules look for: generic repositories, service classes, thin handlers."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scanners.analysis.astutil import call_name, dotted_name, iter_statements, qualified_name
from scanners.analysis.nodes import of_types, walk
from scanners.analysis.pydantic_models import ClassKey, class_key
from scanners.results import Evidence

if TYPE_CHECKING:
    from collections.abc import Sequence

    from scanners.context import PyModule, RepoContext

MAX_HANDLER_STATEMENTS = 15
_REPOSITORY_NAME = re.compile(r"(Repository|Repo|CRUD|Crud)$|^CRUD")
_SERVICE_NAME = re.compile(r"(Service|_service|^services?)$|^service_", re.IGNORECASE)
_QUERY_VERB = re.compile(r"^(all|scalars|execute|fetch\w*|list\w*|get_\w+|find\w*|query|search)$")
_GENERIC = frozenset({"typing.Generic", "typing_extensions.Generic"})


@dataclass(slots=True)
class RepoClass:
    """A class of the repositories layer with its app-code bases."""

    path: str
    name: str
    line: int
    parents: list[ClassKey] = field(default_factory=list)
    index: dict[ClassKey, RepoClass] = field(default_factory=dict, repr=False)

    def subclasses(self, bases: Sequence[ClassKey]) -> bool:
        """Whether one of `bases` is an ancestor (through repositories-layer classes)."""
        seen: set[ClassKey] = set()
        stack = list(self.parents)
        while stack:
            key = stack.pop()
            if key in bases:
                return True
            if key not in seen and key in self.index:
                seen.add(key)
                stack.extend(self.index[key].parents)
        return False


def _classes(modules: Sequence[PyModule]) -> list[tuple[PyModule, ast.ClassDef]]:
    return [
        (mod, stmt)
        for mod in modules
        if mod.tree is not None
        for stmt in mod.tree.body
        if isinstance(stmt, ast.ClassDef)
    ]


def generic_bases(ctx: RepoContext, modules: Sequence[PyModule]) -> list[ClassKey]:
    """Generic classes of the repositories layer, those in a `base.py` first."""
    out = []
    for mod, node in _classes(modules):
        aliases = ctx.import_graph.aliases(mod.path)
        generic = bool(node.type_params) or any(
            isinstance(b, ast.Subscript) and qualified_name(b.value, aliases) in _GENERIC
            for b in node.bases
        )
        if generic:
            out.append((mod.stem != "base", mod.path, node.name))
    return [(path, name) for _, path, name in sorted(out)]


def repository_classes(ctx: RepoContext, modules: Sequence[PyModule]) -> list[RepoClass]:
    """Classes named like repositories, with their resolved app-code bases."""
    index: dict[ClassKey, RepoClass] = {}
    by_name: dict[str, list[ClassKey]] = {}
    for mod, node in _classes(modules):
        index[(mod.path, node.name)] = RepoClass(mod.path, node.name, node.lineno, index=index)
        by_name.setdefault(node.name, []).append((mod.path, node.name))
    for mod, node in _classes(modules):
        for base in node.bases:
            key = class_key(base, mod.path, ctx.import_graph)
            if key not in index:
                target = base.value if isinstance(base, ast.Subscript) else base
                name = (dotted_name(target) or "").rsplit(".", 1)[-1]
                same = by_name.get(name, [])
                key = same[0] if len(same) == 1 else key
            if key is not None:
                index[(mod.path, node.name)].parents.append(key)
    bases = set(generic_bases(ctx, modules))
    return [c for key, c in index.items() if key not in bases and _REPOSITORY_NAME.search(c.name)]


def service_module_problem(mod: PyModule) -> int | bool | None:
    """Line of the first public free function of a class-less service module.

    None when the module holds a class with methods; False when it defines nothing to judge.
    """
    if mod.tree is None:
        return False
    functions = [
        s
        for s in mod.tree.body
        if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef) and not s.name.startswith("_")
    ]
    has_class = any(
        isinstance(s, ast.ClassDef)
        and any(isinstance(b, ast.FunctionDef | ast.AsyncFunctionDef) for b in s.body)
        for s in mod.tree.body
    )
    if has_class:
        return None
    return functions[0].lineno if functions else False


def uses_service(ctx: RepoContext, mod: PyModule) -> bool:
    """Whether a route module imports the services layer or names a service dependency."""
    graph = ctx.import_graph
    for edge in graph.edges_from(mod.path):
        if edge.resolved_path and graph.layer_of(edge.resolved_path) == "services":
            return True
    if mod.tree is None:
        return False
    for node in of_types(mod.tree, ast.Name, ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else None
        name = node.attr if isinstance(node, ast.Attribute) else name
        if name and _SERVICE_NAME.search(name):
            return True
    return False


def handler_problems(
    path: str, node: ast.FunctionDef | ast.AsyncFunctionDef
) -> list[tuple[Evidence, bool]]:
    """Fat-handler findings: (evidence, hard) where hard is False for comprehensions."""
    body = list(node.body)
    if body and _is_docstring(body[0]):
        body = body[1:]
    statements = [s for top in body for s in iter_statements(top)]
    out: list[tuple[Evidence, bool]] = []
    for stmt in statements:
        if isinstance(stmt, ast.For | ast.AsyncFor | ast.While):
            out.append((Evidence(path, stmt.lineno, f"loop in handler {node.name}"), True))
    if len(statements) > MAX_HANDLER_STATEMENTS:
        message = f"{node.name} has {len(statements)} statements (max {MAX_HANDLER_STATEMENTS})"
        out.append((Evidence(path, node.lineno, message), True))
    fetched = _fetched_names(statements)
    for comp in walk(node):
        if isinstance(comp, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp) and any(
            _is_query_result(g.iter, fetched) for g in comp.generators
        ):
            message = f"comprehension over query results in handler {node.name}"
            out.append((Evidence(path, comp.lineno, message), False))
    return out


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _fetched_names(statements: Sequence[ast.stmt]) -> set[str]:
    out: set[str] = set()
    for stmt in statements:
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if _is_query_result(stmt.value, set()):
                out.update(t.id for t in targets if isinstance(t, ast.Name))
    return out


def _is_query_result(node: ast.expr, fetched: set[str]) -> bool:
    """An awaited value, a call of a query-like method, or a name assigned from one."""
    if isinstance(node, ast.Await):
        return True
    if isinstance(node, ast.Name):
        return node.id in fetched
    if isinstance(node, ast.Attribute | ast.Subscript):
        return _is_query_result(node.value, fetched)
    if isinstance(node, ast.Call):
        name = call_name(node, {}) or ""
        if _QUERY_VERB.match(name.rsplit(".", 1)[-1]):
            return True
        return isinstance(node.func, ast.Attribute) and _is_query_result(node.func.value, fetched)
    return False
