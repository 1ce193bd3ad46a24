"""The app's exception hierarchy (`exceptions.py`) and where exception handlers are registered."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from scanners.analysis.astutil import dotted_name, iter_calls, keyword
from scanners.analysis.fastapi_app import app_calls

if TYPE_CHECKING:
    from scanners.context import PyModule, RepoContext

CATEGORIES: dict[str, re.Pattern[str]] = {
    "not-found": re.compile(r"notfound|doesnotexist|nosuch"),
    "unauthorized": re.compile(r"unauthori[sz]ed|unauthenticated|notauthenticated|authentication"),
    "forbidden": re.compile(r"forbidden|permission|notallowed|accessdenied"),
    "bad-request": re.compile(r"badrequest|invalidrequest"),
    "validation": re.compile(r"validation|unprocessable"),
}
CODE_NAMES = frozenset({"code", "error_code"})
MESSAGE_NAMES = frozenset({"message", "detail", "msg", "error_message"})
_ROOT_EXCEPTIONS = frozenset({"Exception", "BaseException"})
_FRAMEWORKS = ("fastapi.", "starlette.", "pydantic.", "slowapi.", "sqlalchemy.")


@dataclass(slots=True)
class Hierarchy:
    """Classes of the `exceptions.py` modules and their in-file subclasses."""

    modules: list[PyModule] = field(default_factory=list)
    classes: dict[str, tuple[PyModule, ast.ClassDef]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)

    def descendants(self, name: str) -> list[str]:
        """Names of every class deriving from `name` in the hierarchy."""
        out: list[str] = []
        stack = list(self.children.get(name, []))
        while stack:
            child = stack.pop()
            if child not in out:
                out.append(child)
                stack.extend(self.children.get(child, []))
        return out

    def base(self) -> str | None:
        """The app base exception: a direct `Exception` subclass with the most descendants."""
        roots = [
            name
            for name, (_, node) in self.classes.items()
            if not any(_last(b) in self.classes for b in node.bases)
            and any(
                _last(b) in _ROOT_EXCEPTIONS or _last(b).endswith(("Error", "Exception"))
                for b in node.bases
            )
        ]
        ranked = sorted(roots, key=lambda n: -len(self.descendants(n)))
        return ranked[0] if ranked and self.descendants(ranked[0]) else None


def _last(node: ast.expr) -> str:
    return (dotted_name(node) or "").rsplit(".", 1)[-1]


def exception_modules(ctx: RepoContext) -> list[PyModule]:
    """App modules named `exceptions.py` (or inside an `exceptions/` package)."""
    return [
        mod
        for mod in ctx.app_files
        if mod.stem == "exceptions" or "exceptions" in PurePosixPath(mod.path).parts[:-1]
    ]


def hierarchy(ctx: RepoContext) -> Hierarchy:
    """Every class of the exception modules, linked by base-class name."""
    found = Hierarchy(modules=exception_modules(ctx))
    for mod in found.modules:
        for stmt in mod.tree.body if mod.tree else []:
            if isinstance(stmt, ast.ClassDef):
                found.classes[stmt.name] = (mod, stmt)
    for name, (_, node) in found.classes.items():
        for base in node.bases:
            if _last(base) in found.classes:
                found.children.setdefault(_last(base), []).append(name)
    return found


def missing_categories(found: Hierarchy, base: str) -> list[str]:
    """Categories (not-found, unauthorized, ...) no subclass of `base` is named after."""
    names = [n.lower().replace("_", "") for n in found.descendants(base)]
    return [cat for cat, pattern in CATEGORIES.items() if not any(pattern.search(n) for n in names)]


def attribute_names(node: ast.ClassDef) -> set[str]:
    """Class attributes, `self.x` assignments and `__init__` parameters of a class."""
    names: set[str] = set()
    for stmt in node.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            names.add(stmt.target.id)
        elif isinstance(stmt, ast.Assign):
            names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            if stmt.name == "__init__":
                args = stmt.args
                names.update(a.arg for a in (*args.args, *args.kwonlyargs))
            names.update(
                sub.attr
                for sub in ast.walk(stmt)
                if isinstance(sub, ast.Attribute)
                and isinstance(sub.ctx, ast.Store)
                and isinstance(sub.value, ast.Name)
                and sub.value.id == "self"
            )
    return names


# ----- handler registrations ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Registration:
    """One exception handler registration: what it handles and where."""

    path: str
    line: int
    target: str  # qualified name of the exception class, or the status code as text


def registrations(ctx: RepoContext) -> list[Registration]:
    """`add_exception_handler(...)`, `@x.exception_handler(...)` and `exception_handlers={}`."""
    out: list[Registration] = []
    for mod in ctx.app_files:
        if mod.tree is None or "exception_handler" not in (mod.source or ""):
            continue
        aliases = ctx.import_graph.aliases(mod.path)
        for call in iter_calls(mod.tree):
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr in (
                "add_exception_handler",
                "exception_handler",
            ):
                first = call.args[0] if call.args else keyword(call, "exc_class_or_status_code")
                if first is not None:
                    out.append(Registration(mod.path, call.lineno, _target(first, aliases)))
    for app in app_calls(ctx):
        given = keyword(app.call, "exception_handlers")
        if isinstance(given, ast.Dict):
            aliases = ctx.import_graph.aliases(app.module.path)
            out += [
                Registration(app.module.path, key.lineno, _target(key, aliases))
                for key in given.keys
                if key is not None
            ]
    return out


def _target(node: ast.expr, aliases: dict[str, str]) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    name = dotted_name(node)
    if name is None:
        return ast.unparse(node)
    head, _, rest = name.partition(".")
    target = aliases.get(head, head)
    return f"{target}.{rest}" if rest else target


def is_global(target: str) -> bool:
    """A catch-all handler: `Exception`, `BaseException` or status 500."""
    return target in ("Exception", "BaseException", "builtins.Exception", "500")


def is_validation(target: str) -> bool:
    """A handler for FastAPI's `RequestValidationError`."""
    return target.rsplit(".", 1)[-1] == "RequestValidationError"


def is_app_error(target: str, base: str | None) -> bool:
    """A handler for the app base exception (or, without one, for any app-defined error)."""
    last = target.rsplit(".", 1)[-1]
    if base is not None:
        return last == base
    return (
        not target.startswith(_FRAMEWORKS)
        and not is_global(target)
        and last.endswith(("Error", "Exception"))
        and last != "HTTPException"
    )
