"""HTTP-facing security facts of the app code: CORS origins, security headers, cookies."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scanners.analysis.astutil import const_str, keyword, module_constants
from scanners.analysis.codescan import module_references, parsed, references
from scanners.analysis.nodes import functions, of_type
from scanners.analysis.security import settings_fields

if TYPE_CHECKING:
    from scanners.context import RepoContext

CORS_MIDDLEWARE = frozenset(
    {"fastapi.middleware.cors.CORSMiddleware", "starlette.middleware.cors.CORSMiddleware"}
)
SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options")
_ANY_ORIGIN_REGEXES = frozenset({".*", "^.*$", ".*$", "^.*", ".+", "^.+$", "(.*)", "^(.*)$"})
_MAX_FOLLOW = 3


# ----- SEC-005: CORS ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CorsVerdict:
    """One CORSMiddleware installation judged: `fail`, `warn` or `pass`, and why."""

    path: str
    line: int
    status: str
    reason: str


def cors_verdicts(ctx: RepoContext) -> list[CorsVerdict]:
    """Every CORSMiddleware installation (`add_middleware`, `Middleware(...)`, direct call)."""
    wildcard_fields = {f.name for f in settings_fields(ctx) if _allows_any(f.value)}
    out: list[CorsVerdict] = []
    for mod, tree in parsed(ctx.app_files, "CORSMiddleware"):
        aliases = ctx.import_graph.aliases(mod.path)
        refs = {id(node) for node, _ in references(tree, aliases, CORS_MIDDLEWARE)}
        constants = module_constants(tree)
        for node in of_type(tree, ast.Call):
            if _installs_cors(node, refs):
                out.append(_judge(mod.path, constants, node, wildcard_fields))
    return out


def _installs_cors(call: ast.Call, refs: set[int]) -> bool:
    if id(call.func) in refs:
        return True
    first = call.args[0] if call.args else keyword(call, "middleware_class")
    return first is not None and id(first) in refs


def _judge(
    path: str, constants: dict[str, ast.expr], call: ast.Call, wildcard_fields: set[str]
) -> CorsVerdict:
    origins = keyword(call, "allow_origins")
    regex = const_str(keyword(call, "allow_origin_regex"))
    place = (path, call.lineno)
    if regex is not None and regex.strip() in _ANY_ORIGIN_REGEXES:
        return CorsVerdict(*place, "fail", f"allow_origin_regex={regex!r} admits every origin")
    if origins is None:
        if regex is not None or any(kw.arg is None for kw in call.keywords):
            return CorsVerdict(*place, "pass", "origins given by a regex or keyword arguments")
        return CorsVerdict(*place, "warn", "CORSMiddleware without allow_origins admits none")
    literal = _resolve(constants, origins)
    if _allows_any(literal):
        return CorsVerdict(*place, "fail", 'allow_origins holds the literal "*"')
    named = {n.attr for n in ast.walk(origins) if isinstance(n, ast.Attribute)}
    named |= {n.id for n in ast.walk(origins) if isinstance(n, ast.Name)}
    if named & wildcard_fields:
        field_name = sorted(named & wildcard_fields)[0]
        return CorsVerdict(*place, "warn", f'Settings.{field_name} defaults to "*"')
    return CorsVerdict(*place, "pass", "explicit origins")


def _resolve(constants: dict[str, ast.expr], node: ast.expr) -> ast.expr:
    """A module constant's value for a bare name (followed a few times), else `node`."""
    for _ in range(_MAX_FOLLOW):
        if not (isinstance(node, ast.Name) and node.id in constants):
            break
        node = constants[node.id]
    return node


