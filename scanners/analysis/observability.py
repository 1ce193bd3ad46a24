"""Health, readiness, metrics, correlation-id and tracing wiring of the app, read statically."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanners.analysis.astutil import (
    argument,
    call_name,
    const_str,
    iter_calls,
    iter_functions,
    keyword,
    module_constants,
    qualified_name,
)
from scanners.analysis.nodes import of_type, of_types, walk
from scanners.analysis.routes import has_path_parameter, is_probe_path, route_paths

if TYPE_CHECKING:
    from scanners.analysis.routes import Route
    from scanners.context import PyModule, RepoContext

_DB_WORDS = frozenset(
    {"db", "database", "session", "engine", "sql", "sqlalchemy", "postgres", "pg", "asyncpg",
     "connection", "conn", "databases", "sessionmaker"}
)  # fmt: skip
_SELECT = re.compile(r"\bselect\s+1\b", re.IGNORECASE)
_HEADER = re.compile(r"^x-(request|correlation)-id$", re.IGNORECASE)
_ID_PLUGINS = ("RequestIdPlugin", "CorrelationIdPlugin")
_ID_PACKAGES = ("asgi_correlation_id", "starlette_context")
_MAX_FOLLOW = 2
_MAX_CANDIDATES = 6
METRICS_PACKAGES = (
    "prometheus-client",
    "prometheus-fastapi-instrumentator",
    "starlette-exporter",
    "starlette-prometheus",
)
_METRICS_MODULES = ("prometheus_client", "prometheus_fastapi_instrumentator",
                    "starlette_exporter", "starlette_prometheus")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Site:
    """Where something was found: a repository-relative path and a line."""

    path: str
    line: int | None
    what: str


def get_routes_ending(ctx: RepoContext, *suffixes: str) -> list[tuple[Route, str]]:
    """Parameter-free GET probe routes (`is_probe_path`, the definition the API rules
    exempt) whose path ends with one of `suffixes` (`/health` matches `/api/v1/health`). A
    path with a parameter (`/cameras/{camera_id}/health`) is a business resource's, not the
    service's own health check."""
    out = []
    for route in ctx.routes:
        if route.method != "GET":
            continue
        for path in route_paths(route):
            normal = path.rstrip("/") or "/"
            if has_path_parameter(normal) or not is_probe_path(normal):
                continue
            if any(normal == s or normal.endswith(s) for s in suffixes):
                out.append((route, normal))
                break
    return out


# ----- readiness: does the handler (or what it calls) touch the database? ---------------
def _words(node: ast.AST) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            yield sub.id
        elif isinstance(sub, ast.Attribute):
            yield sub.attr
        elif isinstance(sub, ast.arg):
            yield sub.arg
            if sub.annotation is not None:
                yield from _words(sub.annotation)
        elif isinstance(sub, ast.Constant) and _SELECT.search(str(sub.value)):
            yield "sql"


def mentions_database(node: ast.AST) -> bool:
    """Whether a function's names (split at `_`, any case) mention a database or session."""
    for word in _words(node):
        parts = {p for p in re.split(r"_|(?<=[a-z])(?=[A-Z])", word.lower()) if p}
        if parts & _DB_WORDS:
            return True
    return False


def touches_database(ctx: RepoContext, route: Route) -> bool:
    """Whether a handler, or a function it calls (two levels, by name), mentions the database."""
    if route.node is None:
        return False
    seen: set[int] = set()
    frontier: list[tuple[ast.AST, str]] = [(route.node, route.path_rel)]
    for _ in range(_MAX_FOLLOW + 1):
        following: list[tuple[ast.AST, str]] = []
        for node, path in frontier:
            if id(node) in seen:
                continue
            seen.add(id(node))
            if mentions_database(node):
                return True
            following += _callees(ctx, node, path)
        frontier = following
    return False


def _callees(ctx: RepoContext, node: ast.AST, path: str) -> list[tuple[ast.AST, str]]:
    """App functions a function calls, found by name (methods by attribute name)."""
    names = set()
    for call in iter_calls(node):
        func = call.func
        if isinstance(func, ast.Name):
            names.add(func.id)
        elif isinstance(func, ast.Attribute):
            names.add(func.attr)
    out: list[tuple[ast.AST, str]] = []
    for mod in ctx.app_files:
        if mod.tree is None or not any(f"def {n}" in (mod.source or "") for n in names):
            continue
        out += [(info.node, mod.path) for info in iter_functions(mod.tree) if info.name in names]
    return out[:_MAX_CANDIDATES] if len(out) > _MAX_CANDIDATES else out


# ----- metrics --------------------------------------------------------------------------
def _imports_metrics(ctx: RepoContext, path: str) -> bool:
    return any(
        v.split(".", 1)[0] in _METRICS_MODULES for v in ctx.import_graph.aliases(path).values()
    )


def metrics_endpoints(ctx: RepoContext) -> list[Site]:
    """`/metrics` served by a Prometheus library: mounts, routes, instrumentator `expose`."""
    out: list[Site] = []
    for mod in ctx.app_files:
        if mod.tree is None or not _imports_metrics(ctx, mod.path):
            continue
        aliases = ctx.import_graph.aliases(mod.path)
        out += [Site(mod.path, call.lineno, what) for call, what in _metrics_calls(mod, aliases)]
    for route, path in get_routes_ending(ctx, "/metrics"):
        if _imports_metrics(ctx, route.path_rel):
            out.append(Site(route.path_rel, route.line, f"GET {path}"))
    return out


