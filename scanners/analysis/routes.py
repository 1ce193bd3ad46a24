"""FastAPI route handlers of the app code, with their full paths where they can be known.

A handler is a function decorated with `@<router>.get/post/put/patch/delete/head/options/
trace/api_route(...)` (stacked decorators give one route each), or registered with
`<router>.add_api_route(path, endpoint, methods=[...])`, where `<router>` is an
`APIRouter(...)` or `FastAPI(...)` instance of the same module, one imported from another app
module, or a function parameter annotated as one.

Full paths compose `include_router(child, prefix=...)` calls across modules (nested
includes at any depth, cycles cut) with each router's own `APIRouter(prefix=...)`, and
sub-applications mounted with `app.mount("/api/v1", api)`: the routes of `api` are served
under the mount path. A router or app may be named directly, imported, returned by a project
function (`router = build_router()`), or passed to a function as an argument
(`def register(app): app.include_router(...)` called as `register(app)`).

A prefix may be a literal, an f-string or `+` of resolvable parts, a module constant (also
imported, also `constants.PREFIX` and class attributes), or a settings attribute
(`settings.API_V1_STR`, `get_settings().API_V1_STR`) whose default is read from the settings
classes. Anything else is unknown: the route's `full_path` is None and `unresolved` names
the expression that could not be resolved (file, line and source text); so it does for a
router that no analysed code includes in an app. Nothing is executed.

`route_paths`, `is_probe_path`, `is_docs_path` and `is_operational` are the one definition of
"this route is a health, readiness, liveness, metrics or documentation route" that the API,
MON and LAY rules share.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
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
#: First or last path segments of health, readiness, liveness and metrics probes.
PROBE_SEGMENTS = frozenset(
    {"health", "healthz", "healthcheck", "health-check", "health_check", "livez", "readyz",
     "ready", "readiness", "live", "liveness", "ping", "metrics"}
)  # fmt: skip
#: Last path segments of API documentation (FastAPI's own pages, or the same served by hand).
DOC_SEGMENTS = frozenset(
    {"docs", "redoc", "swagger", "swagger-ui", "openapi.json", "openapi.yaml", "openapi.yml",
     "oauth2-redirect"}
)  # fmt: skip
#: A path parameter: FastAPI/Starlette `{name}`, Flask and Django `<name>` / `<int:name>`.
_PATH_PARAMETER = re.compile(r"[{<][^}>]*[}>]")
_VERSION = re.compile(r"^/api/v\d+(?=/|$)")
_DOC_KEYWORDS = ("docs_url", "redoc_url", "openapi_url", "swagger_ui_oauth2_redirect_url")
_MAX_DEPTH = 8
_MAX_TEXT = 80
_ROUTE_TEXT = re.compile(
    r"\.\s*(?:get|post|put|patch|delete|head|options|trace|api_route|add_api_route)\s*\("
)
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
RouterKey = tuple[str, str]  # (module path, variable name)


@dataclass(frozen=True, slots=True)
class Unresolved:
    """Why a full path is unknown: the expression (or router) at a file and line."""

    path: str  # repository-relative file
    line: int
    expression: str  # source text of the expression, shortened
    message: str  # "prefix `settings.X` cannot be resolved", ...


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
    unresolved: tuple[Unresolved, ...] = ()  # why some (or every) full path is unknown
    serves_docs: bool = False  # its path is an app's `docs_url`/`redoc_url`/`openapi_url`


# ----- one definition of the operational (non-business) routes --------------------------
def route_paths(route: Route) -> list[str]:
    """Known full paths of a route, else router prefix + path, else the path, else none."""
    if route.full_paths:
        return list(route.full_paths)
    if route.path is not None and route.router_prefix is not None:
        return [route.router_prefix + route.path]
    return [route.path] if route.path is not None else []


def segments(path: str) -> list[str]:
    """Path segments after an `/api/vN` prefix."""
    return [s for s in _VERSION.sub("", path).split("/") if s]


def has_path_parameter(path: str) -> bool:
    """Whether a path holds a parameter (`{id}`, `<int:id>`)."""
    return bool(_PATH_PARAMETER.search(path))


def is_probe_path(path: str) -> bool:
    """A health, readiness, liveness or metrics probe: `/health...` (first segment), or a
    parameter-free path ending with a probe segment (`/api/v1/system/health`). A resource's
    own probe (`/cameras/{camera_id}/health`) is a business route."""
    parts = segments(path)
    if not parts:
        return False
    return parts[0] in PROBE_SEGMENTS or (
        parts[-1] in PROBE_SEGMENTS and not has_path_parameter(path)
    )


def is_docs_path(path: str) -> bool:
    """API documentation: `/docs`, `/redoc`, `/openapi.json`, `/docs/oauth2-redirect`, also
    under a prefix (`/api/v1/openapi.json`); never a path with a parameter."""
    parts = segments(path)
    return bool(parts) and not has_path_parameter(path) and parts[-1] in DOC_SEGMENTS


def is_documentation(route: Route) -> bool:
    """Whether every path of a route serves the API documentation."""
    paths = route_paths(route)
    return route.serves_docs or (bool(paths) and all(is_docs_path(p) for p in paths))


def is_operational(route: Route) -> bool:
    """Whether every path of a route is a probe or documentation, not a business endpoint."""
    paths = route_paths(route)
    return route.serves_docs or (
        bool(paths) and all(is_probe_path(p) or is_docs_path(p) for p in paths)
    )


def _text(node: ast.AST) -> str:
    try:
        text = " ".join(ast.unparse(node).split())
    except (ValueError, TypeError, RecursionError):  # pragma: no cover - malformed trees
        text = type(node).__name__
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


# ----- the search -----------------------------------------------------------------------
@dataclass(slots=True)
class _Router:
    key: RouterKey
    is_app: bool
    prefix: str | None
    line: int = 0
    unknown_prefix: Unresolved | None = None  # when `prefix` is None


@dataclass(slots=True)
class _Include:
    parent: RouterKey
    child: RouterKey
    prefix: str | None
    unknown_prefix: Unresolved | None = None  # when `prefix` is None


Mount = str | Unresolved


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
    _calls_by_name: dict[str, list[tuple[str, ast.Call]]] = field(default_factory=dict)
    _assigned: dict[str, dict[str, list[ast.expr]]] = field(default_factory=dict)
    _passed: dict[tuple[str, int, str], RouterKey | None] = field(default_factory=dict)
    classes: dict[RouterKey, bool] = field(default_factory=dict)  # project class -> is an app
    class_names: set[str] = field(default_factory=lambda: {"FastAPI", "APIRouter"})
    doc_urls: set[str] = field(default_factory=set)  # `FastAPI(docs_url=...)` and friends

    def kind(self, qualified: str | None) -> bool | None:
        """True for an app class, False for a router class, None for anything else: fastapi's
        own, or a project subclass or alias of one (`class Router(APIRouter)`)."""
        if qualified in APP_CLASSES:
            return True
        if qualified in ROUTER_CLASSES:
            return False
        found = self.resolve(qualified)
        return self.classes.get(found) if found is not None else None

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
            if node.conversion not in (-1, ord("s")):
                return None
            number = self._number(node.value, path)
            return number if number is not None else self.string(node.value, path, depth + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.string(node.left, path, depth + 1)
            right = self.string(node.right, path, depth + 1)
            return None if left is None or right is None else left + right
        if isinstance(node, ast.Name):
            return self._name_value(node.id, path, depth)
        if isinstance(node, ast.Attribute):
            return self._attribute_value(node, path, depth)
        return None

    def _number(self, node: ast.expr, path: str) -> str | None:
        """`1` in `f"/api/v{VERSION}"`: an integer literal or module constant, as text."""
        if isinstance(node, ast.Name):
            local = self.constants.get(path, {}).get(node.id)
            found = self.resolve(self.graph.aliases(path).get(node.id))
            if local is None and found is not None:
                local = self.constants.get(found[0], {}).get(found[1])
            node = local if local is not None else node
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return str(node.value)
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

    def _attribute_value(self, node: ast.Attribute, path: str, depth: int) -> str | None:
        """`constants.PREFIX` (a project module's constant), `Paths.API` (a class
        attribute), else `settings.X` / `get_settings().X`: a settings field's default."""
        found = self.resolve(qualified_name(node, self.graph.aliases(path)))
        if found is not None and (value := self.constants.get(found[0], {}).get(found[1])):
            return self.string(value, found[0], depth + 1)
        if isinstance(node.value, ast.Name):
            owner = self._class(node.value.id, path)
            if owner is not None:
                value = _class_constants(owner[1]).get(node.attr)
                if value is not None:
                    return self.string(value, owner[0], depth + 1)
        default = self.settings_defaults().get(node.attr)
        return self.string(default, path, depth + 1) if default is not None else None

    def _class(self, name: str, path: str) -> tuple[str, ast.ClassDef] | None:
        """A top-level class of the module at `path`, or imported into it from app code."""
        where: tuple[str, str] | None = (path, name)
        if not self._top_class(path, name):
            where = self.resolve(self.graph.aliases(path).get(name))
        if where is None:
            return None
        node = self._top_class(*where)
        return (where[0], node) if node is not None else None

    def _top_class(self, path: str, name: str) -> ast.ClassDef | None:
        mod = self.ctx.module(path)
        if mod is None or mod.tree is None:
            return None
        return next(
            (s for s in mod.tree.body if isinstance(s, ast.ClassDef) and s.name == name), None
        )

    def settings_defaults(self) -> dict[str, ast.expr]:
        """Literal defaults of the settings classes' fields (and of their app-code bases):
        those of *the* `Settings` class win over those of other settings classes."""
        if self._settings is None:
            from scanners.analysis.settings import ClassInfo, find_settings

            scan = find_settings(self.ctx)
            self._settings = {}
            ordered = [scan.main] if scan.main is not None else []
            ordered += [c for c in scan.classes if c is not scan.main]
            for first in ordered:
                info: ClassInfo | None = first
                seen: set[str] = set()
                while info is not None and info.name not in seen:
                    seen.add(info.name)
                    for name, value in _class_constants(info.node).items():
                        self._settings.setdefault(name, value)
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

    def router_key(
        self, node: ast.AST | None, path: str, line: int = 0, depth: int = 0
    ) -> RouterKey | None:
        """The canonical key of the router or app an expression names (see `_router_key`)."""
        key = self._router_key(node, path, line, depth)
        return self.routers[key].key if key is not None else None

    def _router_key(
        self, node: ast.AST | None, path: str, line: int = 0, depth: int = 0
    ) -> RouterKey | None:
        """The router or app an expression names: `router`, `auth.router`, an imported
        `api_router`, what a project function returns (`build_router()`, also assigned
        first), or the argument a function's parameter is given at its call sites."""
        if node is None or depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Name) and (path, node.id) in self.routers:
            # an annotated parameter (`app: FastAPI`) is what its callers pass, if known
            passed = self._argument(node.id, path, line, depth + 1)
            return passed if passed is not None else (path, node.id)
        found = self.resolve(qualified_name(node, self.graph.aliases(path)))
        if found is not None and found in self.routers:
            return found
        if isinstance(node, ast.Call):
            return self._returned(node, path, depth + 1)
        if not isinstance(node, ast.Name):
            return None
        for value in self.assigned(path).get(node.id, []):
            if isinstance(value, ast.Call):
                key = self._returned(value, path, depth + 1)
            else:  # `api = items.router`
                key = self.router_key(value, path, line, depth + 1)
            if key is not None:
                return key
        by_call_site = self._argument(node.id, path, line, depth + 1)
        if by_call_site is not None:
            return by_call_site
        return (path, node.id) if (path, node.id) in self.routers else None

    def _returned(self, call: ast.expr, path: str, depth: int) -> RouterKey | None:
        """The router a project function returns (`return router`), if one is named."""
        if not isinstance(call, ast.Call):
            return None
        func = self.callee(call.func, path)
        if func is None:
            return None
        func_path, node = func
        for sub in ast.walk(node):
            if isinstance(sub, ast.Return) and sub.value is not None:
                key = self.router_key(sub.value, func_path, sub.lineno, depth + 1)
                if key is not None:
                    return key
        return None

    def callee(self, func: ast.expr, path: str) -> tuple[str, FunctionNode] | None:
        if isinstance(func, ast.Name) and (local := self.function(path, func.id)):
            return path, local
        found = self.resolve(qualified_name(func, self.graph.aliases(path)))
        if found is not None and (node := self.function(*found)) is not None:
            return found[0], node
        return None

    def _argument(self, name: str, path: str, line: int, depth: int) -> RouterKey | None:
        """The router passed for parameter `name` of the function enclosing `line`, at the
        first call site (in any app module) whose argument names one. Each parameter is
        followed once: recursion and call chains end."""
        if depth > _MAX_DEPTH or not line:
            return None
        enclosing = _enclosing_parameter(self.ctx.module(path), name, line)
        if enclosing is None:
            return None
        func, index = enclosing
        memo_key = (path, func.lineno, name)
        if memo_key in self._passed:
            return self._passed[memo_key]
        self._passed[memo_key] = None  # in progress: a cycle finds nothing
        for site_path, call in self.calls_named(func.name):
            if self.callee(call.func, site_path) != (path, func):
                continue
            given = argument(call, index, name) if index >= 0 else keyword(call, name)
            key = self.router_key(given, site_path, call.lineno, depth + 1)
            if key is not None:
                self._passed[memo_key] = key
                return key
        return None

    def calls_named(self, name: str) -> list[tuple[str, ast.Call]]:
        """(module path, call) of every call to a function called `name` in app code."""
        if name not in self._calls_by_name:
            found: list[tuple[str, ast.Call]] = []
            for mod in self.ctx.app_files:
                if mod.tree is None or name not in (mod.source or ""):
                    continue  # cheap text test first
                for call in iter_calls(mod.tree):
                    callee = call.func
                    short = callee.attr if isinstance(callee, ast.Attribute) else None
                    short = callee.id if isinstance(callee, ast.Name) else short
                    if short == name:
                        found.append((mod.path, call))
            self._calls_by_name[name] = found
        return self._calls_by_name[name]

    def assigned(self, path: str) -> dict[str, list[ast.expr]]:
        """Calls and names assigned to each name of a module (`router = build_router()`,
        `api = items.router`), indexed on demand."""
        if path not in self._assigned:
            mod = self.ctx.module(path)
            out: dict[str, list[ast.expr]] = {}
            for stmt in iter_statements(mod.tree) if mod is not None and mod.tree else ():
                targets, value = _targets(stmt)
                if isinstance(value, ast.Call | ast.Name | ast.Attribute):
                    for target in targets:
                        if target != dotted_name(value):
                            out.setdefault(target, []).append(value)
            self._assigned[path] = out
        return self._assigned[path]

    def mounts(self, key: RouterKey, seen: frozenset[RouterKey] = frozenset()) -> list[Mount]:
        """Prefixes under which a router's routes are served, or why one is unknown. An app
        nobody mounts is served at the root; a router nobody includes is served nowhere."""
        router = self.routers[key]
        if key in seen or len(seen) > _MAX_DEPTH:
            return []
        parents = [inc for inc in self.includes if inc.child == key]
        if not parents:
            return [""] if router.is_app else []
        out: list[Mount] = []
        for inc in parents:
            parent = self.routers[inc.parent]
            for mount in self.mounts(inc.parent, seen | {key}):
                if isinstance(mount, Unresolved):
                    out.append(mount)
                elif parent.prefix is None and parent.unknown_prefix is not None:
                    out.append(parent.unknown_prefix)
                elif inc.prefix is None and inc.unknown_prefix is not None:
                    out.append(inc.unknown_prefix)
                else:
                    out.append(mount + (parent.prefix or "") + (inc.prefix or ""))
        return out