def _allows_any(node: ast.expr | None) -> bool:
    """A literal `"*"` (alone, in a list/tuple/set, or in a comma-separated string)."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return any(const_str(e) is not None and _allows_any(e) for e in node.elts)
    text = const_str(node)
    return text is not None and "*" in {part.strip() for part in text.split(",")}


# ----- SEC-007: security headers ------------------------------------------------------------
@dataclass(slots=True)
class HeaderScan:
    """Where each security header name appears as a literal (first place only)."""

    found: dict[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        """Header names never seen."""
        return [h for h in SECURITY_HEADERS if h not in self.found]


def security_headers(ctx: RepoContext) -> HeaderScan:
    """String or bytes literals equal to a header name (any case): dict keys, arguments..."""
    wanted = {h.lower(): h for h in SECURITY_HEADERS}
    scan = HeaderScan()
    for mod in ctx.app_files:
        low = (mod.source or "").lower()
        if mod.tree is None or not any(h in low for h in wanted):
            continue
        for node in of_type(mod.tree, ast.Constant):
            if not isinstance(node.value, str | bytes):
                continue
            value = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
            header = wanted.get(value.strip().lower())
            if header is not None:
                scan.found.setdefault(header, (mod.path, node.lineno))
    return scan


# ----- SEC-010: cookies ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CookieCall:
    """A `set_cookie(...)` call and the flags it leaves out or turns off."""

    path: str
    line: int
    problems: tuple[str, ...]  # fail-level: httponly/secure missing or False, samesite None
    notes: tuple[str, ...]  # warn-level: samesite left to the framework's default


def cookie_calls(ctx: RepoContext) -> list[CookieCall]:
    """Every `<response>.set_cookie(...)` of the app code with its missing flags."""
    out: list[CookieCall] = []
    for mod, tree in parsed(ctx.app_files, "set_cookie"):
        for node in of_type(tree, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr == "set_cookie":
                out.append(_cookie(mod.path, node))
    return out


def _cookie(path: str, call: ast.Call) -> CookieCall:
    spread = any(kw.arg is None for kw in call.keywords)  # `**options`: cannot be seen
    problems: list[str] = []
    notes: list[str] = []
    for flag in ("httponly", "secure"):
        value = keyword(call, flag)
        if value is None and not spread:
            problems.append(f"{flag} not set")
        elif isinstance(value, ast.Constant) and not value.value:
            problems.append(f"{flag}={value.value!r}")
    samesite = keyword(call, "samesite")
    if isinstance(samesite, ast.Constant) and samesite.value is None:
        problems.append("samesite=None")
    elif samesite is None and not spread:
        notes.append("samesite not set (the framework's default applies)")
    return CookieCall(path, call.lineno, tuple(problems), tuple(notes))


# ----- SEC-006: rate limiting ---------------------------------------------------------------
SLOWAPI_LIMITER = frozenset({"slowapi.Limiter", "slowapi.extension.Limiter"})
SLOWAPI_MIDDLEWARE = frozenset(
    {"slowapi.middleware.SlowAPIMiddleware", "slowapi.middleware.SlowAPIASGIMiddleware"}
)
FASTAPI_LIMITER_INIT = frozenset({"fastapi_limiter.FastAPILimiter"})
FASTAPI_LIMITER_DEPENDENCY = frozenset(
    {"fastapi_limiter.depends.RateLimiter", "fastapi_limiter.depends.WebSocketRateLimiter"}
)


def _limit_decorators(ctx: RepoContext) -> bool:
    """`@limiter.limit("5/minute")` (or `shared_limit`) on some function of the app code."""
    for _, tree in parsed(ctx.app_files, "limit("):
        for node in functions(tree):
            if any(
                isinstance(d, ast.Call)
                and isinstance(d.func, ast.Attribute)
                and d.func.attr in ("limit", "shared_limit")
                for d in node.decorator_list
            ):
                return True
    return False


def rate_limit_wired(ctx: RepoContext) -> bool:
    """slowapi's Limiter with middleware or decorators, or FastAPILimiter with RateLimiter."""

    def seen(names: frozenset[str], hint: str) -> bool:
        return next(module_references(ctx, names, hint), None) is not None

    slowapi = seen(SLOWAPI_LIMITER, "Limiter") and (
        seen(SLOWAPI_MIDDLEWARE, "SlowAPI") or _limit_decorators(ctx)
    )
    limiter = seen(FASTAPI_LIMITER_INIT, "FastAPILimiter") and seen(
        FASTAPI_LIMITER_DEPENDENCY, "RateLimiter"
    )
    return slowapi or limiter
