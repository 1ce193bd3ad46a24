"""Performance: a Redis cache and pooled HTTP clients."""

from __future__ import annotations

import ast

from scanners.analysis import project as pj
from scanners.analysis.astutil import call_name
from scanners.analysis.blocking import iter_sites, per_call_clients
from scanners.analysis.codescan import capped, module_references, parsed
from scanners.analysis.nodes import of_type
from scanners.context import RepoContext
from scanners.results import Evidence, RuleResult
from scanners.rules import register
from scanners.rules.base import Rule

REDIS_PACKAGES = ("redis", "aioredis", "coredis", "valkey")
_CLIENT_CLASSES = ("Redis", "StrictRedis", "ConnectionPool", "BlockingConnectionPool")
_MODULES = (
    "redis", "redis.asyncio", "redis.client", "redis.asyncio.client", "aioredis", "coredis",
    "valkey", "valkey.asyncio",
)  # fmt: skip
#: Calls that create a Redis client or pool: `Redis(...)`, `Redis.from_url(...)`, ...
REDIS_CLIENT_CALLS = frozenset(
    {f"{m}.{c}" for m in _MODULES for c in _CLIENT_CLASSES}
    | {f"{m}.{c}.from_url" for m in _MODULES for c in _CLIENT_CLASSES}
    | {f"{m}.from_url" for m in _MODULES}
)
CACHE_BACKENDS = frozenset({"fastapi_cache.backends.redis.RedisBackend"})


def _client_call(ctx: RepoContext) -> tuple[str, int] | None:
    """(path, line) of the first call creating a Redis client in the app code."""
    for mod, tree in parsed(ctx.app_files, "edis"):
        aliases = ctx.import_graph.aliases(mod.path)
        for node in of_type(tree, ast.Call):
            if call_name(node, aliases) in REDIS_CLIENT_CALLS:
                return mod.path, node.lineno
    found = next(module_references(ctx, CACHE_BACKENDS, "RedisBackend"), None)
    return (found[0].path, found[1].lineno) if found else None


@register
class RedisCache(Rule):
    """A Redis client is declared and used for caching."""

    id = "PERF-001"
    heuristic = (
        "redis (or aioredis, coredis, valkey) must be a runtime dependency, imported by app "
        "code, which creates a client: Redis(...), Redis.from_url(...), a ConnectionPool, or "
        "a fastapi-cache RedisBackend. Imported without a client warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Check declaration, import and client creation."""
        declared = pj.runtime(ctx, *REDIS_PACKAGES)
        if not declared:
            return self.failed(
                "No Redis client declared for caching.",
                [pj.missing_evidence(ctx, "add redis")],
            )
        graph = ctx.import_graph
        names = [name.replace("-", "_") for name in REDIS_PACKAGES]
        if not any(graph.imports_external(m.path, names) for m in ctx.app_files):
            where = pj.requirement_evidence(ctx, declared[0], "declared, never imported")
            return self.failed("Redis is declared but no app code uses it.", [where])
        found = _client_call(ctx)
        if found is None:
            where = pj.requirement_evidence(ctx, declared[0], "imported, no client created")
            return self.warned("Redis is imported but no client is created.", [where])
        return self.passed(f"Redis client created at {found[0]}:{found[1]}.")


@register
class PooledHttpClient(Rule):
    """No HTTP client is created per call inside functions."""

    id = "PERF-002"
    heuristic = (
        "httpx.AsyncClient/Client, requests.Session, aiohttp.ClientSession and "
        "urllib3.PoolManager constructed inside a function are per-call clients, unless the "
        "function runs once (lifespan, start-up handler, lru_cache) or hands the client on "
        "(returns it or stores it on an attribute) without being a route handler or a "
        "Depends() dependency; so a start-up factory such as Resources.from_settings() "
        "passes. Fails when a per-call client is in a handler, a dependency, a `with` block "
        "or the routes/services/repositories layers; warns otherwise (the function may run "
        "once)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Report clients constructed on every call."""
        scan = per_call_clients(ctx)
        if scan.total == 0:
            return self.not_applicable("The app code creates no HTTP client.")
        sites = list(iter_sites(scan.per_call))
        if not sites:
            return self.passed(f"{scan.total} HTTP client(s), all shared.")
        evidence = capped(
            Evidence(s.path, s.line, f"{s.name}() created on every call of {s.function}()")
            for s in sites
        )
        if any(s.certain for s in sites):
            return self.failed("HTTP clients are created per request: share one.", evidence)
        return self.warned(
            "HTTP clients are created inside functions: share one unless they run once.",
            evidence,
        )