def find_routes(ctx: RepoContext) -> list[Route]:
    """Every route of the app code, in file and line order (see the module docstring)."""
    finder = _Finder(ctx, ctx.import_graph)
    modules = [m for m in ctx.app_files if m.tree is not None]
    _index_classes(finder, modules)
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
    if not any(name in source for name in finder.class_names):
        return  # cheap text test first: most modules create no app or router
    aliases = finder.graph.aliases(mod.path)
    for info in iter_functions(mod.tree):
        for arg in (*info.node.args.posonlyargs, *info.node.args.args, *info.node.args.kwonlyargs):
            is_app = (
                finder.kind(qualified_name(arg.annotation, aliases)) if arg.annotation else None
            )
            if is_app is not None:
                key = (mod.path, arg.arg)
                finder.routers.setdefault(key, _Router(key, is_app, "", info.node.lineno))
    for stmt in iter_statements(mod.tree):
        targets, value = _targets(stmt)
        if not targets or not isinstance(value, ast.Call):
            continue
        is_app = finder.kind(qualified_name(value.func, aliases))
        if is_app is not None:  # `users_router = r = APIRouter()`: the first name is the key
            key = (mod.path, targets[0])
            given = keyword(value, "prefix")
            prefix = "" if given is None else finder.string(given, mod.path)
            unknown = _unknown(mod.path, given, "prefix") if prefix is None else None
            router = _Router(key, is_app, prefix, stmt.lineno, unknown)
            finder.routers.update(((mod.path, t), router) for t in targets)
            if is_app:
                urls = (finder.string(keyword(value, k), mod.path) for k in _DOC_KEYWORDS)
                finder.doc_urls.update(u.rstrip("/") for u in urls if u)


