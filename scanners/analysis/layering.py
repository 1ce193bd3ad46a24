"""Helpers of the layering rules: the api layer, database calls and forbidden imports.

Database calls are found two ways. Calls into `sqlalchemy`/`sqlmodel` are matched on their
qualified name through the module's imports (`sa.select`, `from sqlalchemy import select as
s`). Session calls (`session.execute(...)`) are matched on the receiver: *typed* when it is a
parameter or variable annotated with a session type (`AsyncSession`, `Session`, an
`Annotated[...]` alias named like `SessionDep`), *named* when only its name says so (`db`,
`session`, `self.session`, `db_session`). Named matches are weaker evidence.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from scanners.analysis.astutil import call_name, dotted_name, iter_calls, iter_functions
from scanners.analysis.nodes import of_type
from scanners.layers import imports_web
from scanners.results import Evidence

if TYPE_CHECKING:
    from scanners.analysis.imports import ImportEdge
    from scanners.context import PyModule, RepoContext

ORM_PACKAGES = ("sqlalchemy", "sqlmodel")
DB_DRIVERS = frozenset(
    {
        "sqlalchemy",
        "sqlmodel",
        "asyncpg",
        "psycopg",
        "psycopg2",
        "psycopg_pool",
        "aiosqlite",
        "sqlite3",
        "pymysql",
        "aiomysql",
        "asyncmy",
        "MySQLdb",
        "databases",
        "tortoise",
        "peewee",
        "pony",
        "motor",
        "pymongo",
        "beanie",
        "odmantic",
        "cx_Oracle",
        "oracledb",
        "pyodbc",
    }
)
STATEMENT_BUILDERS = frozenset({"select", "insert", "update", "delete"})
SESSION_METHODS = frozenset(
    {
        "execute",
        "exec",
        "add",
        "add_all",
        "commit",
        "delete",
        "query",
        "scalars",
        "scalar",
        "flush",
        "rollback",
        "merge",
        "refresh",
    }
)
_SESSION_NAME = re.compile(r"^(db|sess|session|(db|database|async|sql|orm|read|write)_?session)$")
_NOT_SESSION_TYPE = re.compile(r"client|http|aiohttp|requests|httpx", re.IGNORECASE)
_AMBIGUOUS_DB_STEMS = frozenset({"session", "sessions", "engine"})
EVIDENCE_CAP = 50


@dataclass(frozen=True, slots=True)
class DbCall:
    """One database operation found in a module."""

    line: int
    text: str  # what was called, as a person reads it (`session.execute`, `sqlalchemy.select`)
    confident: bool  # False when only a variable's name says it is a session


def is_api_module(ctx: RepoContext, path: str) -> bool:
    """Whether a file belongs to the HTTP layer: the routes layer, or FastAPI code in `api/`."""
    layer = ctx.import_graph.layer_of(path)
    if layer is not None:  # `api/models.py` is a model (a Django app may be named api)
        return layer == "routes"
    base = ctx.app_package_rel or ctx.project_rel
    rel = path[len(base) + 1 :] if base and path.startswith(f"{base}/") else path
    if "api" not in PurePosixPath(rel).parts[:-1]:
        return False
    # in a Django project `api/` is often an app's name: its helpers are no HTTP layer
    module = ctx.module(path) if path.endswith(".py") else None
    return module is None or imports_web(module.tree)


def is_database_module(ctx: RepoContext, path: str) -> bool:
    """Whether a local module is the database module (`core/database.py`, `db/session.py`).

    `database`/`db` names and folders say so; `session`, `sessions` and `engine` are also
    words of web sessions and other engines, so such a module counts only when it imports a
    database library or a database module itself (`session.py` holding a websocket session
    is not the data layer).
    """
    if _database_by_name(path):
        return True
    pure = PurePosixPath(path)
    stem = pure.parent.name if pure.name == "__init__.py" else pure.stem
    if stem not in _AMBIGUOUS_DB_STEMS:
        return False
    graph = ctx.import_graph
    if graph.imports_external(path, DB_DRIVERS):
        return True
    return any(
        e.resolved_path is not None and _database_by_name(e.resolved_path)
        for e in graph.edges_from(path)
    )


def _database_by_name(path: str) -> bool:
    pure = PurePosixPath(path)
    stem = pure.parent.name if pure.name == "__init__.py" else pure.stem
    return stem in ("database", "db") or "db" in pure.parts[:-1] or "database" in pure.parts[:-1]


def route_modules(ctx: RepoContext) -> list[PyModule]:
    """Files of the routes layer, and the app files without a layer that define endpoints.

    A project may keep aggregating routers in a `router.py` and its endpoints in files
    named after their resource (`api/v1/user.py`): both are route modules.
    """
    layer = ctx.layer_files("routes")
    with_routes = {r.path_rel for r in ctx.routes}
    taken = {m.path for m in layer}
    return layer + [
        m
        for m in ctx.app_files
        if m.path in with_routes and m.path not in taken and ctx.layer_of(m.path) is None
    ]


def forbidden_edges(
    ctx: RepoContext, path: str, layers: Iterable[str], *, api: bool = False
) -> list[ImportEdge]:
    """Runtime imports from `path` of modules in `layers` (and of the api layer if `api`)."""
    graph = ctx.import_graph
    wanted = set(layers)
    out = []
    for edge in graph.edges_from(path, runtime_only=True):
        target = edge.resolved_path
        if target is None or target == path:
            continue
        if graph.layer_of(target) in wanted or (api and is_api_module(ctx, target)):
            out.append(edge)
    return out


def edge_evidence(edges: Iterable[ImportEdge], why: str) -> list[Evidence]:
    """One evidence item per importing line."""
    seen: set[tuple[str, int, str]] = set()
    out = []
    for edge in edges:
        key = (edge.src_path, edge.line, edge.target_module)
        if key not in seen:
            seen.add(key)
            out.append(Evidence(edge.src_path, edge.line, f"imports {edge.target_module}: {why}"))
    return out[:EVIDENCE_CAP]


# ----- database calls ---------------------------------------------------------------------
def orm_calls(mod: PyModule, ctx: RepoContext, names: frozenset[str] | None) -> Iterator[DbCall]:
    """Calls into sqlalchemy/sqlmodel; only those whose last part is in `names` if given."""
    if mod.tree is None:
        return
    aliases = ctx.import_graph.aliases(mod.path)
    if not any(v.split(".", 1)[0] in ORM_PACKAGES for v in aliases.values()):
        return
    for node in iter_calls(mod.tree):
        name = call_name(node, aliases)
        if not name or name.split(".", 1)[0] not in ORM_PACKAGES or ".exc." in f"{name}.":
            continue
        if names is None or name.rsplit(".", 1)[-1] in names:
            yield DbCall(node.lineno, name, True)


def session_calls(mod: PyModule) -> Iterator[DbCall]:
    """`<session>.execute/add/commit/...` calls on receivers typed or named as a session."""
    if mod.tree is None:
        return
    # Every name `_session_typed_names` finds is spelled with "Session" in the source.
    typed = _session_typed_names(mod.tree) if "Session" in (mod.source or "") else set()
    for node in iter_calls(mod.tree):
        if not (isinstance(node.func, ast.Attribute) and node.func.attr in SESSION_METHODS):
            continue
        receiver = dotted_name(node.func.value)
        if receiver is None:
            continue
        last = receiver.rsplit(".", 1)[-1]
        text = f"{receiver}.{node.func.attr}"
        if receiver in typed or last in typed:
            yield DbCall(node.lineno, text, True)
        elif _SESSION_NAME.match(last.lower()):
            yield DbCall(node.lineno, text, False)


def _session_typed_names(tree: ast.Module) -> set[str]:
    """Names annotated with a session type: parameters, variables and `self.x: T` fields."""
    out: set[str] = set()
    for info in iter_functions(tree):
        args = info.node.args
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
            if arg.annotation is not None and _is_session_type(arg.annotation):
                out.add(arg.arg)
    for node in of_type(tree, ast.AnnAssign):
        if _is_session_type(node.annotation):
            name = dotted_name(node.target)
            if name:
                out.update({name, name.rsplit(".", 1)[-1]})
    return out


def _is_session_type(annotation: ast.expr) -> bool:
    names = [
        n.id if isinstance(n, ast.Name) else n.attr
        for n in ast.walk(annotation)
        if isinstance(n, ast.Name | ast.Attribute)
    ]
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        names = re.findall(r"\w+", annotation.value)
    return any("Session" in n and not _NOT_SESSION_TYPE.search(n) for n in names)


def db_call_evidence(calls: Iterable[DbCall], path: str, where: str) -> list[Evidence]:
    """Evidence for database calls found in `where` (a layer described for people)."""
    return [
        Evidence(path, c.line, f"{c.text}(...) in {where}" + ("" if c.confident else " (by name)"))
        for c in calls
    ]