def _metrics_calls(mod: PyModule, aliases: dict[str, str]) -> Iterator[tuple[ast.Call, str]]:
    """`mount("/metrics", ...)`, `add_route("/metrics", ...)` and `Instrumentator().expose()`."""
    for call in iter_calls(mod.tree) if mod.tree is not None else ():
        func = call.func
        if not isinstance(func, ast.Attribute):
            continue
        if func.attr in ("mount", "add_route"):
            path = const_str(argument(call, 0, "path"))
            if path is not None and path.rstrip("/").endswith("/metrics"):
                yield call, f"{func.attr}({path!r})"
        elif func.attr == "expose" and _from_instrumentator(func.value, aliases):
            endpoint = const_str(keyword(call, "endpoint")) or "/metrics"
            if endpoint.rstrip("/").endswith("/metrics"):
                yield call, f"Instrumentator exposes {endpoint}"


def _from_instrumentator(node: ast.expr, aliases: dict[str, str]) -> bool:
    """Whether a call chain starts from `Instrumentator(...)`."""
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Call):
            name = call_name(node, aliases) or ""
            if name.rsplit(".", 1)[-1] == "Instrumentator":
                return True
            node = node.func
        else:
            node = node.value
    if isinstance(node, ast.Name):
        return "instrument" in node.id.lower()
    return False


# ----- correlation ids ------------------------------------------------------------------
def correlation_middleware(ctx: RepoContext) -> tuple[list[Site], list[Site]]:
    """(wired middleware, hints without a middleware) for request/correlation ids."""
    wired: list[Site] = []
    hints: list[Site] = []
    for mod in ctx.app_files:
        if mod.tree is None:
            continue
        aliases = ctx.import_graph.aliases(mod.path)
        for node, name in _names(mod.tree, aliases) if _may_name(mod, aliases) else ():
            if name.startswith("asgi_correlation_id.") and name.endswith("Middleware"):
                site = Site(mod.path, node.lineno, "asgi-correlation-id middleware")
                (wired if _is_added(mod.tree, node) else hints).append(site)
            elif name.startswith("starlette_context.") and name.endswith(_ID_PLUGINS):
                wired.append(Site(mod.path, node.lineno, "starlette-context id plugin"))
        headers = [
            n for n in of_type(mod.tree, ast.Constant)
            if isinstance(n.value, str) and _HEADER.match(n.value)
        ]  # fmt: skip
        if headers:
            site = Site(mod.path, headers[0].lineno, f"{headers[0].value!s} header")
            (wired if _middleware_uses_header(mod.tree) else hints).append(site)
    return wired, hints


def _may_name(mod: PyModule, aliases: dict[str, str]) -> bool:
    """Cheap prefilter of `_names`: whether the module can name an id package at all.

    A qualified name comes from the source's identifiers (ASCII sources hold them verbatim)
    or from an import alias (relative imports resolve to names the source may not spell).
    """
    source = mod.source or ""
    if not source.isascii() or any(package in source for package in _ID_PACKAGES):
        return True
    return any(target.startswith(_ID_PACKAGES) for target in aliases.values())


def _names(tree: ast.AST, aliases: dict[str, str]) -> Iterator[tuple[ast.expr, str]]:
    for node in of_types(tree, ast.Name, ast.Attribute):
        if isinstance(node, ast.Name | ast.Attribute):
            name = qualified_name(node, aliases)
            if name is not None:
                yield node, name


def _is_added(tree: ast.AST, node: ast.AST) -> bool:
    """Whether a middleware class is passed to `add_middleware(...)` or `Middleware(...)`."""
    for call in iter_calls(tree):
        name = (
            call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        )
        if name in ("add_middleware", "Middleware") and call.args and call.args[0] is node:
            return True
    return False


def _middleware_functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """`dispatch` methods, ASGI `__call__(scope, receive, send)`, `@x.middleware(...)`."""
    for info in iter_functions(tree):
        params = [a.arg for a in info.node.args.args]
        is_method = info.class_name is not None and (
            info.name == "dispatch" or params[1:4] == ["scope", "receive", "send"]
        )
        if is_method or any(_is_middleware_decorator(d) for d in info.node.decorator_list):
            yield info.node


def _is_middleware_decorator(decorator: ast.expr) -> bool:
    return (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr == "middleware"
    )


def _middleware_uses_header(tree: ast.Module) -> bool:
    """Whether a middleware of the module names the header (literally or by module constant)."""
    headers = {
        name
        for name, value in module_constants(tree).items()
        if _HEADER.match(const_str(value) or "")
    }
    for func in _middleware_functions(tree):
        for node in walk(func):
            if isinstance(node, ast.Name) and node.id in headers:
                return True
            if isinstance(node, ast.Constant) and _HEADER.match(str(node.value)):
                return True
    return False


# ----- tracing --------------------------------------------------------------------------
_INSTRUMENT = frozenset({"instrument_app", "instrument", "set_tracer_provider"})


def tracing_sites(ctx: RepoContext) -> list[Site]:
    """OpenTelemetry instrumentation in app code or `opentelemetry-instrument` launchers."""
    out: list[Site] = []
    for mod in ctx.app_files:
        if mod.tree is None or "opentelemetry" not in (mod.source or ""):
            continue
        aliases = ctx.import_graph.aliases(mod.path)
        for call in iter_calls(mod.tree):
            func = call.func
            name = call_name(call, aliases) or ""
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
                name = f"{call_name(func.value, aliases) or ''}.{func.attr}"
            last = name.rsplit(".", 1)[-1]
            if name.startswith("opentelemetry.") and (
                last in _INSTRUMENT or last == "OpenTelemetryMiddleware"
            ):
                out.append(Site(mod.path, call.lineno, name))
    for rel in ("Dockerfile", "docker-compose.yml", "compose.yaml", "Procfile"):
        text = ctx.read_text(ctx.path(rel)) or ""
        if "opentelemetry-instrument" in text:
            out.append(Site(ctx.path(rel), None, "opentelemetry-instrument launcher"))
    return out