def _index_classes(finder: _Finder, modules: list[PyModule]) -> None:
    """Project subclasses and aliases of `FastAPI`/`APIRouter`: `class Router(APIRouter)`,
    `Router = APIRouter`, and `Router = make_router_class()` where the function is annotated
    to return `type[APIRouter]` (or a subclass). Followed until nothing new is found."""
    candidates = [
        m for m in modules if "FastAPI" in (m.source or "") or "Router" in (m.source or "")
    ]
    for _ in range(_MAX_DEPTH):
        before = len(finder.classes)
        for mod in candidates:
            aliases = finder.graph.aliases(mod.path)
            for stmt in mod.tree.body if mod.tree is not None else ():
                if isinstance(stmt, ast.ClassDef):
                    kinds = [finder.kind(qualified_name(b, aliases)) for b in stmt.bases]
                    found = next((k for k in kinds if k is not None), None)
                    name = stmt.name
                else:
                    target, value = _assignment(stmt)
                    found, name = _class_value(finder, mod.path, value), target or ""
                if found is not None and name and (mod.path, name) not in finder.classes:
                    finder.classes[(mod.path, name)] = found
                    finder.class_names.add(name)
        if len(finder.classes) == before:
            return


def _class_value(finder: _Finder, path: str, value: ast.expr | None) -> bool | None:
    """The kind of class an assigned value is: an alias, or a typed class factory's result."""
    if value is None:
        return None
    aliases = finder.graph.aliases(path)
    if not isinstance(value, ast.Call):
        return finder.kind(qualified_name(value, aliases))
    func = finder.callee(value.func, path)
    returns = func[1].returns if func is not None else None
    if func is None or not isinstance(returns, ast.Subscript):
        return None
    if (dotted_name(returns.value) or "").rsplit(".", 1)[-1] not in ("type", "Type"):
        return None
    return finder.kind(qualified_name(returns.slice, finder.graph.aliases(func[0])))


