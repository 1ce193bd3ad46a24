"""FastAPI route handlers of the app code, with their full paths where they can be known.

A handler is a function decorated with `@<router>.get/post/put/patch/delete/head/options/
trace/api_route(...)` (stacked decorators give one route each), or registered with
`<router>.add_api_route(path, endpoint, methods=[...])`, where `<router>` is an
`APIRouter(...)` or `FastAPI(...)` instance of the same module, one imported from another app
module, or a function parameter annotated as one.

Full paths compose `include_router(child, prefix=...)` calls across modules (nested
includes too) with each router's own `APIRouter(prefix=...)`. A prefix may be a literal, an
f-string or `+` of resolvable parts, a module constant (also imported) or a settings
attribute (`settings.API_V1_STR`, `get_settings().API_V1_STR`) whose default is read from the
`Settings` class. Anything else is unknown, and the route's `full_path` is None; so is it for
a router that no analysed code includes in an app.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from scanners.analysis.astutil import (
    argument,
    const_str,
    dotted_name,
    iter_calls,
    iter_functions,
    iter_statements,
    keyword,
    module_constants,
    qualified_name,
    status_code_value,
)
from scanners.analysis.imports import ImportGraph
from scanners.context import PyModule, RepoContext

HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace"})
APP_CLASSES = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI"})
ROUTER_CLASSES = frozenset({"fastapi.APIRouter", "fastapi.routing.APIRouter"})
_MAX_DEPTH = 8
_ROUTE_TEXT = re.compile(
    r"\.\s*(?:get|post|put|patch|delete|head|options|trace|api_route|add_api_route)\s*\("
)
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
RouterKey = tuple[str, str]  # (module path, variable name)


@dataclass(slots=True)
class Route:
    """One (method, path) served by one handler function."""

    path_rel: str  # repository-relative file of the handler registration
    line: int  # line of the `def` (or of the `add_api_route` call)
    func_name: str
    method: str  # upper case: GET, POST, ...
    path: str | None  # the path given to the decorator; None when not a literal
    full_path: str | None  # mount prefixes + router prefix + path, when all are known
    status_code: int | None
    response_model: ast.expr | None
    decorator_kwargs: dict[str, ast.expr]
    is_async: bool
    node: FunctionNode | None  # None when an `add_api_route` endpoint is not found
    router: str | None = None  # the router variable's name
    router_prefix: str | None = ""  # the router's own prefix; None when unknown
    full_paths: tuple[str, ...] = ()  # every known full path (a router included twice)


@dataclass(slots=True)
class _Router:
    key: RouterKey
    is_app: bool
    prefix: str | None


@dataclass(slots=True)
class _Include:
    parent: RouterKey
    child: RouterKey
    prefix: str | None


@dataclass(slots=True)
class _Finder:
    """Cross-module state of one route search."""

    ctx: RepoContext
    graph: ImportGraph
    routers: dict[RouterKey, _Router] = field(default_factory=dict)
    includes: list[_Include] = field(default_factory=list)
    constants: dict[str, dict[str, ast.expr]] = field(default_factory=dict)
    _functions: dict[str, dict[str, FunctionNode]] = field(default_factory=dict)
    _settings: dict[str, ast.expr] | None = None

    def function(self, path: str, name: str) -> FunctionNode | None:
        """The first function called `name` in the module at `path` (indexed on demand)."""
        if path not in self._functions:
            mod = self.ctx.module(path)
            found: dict[str, FunctionNode] = {}
            if mod is not None and mod.tree is not None:
                for info in iter_functions(mod.tree):
                    found.setdefault(info.name, info.node)
            self._functions[path] = found
        return self._functions[path].get(name)

    # ----- values -----------------------------------------------------------------------
    def string(self, node: ast.AST | None, path: str, depth: int = 0) -> str | None:
        """The string an expression evaluates to, if the source determines it."""
        if node is None or depth > _MAX_DEPTH:
            return None
        if (text := const_str(node)) is not None:
            return text
        if isinstance(node, ast.JoinedStr):
            parts = [self.string(v, path, depth + 1) for v in node.values]
            return None if any(p is None for p in parts) else "".join(p or "" for p in parts)
        if isinstance(node, ast.FormattedValue) and node.format_spec is None:
            return self.string(node.value, path, depth + 1) if node.conversion == -1 else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.string(node.left, path, depth + 1), self.string(node.right, path)
            return None if left is None or right is None else left + right
        if isinstance(node, ast.Name):
            return self._name_value(node.id, path, depth)
        if isinstance(node, ast.Attribute):
            default = self.settings_defaults().get(node.attr)
            if default is not None:
                return self.string(default, path, depth + 1)
        return None

    def _name_value(self, name: str, path: str, depth: int) -> str | None:
        local = self.constants.get(path, {}).get(name)
        if local is not None:
            return self.string(local, path, depth + 1)
        found = self.resolve(self.graph.aliases(path).get(name))
        if found is not None:
            value = self.constants.get(found[0], {}).get(found[1])
            return self.string(value, found[0], depth + 1) if value is not None else None
        return None

    def settings_defaults(self) -> dict[str, ast.expr]:
        """Literal defaults of the `Settings` class fields (and of its app-code bases)."""
        if self._settings is None:
            from scanners.analysis.settings import find_settings

            scan = find_settings(self.ctx)
            self._settings = {}
            info = scan.main
            seen: set[str] = set()
            while info is not None and info.name not in seen:
                seen.add(info.name)
                for stmt in info.node.body:
                    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                        value = _field_default(stmt.value)
                        if value is not None:
                            self._settings.setdefault(stmt.target.id, value)
                info = next(
                    (
                        scan.all_classes[b]
                        for b in (x.rsplit(".", 1)[-1] for x in info.bases)
                        if b in scan.all_classes
                    ),
                    None,
                )
        return self._settings

    # ----- routers ----------------------------------------------------------------------
    def resolve(self, qualified: str | None) -> tuple[str, str] | None:
        """(module path, attribute) of `pkg.module.attr` when the module is project code."""
        if not qualified or "." not in qualified:
            return None
        module, _, attr = qualified.rpartition(".")
        path = self.graph.path_of(module)
        return (path, attr) if path is not None and path.endswith(".py") else None

    def router_key(self, node: ast.AST, path: str) -> RouterKey | None:
        """The router an expression (`router`, `auth.router`, imported `api_router`) names."""
        if isinstance(node, ast.Name) and (path, node.id) in self.routers:
            return path, node.id
        found = self.resolve(qualified_name(node, self.graph.aliases(path)))
        return found if found is not None and found in self.routers else None

    def mounts(self, key: RouterKey, seen: frozenset[RouterKey] = frozenset()) -> list[str | None]:
        """Prefixes under which a router's routes are served (None: unknown)."""
        router = self.routers[key]
        if router.is_app:
            return [""]
        if key in seen or len(seen) > _MAX_DEPTH:
            return []
        out: list[str | None] = []
        for inc in self.includes:
            if inc.child == key:
                for mount in self.mounts(inc.parent, seen | {key}):
                    own = (
                        self.routers[inc.parent].prefix
                        if not self.routers[inc.parent].is_app
                        else ""
                    )
                    parts = (mount, own, inc.prefix)
                    out.append(None if None in parts else "".join(p or "" for p in parts))
        return out


