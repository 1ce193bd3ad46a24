"""Calls that hurt an async service: blocking calls in `async def`, HTTP clients per call.

Blocking calls (ASY-002) are calls whose qualified name is a known synchronous API
(`time.sleep`, `requests.*`, `subprocess.run`, the built-in `open`...) made directly in the
body of an `async def`; code in nested `def`s and lambdas is not counted, since it may run in
a thread (`asyncio.to_thread(lambda: ...)`).

HTTP clients per call (PERF-002) are `httpx.AsyncClient`/`httpx.Client`/`requests.Session`/
`aiohttp.ClientSession`/`urllib3.PoolManager` constructed inside a function. A construction
is a shared client, and not reported, when it runs once: in a lifespan or start-up handler
(an `asynccontextmanager` taking `app`, a function passed as `lifespan=`, an
`on_event("startup")` handler), in a memoised function (`lru_cache`/`cache`), or when the
client outlives the call (returned, or stored on an attribute such as `self._client` or
`app.state.http`), unless that function is itself a route handler or a `Depends()`
dependency, which run per request. A factory like `Resources.from_settings()` that returns
the clients it builds is therefore recognised as a start-up factory.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scanners.analysis.astutil import call_name, const_str, iter_calls, qualified_name
from scanners.analysis.codescan import (
    Scope,
    decorator_names,
    last_part,
    parents,
    parsed,
)
from scanners.analysis.nodes import functions, scoped_calls, walk

if TYPE_CHECKING:
    from scanners.context import RepoContext

_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request", "stream")
BLOCKING_CALLS = frozenset(
    {
        "time.sleep",
        "open",
        "input",
        "os.system",
        "os.popen",
        "os.wait",
        "os.waitpid",
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "urllib.request.urlopen",
        "requests.Session",
        "requests.session",
        "httpx.Client",
        "socket.create_connection",
        *(f"requests.{verb}" for verb in _HTTP_VERBS),
        *(f"requests.api.{verb}" for verb in _HTTP_VERBS),
        *(f"httpx.{verb}" for verb in _HTTP_VERBS),
    }
)
CLIENT_CLASSES = frozenset(
    {
        "httpx.AsyncClient",
        "httpx.Client",
        "requests.Session",
        "requests.session",
        "requests.sessions.Session",
        "aiohttp.ClientSession",
        "aiohttp.client.ClientSession",
        "urllib3.PoolManager",
    }
)
# A call's qualified name starts with a name written in its module (the callee itself, or the
# module an import binds it from), so a module without any of these words cannot hold one.
_BLOCKING_HEADS = re.compile(
    r"\b(?:" + "|".join(sorted({name.split(".", 1)[0] for name in BLOCKING_CALLS})) + r")\b"
)
_CLIENT_PACKAGES = tuple(sorted({name.split(".", 1)[0] for name in CLIENT_CLASSES}))
_MEMOISERS = frozenset({"lru_cache", "cache", "cached", "alru_cache"})
_CONTEXT_MANAGERS = frozenset({"asynccontextmanager", "contextmanager"})
_APP_TYPES = frozenset({"FastAPI", "Starlette"})


@dataclass(frozen=True, slots=True)
class CallSite:
    """A reported call: where it is, what it calls and the function it runs in."""

    path: str
    line: int
    name: str
    function: str
    certain: bool = True  # PERF-002: clearly per request (handler, dependency, request layer)


# ----- ASY-002 ------------------------------------------------------------------------------
def blocking_calls(ctx: RepoContext) -> list[CallSite]:
    """Known synchronous calls made directly in the body of an `async def` of the app code."""
    out: list[CallSite] = []
    for mod, tree in parsed(ctx.app_files, "async def"):
        if not _BLOCKING_HEADS.search(mod.source or ""):
            continue
        aliases = ctx.import_graph.aliases(mod.path)
        for node, scope in scoped_calls(tree):
            if not isinstance(scope, ast.AsyncFunctionDef):
                continue
            name = call_name(node, aliases)
            if name in BLOCKING_CALLS and not (name in ("open", "input") and _shadowed(name, tree)):
                out.append(CallSite(mod.path, node.lineno, name, scope.name))
    return out


def _shadowed(name: str, tree: ast.Module) -> bool:
    """Whether the module defines its own `open`/`input` (an async wrapper, say)."""
    return any(
        isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name == name
        for stmt in tree.body
    )


# ----- PERF-002 -----------------------------------------------------------------------------
@dataclass(slots=True)
class ClientScan:
    """Every HTTP client construction of the app code, and those made per call."""

    total: int = 0
    per_call: list[CallSite] = field(default_factory=list)


def per_call_clients(ctx: RepoContext) -> ClientScan:
    """HTTP client constructions that run on every call of a function (module docstring)."""
    scan = ClientScan()
    per_request: set[ast.AST] | None = None  # computed at the first client found
    startup: set[str] = set()
    request_layers: set[str] = set()
    for mod, tree in parsed(ctx.app_files):
        # A call resolves to a client class only through an import of its package.
        if not any(package in (mod.source or "") for package in _CLIENT_PACKAGES):
            continue
        aliases = ctx.import_graph.aliases(mod.path)
        up: dict[ast.AST, ast.AST] | None = None
        for node, scope in scoped_calls(tree):
            name = call_name(node, aliases)
            if name not in CLIENT_CLASSES:
                continue
            scan.total += 1
            if scope is None or isinstance(scope, ast.Lambda):
                continue
            if _memoised(scope, aliases):
                continue  # built once per process, even when used as a dependency
            if per_request is None:
                per_request = _per_request_functions(ctx)
                startup = _startup_names(ctx)
                request_layers = {
                    m.path
                    for layer in ("routes", "services", "repositories")
                    for m in ctx.layer_files(layer)
                }
            up = up or parents(tree)
            hot = scope in per_request
            if not hot and _runs_once(scope, node, up, aliases, startup):
                continue
            certain = hot or _context_managed(node, up) or mod.path in request_layers
            scan.per_call.append(CallSite(mod.path, node.lineno, name, scope.name, certain))
    return scan


def _per_request_functions(ctx: RepoContext) -> set[ast.AST]:
    """Route handlers and functions named in `Depends(...)` (matched by name per project)."""
    handlers: set[ast.AST] = {r.node for r in ctx.routes if r.node is not None}
    dependency_names: set[str] = set()
    for mod, tree in parsed(ctx.app_files, "Depends"):
        aliases = ctx.import_graph.aliases(mod.path)
        for node in iter_calls(tree):
            if node.args and _is_depends(node, aliases):
                name = last_part(node.args[0])
                if name:
                    dependency_names.add(name)
    for _, tree in parsed(ctx.app_files):
        handlers.update(node for node in functions(tree) if node.name in dependency_names)
    return handlers


def _is_depends(call: ast.Call, aliases: dict[str, str]) -> bool:
    name = qualified_name(call.func, aliases) or ""
    return name in ("fastapi.Depends", "fastapi.params.Depends", "fastapi.Security")


def _startup_names(ctx: RepoContext) -> set[str]:
    """Names of functions given as `lifespan=` or registered for the start-up event."""
    names: set[str] = set()
    for _, tree in parsed(ctx.app_files):
        for node in iter_calls(tree):
            for kw in node.keywords:
                if kw.arg == "lifespan" and (name := last_part(kw.value)):
                    names.add(name)
            if (
                last_part(node.func) == "add_event_handler"
                and len(node.args) == 2  # (event, handler)
                and const_str(node.args[0]) == "startup"
                and (name := last_part(node.args[1]))
            ):
                names.add(name)
    return names


def _runs_once(
    func: ast.FunctionDef | ast.AsyncFunctionDef,
    call: ast.Call,
    up: dict[ast.AST, ast.AST],
    aliases: dict[str, str],
    startup: set[str],
) -> bool:
    """Whether `func` runs once (start-up) or hands the client beyond the call."""
    if func.name in startup or _is_startup_event(func):
        return True
    decorators = {name.rsplit(".", 1)[-1] for name in decorator_names(func, aliases)}
    if decorators & _CONTEXT_MANAGERS and _takes_app(func):
        return True
    return _escapes(call, func, up)


def _memoised(func: ast.FunctionDef | ast.AsyncFunctionDef, aliases: dict[str, str]) -> bool:
    """`@lru_cache`/`@cache`/`@cached`/`@alru_cache`: the body runs once per arguments."""
    return any(name.rsplit(".", 1)[-1] in _MEMOISERS for name in decorator_names(func, aliases))


def _is_startup_event(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(
        isinstance(d, ast.Call)
        and last_part(d.func) == "on_event"
        and d.args
        and const_str(d.args[0]) == "startup"
        for d in func.decorator_list
    )


def _takes_app(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for arg in [*func.args.posonlyargs, *func.args.args]:
        if arg.arg in ("app", "application"):
            return True
        if arg.annotation is not None and last_part(arg.annotation) in _APP_TYPES:
            return True
    return False


def _escapes(call: ast.Call, func: Scope, up: dict[ast.AST, ast.AST]) -> bool:
    """Returned, stored on an attribute, or bound to a name that is then returned or stored."""
    node: ast.AST = call
    while node in up and node is not func:
        parent = up[node]
        if isinstance(parent, ast.Attribute):
            return False  # `httpx.AsyncClient().get(...)`: used once, then dropped
        if isinstance(parent, ast.Return):
            return True
        if isinstance(parent, ast.Assign | ast.AnnAssign):
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            if any(isinstance(t, ast.Attribute) for t in targets):
                return True
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            return bool(names) and func is not None and _name_escapes(func, names, up)
        if isinstance(parent, ast.stmt):
            return False
        node = parent
    return False


def _name_escapes(func: ast.AST, names: set[str], up: dict[ast.AST, ast.AST]) -> bool:
    """Whether a local bound to the client is returned or stored, not only called upon."""
    for node in walk(func):
        value: ast.expr | None = None
        stores = isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Attribute) for t in node.targets
        )
        if isinstance(node, ast.Return | ast.Assign) and (stores or isinstance(node, ast.Return)):
            value = node.value
        if value is not None and any(
            isinstance(n, ast.Name) and n.id in names and not _is_receiver(n, up)
            for n in ast.walk(value)
        ):
            return True
    return False


def _is_receiver(node: ast.AST, up: dict[ast.AST, ast.AST]) -> bool:
    """`client` in `client.get(...)`: the object a method is called on."""
    parent = up.get(node)
    return isinstance(parent, ast.Attribute) and parent.value is node


def _context_managed(call: ast.Call, up: dict[ast.AST, ast.AST]) -> bool:
    """`with httpx.Client() as c:` / `async with ...`: scoped to this call by construction."""
    return isinstance(up.get(call), ast.withitem)


def iter_sites(sites: list[CallSite]) -> Iterator[CallSite]:
    """Sites sorted by place, one per (path, line)."""
    seen: set[tuple[str, int]] = set()
    for site in sorted(sites, key=lambda s: (s.path, s.line)):
        if (site.path, site.line) not in seen:
            seen.add((site.path, site.line))
            yield site