def _unknown(path: str, node: ast.expr | None, what: str) -> Unresolved:
    text = _text(node) if node is not None else "?"
    line = getattr(node, "lineno", 0) or 0
    return Unresolved(path, line, text, f"{what} `{text}` cannot be resolved")


def _collect_includes(finder: _Finder, mod: PyModule) -> None:
    source = mod.source or ""
    if mod.tree is None or ("include_router" not in source and ".mount" not in source):
        return
    for call, receiver in _method_calls(mod.tree, "include_router"):
        parent = finder.router_key(receiver, mod.path, call.lineno)
        child_node = argument(call, 0, "router")
        child = finder.router_key(child_node, mod.path, call.lineno)
        if parent is None or child is None:
            continue
        given = keyword(call, "prefix")
        prefix = "" if given is None else finder.string(given, mod.path)
        unknown = _unknown(mod.path, given, "prefix") if prefix is None else None
        finder.includes.append(_Include(parent, child, prefix, unknown))
    for call, receiver in _method_calls(mod.tree, "mount"):
        child = finder.router_key(argument(call, 1, "app"), mod.path, call.lineno)
        if child is None or not finder.routers[child].is_app:
            continue  # static files, another framework's app: no FastAPI routes below
        parent = finder.router_key(receiver, mod.path, call.lineno)
        if parent is None or parent == child:
            continue
        given = argument(call, 0, "path")
        prefix = finder.string(given, mod.path)
        prefix = prefix.rstrip("/") if prefix is not None else None  # as Starlette's Mount
        unknown = _unknown(mod.path, given, "mount path") if prefix is None else None
        finder.includes.append(_Include(parent, child, prefix, unknown))


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
        key = finder.router_key(receiver, mod.path, call.lineno)
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
    key = finder.router_key(decorator.func.value, path, decorator.lineno)
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
    given = argument(call, 0, "path")
    route_path = finder.string(given, path)
    router = finder.routers.get(key) if key else None
    prefix = router.prefix if router and not router.is_app else ("" if router else None)
    full: list[str] = []
    unresolved: list[Unresolved] = []
    if router is None:
        receiver = call.func.value if isinstance(call.func, ast.Attribute) else call.func
        text = _text(receiver)
        why = f"router `{text}` is not an APIRouter or FastAPI app the analysis found"
        unresolved.append(Unresolved(path, call.lineno, text, why))
    elif prefix is None and router.unknown_prefix is not None:
        unresolved.append(router.unknown_prefix)
    elif route_path is None:
        unresolved.append(_unknown(path, given, "path"))
    else:
        mounts = finder.mounts(router.key)
        for mount in mounts:
            if isinstance(mount, Unresolved):
                unresolved.append(mount)
            else:
                full.append((mount + (prefix or "") + route_path) or "/")
        if not mounts:
            var = router.key[1]
            why = f"router `{var}` is not included in any app the analysis found"
            unresolved.append(Unresolved(router.key[0], router.line, var, why))
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
        unresolved=tuple(dict.fromkeys(unresolved)),
        serves_docs=any(
            p.rstrip("/") in finder.doc_urls for p in (*full, route_path or "") if p.strip("/")
        ),
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