def find_routes(ctx: RepoContext) -> list[Route]:
    """Every route of the app code, in file and line order (see the module docstring)."""
    finder = _Finder(ctx, ctx.import_graph)
    modules = [m for m in ctx.app_files if m.tree is not None]
    for mod in modules:
        _index_module(finder, mod)
    for mod in modules:
        _collect_includes(finder, mod)
    routes = [route for mod in modules for route in _module_routes(finder, mod)]
    return sorted(routes, key=lambda r: (r.path_rel, r.line, r.method))


def _index_module(finder: _Finder, mod: PyModule) -> None:
    if mod.tree is None:
        return
    finder.constants[mod.path] = module_constants(mod.tree)
    source = mod.source or ""
    if "FastAPI" not in source and "APIRouter" not in source:
        return  # cheap text test first: most modules create no app or router
    aliases = finder.graph.aliases(mod.path)
    for info in iter_functions(mod.tree):
        for arg in (*info.node.args.posonlyargs, *info.node.args.args, *info.node.args.kwonlyargs):
            kind = qualified_name(arg.annotation, aliases) if arg.annotation else None
            if kind in APP_CLASSES | ROUTER_CLASSES:
                key = (mod.path, arg.arg)
                finder.routers.setdefault(key, _Router(key, kind in APP_CLASSES, ""))
    for stmt in iter_statements(mod.tree):
        target, value = _assignment(stmt)
        if target is None or not isinstance(value, ast.Call):
            continue
        kind = qualified_name(value.func, aliases)
        if kind in APP_CLASSES or kind in ROUTER_CLASSES:
            key = (mod.path, target)
            prefix = finder.string(keyword(value, "prefix"), mod.path)
            has_prefix = keyword(value, "prefix") is not None
            finder.routers[key] = _Router(key, kind in APP_CLASSES, prefix if has_prefix else "")


def _collect_includes(finder: _Finder, mod: PyModule) -> None:
    if mod.tree is None or "include_router" not in (mod.source or ""):
        return
    for call, receiver in _method_calls(mod.tree, "include_router"):
        parent = finder.router_key(receiver, mod.path)
        child_node = argument(call, 0, "router")
        child = finder.router_key(child_node, mod.path) if child_node is not None else None
        if parent is None or child is None:
            continue
        given = keyword(call, "prefix")
        prefix = "" if given is None else finder.string(given, mod.path)
        finder.includes.append(_Include(parent, child, prefix))


