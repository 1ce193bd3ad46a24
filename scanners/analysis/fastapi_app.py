"""Find `FastAPI(...)` instantiations in app code through the module's import aliases."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanners.analysis.nodes import of_type, of_types

if TYPE_CHECKING:
    from scanners.context import PyModule, RepoContext

_FASTAPI_MODULES = ("fastapi", "fastapi.applications")


@dataclass(frozen=True, slots=True)
class AppCall:
    """One `FastAPI(...)` call: the module it sits in and the call node."""

    module: PyModule
    call: ast.Call


def _aliases(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to the FastAPI class, and names bound to the `fastapi` module."""
    classes: set[str] = set()
    modules: set[str] = set()
    for node in of_types(tree, ast.ImportFrom, ast.Import):
        if isinstance(node, ast.ImportFrom) and node.module in _FASTAPI_MODULES:
            classes.update(a.asname or a.name for a in node.names if a.name == "FastAPI")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in _FASTAPI_MODULES:
                    modules.add(alias.asname or alias.name)
    return classes, modules


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def is_fastapi_call(call: ast.Call, classes: set[str], modules: set[str]) -> bool:
    """Whether `call` instantiates FastAPI (`FastAPI(`, `F(`, `fastapi.FastAPI(`)."""
    dotted = _dotted(call.func)
    if dotted is None:
        return False
    head, _, attr = dotted.rpartition(".")
    return (not head and attr in classes) or (head in modules and attr == "FastAPI")


def app_calls(ctx: RepoContext) -> list[AppCall]:
    """Every `FastAPI(...)` call in the project's app code, in file order."""
    out: list[AppCall] = []
    for module in ctx.app_files:
        if module.tree is None or not module.source or "FastAPI" not in module.source:
            continue
        classes, modules = _aliases(module.tree)
        if not classes and not modules:
            continue
        out.extend(
            AppCall(module, node)
            for node in of_type(module.tree, ast.Call)
            if is_fastapi_call(node, classes, modules)
        )
    return sorted(out, key=lambda a: (a.module.path, a.call.lineno))