def _enclosing_parameter(
    mod: PyModule | None, name: str, line: int
) -> tuple[FunctionNode, int] | None:
    """(function, position or -1 for keyword-only) of the innermost function around `line`
    that takes a parameter called `name`."""
    if mod is None or mod.tree is None:
        return None
    best: tuple[FunctionNode, int] | None = None
    for info in iter_functions(mod.tree):
        node = info.node
        if not node.lineno <= line <= (node.end_lineno or node.lineno):
            continue
        positional = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
        if name in positional:
            best = node, positional.index(name)
        elif name in {a.arg for a in node.args.kwonlyargs}:
            best = node, -1
    return best


def _targets(stmt: ast.stmt) -> tuple[list[str], ast.expr | None]:
    """Names bound by `a = b = value` / `a: T = value`, and the value."""
    if isinstance(stmt, ast.Assign):
        return [t.id for t in stmt.targets if isinstance(t, ast.Name)], stmt.value
    target, value = _assignment(stmt)
    return ([target] if target else []), value


def _assignment(stmt: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        return (target.id if isinstance(target, ast.Name) else None), stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.value
    return None, None


def _class_constants(node: ast.ClassDef) -> dict[str, ast.expr]:
    """Class-level `X = "x"`, `X: str = "x"` and `X: str = Field("x")` defaults."""
    out: dict[str, ast.expr] = {}
    for stmt in node.body:
        target, value = _assignment(stmt)
        default = _field_default(value)
        if target is not None and default is not None:
            out.setdefault(target, default)
    return out


def _field_default(value: ast.expr | None) -> ast.expr | None:
    """`"x"` of `X: str = "x"` or of `Field("x")` / `Field(default="x")`."""
    if isinstance(value, ast.Call):
        if (dotted_name(value.func) or "").rsplit(".", 1)[-1] != "Field":
            return None
        return argument(value, 0, "default")
    return value