def _module_routes(finder: _Finder, mod: PyModule) -> Iterator[Route]:
    if mod.tree is None or not _ROUTE_TEXT.search(mod.source or ""):
        return
    aliases = finder.graph.aliases(mod.path)
    uses_fastapi = any(v.split(".", 1)[0] == "fastapi" for v in aliases.values())
    for info in iter_functions(mod.tree):
        for decorator in info.node.decorator_list:
            found = _route_decorator(finder, mod.path, decorator, uses_fastapi)
            if found is None:
                continue
            verb, key, call = found
            methods = [verb.upper()] if verb != "api_route" else _methods(call)
            for method in methods:
                yield _route(finder, mod.path, info.node, info.node.lineno, method, call, key)
    for call, receiver in _method_calls(mod.tree, "add_api_route"):
        key = finder.router_key(receiver, mod.path)
        if key is None:
            continue
        endpoint = argument(call, 1, "endpoint")
        node = _endpoint(finder, mod.path, endpoint)
        for method in _methods(call):
            yield _route(finder, mod.path, node, call.lineno, method, call, key, endpoint)


def _route_decorator(
    finder: _Finder, path: str, decorator: ast.expr, uses_fastapi: bool
) -> tuple[str, RouterKey | None, ast.Call] | None:
    """(verb, router, call) of `@<router>.<verb>(...)`; unknown routers count in FastAPI modules."""
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
        return None
    verb = decorator.func.attr
    if verb not in HTTP_METHODS and verb != "api_route":
        return None
    key = finder.router_key(decorator.func.value, path)
    if key is None and not (uses_fastapi and dotted_name(decorator.func.value)):
        return None
    return verb, key, decorator


def _route(
    finder: _Finder,
    path: str,
    node: FunctionNode | None,
    line: int,
    method: str,
    call: ast.Call,
    key: RouterKey | None,
    endpoint: ast.expr | None = None,
) -> Route:
    kwargs = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    route_path = finder.string(argument(call, 0, "path"), path)
    router = finder.routers.get(key) if key else None
    prefix = router.prefix if router and not router.is_app else ("" if router else None)
    full: list[str] = []
    if router is not None and route_path is not None and prefix is not None:
        for mount in finder.mounts(router.key):
            if mount is not None:
                full.append((mount + prefix + route_path) or "/")
    name = node.name if node is not None else (dotted_name(endpoint) if endpoint else None)
    return Route(
        path_rel=path,
        line=line,
        func_name=name or "<unknown>",
        method=method,
        path=route_path,
        full_path=full[0] if full else None,
        status_code=status_code_value(kwargs.get("status_code")),
        response_model=kwargs.get("response_model"),
        decorator_kwargs=kwargs,
        is_async=isinstance(node, ast.AsyncFunctionDef),
        node=node,
        router=key[1] if key else None,
        router_prefix=prefix,
        full_paths=tuple(dict.fromkeys(full)),
    )


def _endpoint(finder: _Finder, path: str, endpoint: ast.expr | None) -> FunctionNode | None:
    if isinstance(endpoint, ast.Name) and (local := finder.function(path, endpoint.id)):
        return local
    found = finder.resolve(
        qualified_name(endpoint, finder.graph.aliases(path)) if endpoint else None
    )
    return finder.function(*found) if found else None


def _methods(call: ast.Call) -> list[str]:
    """`methods=["GET", "POST"]` of `api_route`/`add_api_route` (GET when absent)."""
    given = keyword(call, "methods")
    if isinstance(given, ast.List | ast.Tuple | ast.Set):
        names = [const_str(e) for e in given.elts]
        return [n.upper() for n in names if n] or ["GET"]
    return ["GET"]


def _method_calls(tree: ast.Module, method: str) -> Iterator[tuple[ast.Call, ast.expr]]:
    """`(call, receiver)` of every `<receiver>.<method>(...)` call."""
    for node in iter_calls(tree):
        if isinstance(node.func, ast.Attribute) and node.func.attr == method:
            yield node, node.func.value


def _assignment(stmt: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        return (target.id if isinstance(target, ast.Name) else None), stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.value
    return None, None


def _field_default(value: ast.expr | None) -> ast.expr | None:
    """`"x"` of `X: str = "x"` or of `Field("x")` / `Field(default="x")`."""
    if isinstance(value, ast.Call):
        if (dotted_name(value.func) or "").rsplit(".", 1)[-1] != "Field":
            return None
        return argument(value, 0, "default")
    return value


def routes_by_path(routes: list[Route]) -> Mapping[str, list[Route]]:
    """Routes grouped by their handler file."""
    out: dict[str, list[Route]] = {}
    for route in routes:
        out.setdefault(route.path_rel, []).append(route)
    return out
