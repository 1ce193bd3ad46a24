"""Async: async route handlers, no blocking calls in coroutines, no `requests` at runtime."""

from __future__ import annotations

from scanners.analysis import project as pj
from scanners.analysis.blocking import blocking_calls, iter_sites
from scanners.analysis.codescan import capped, dedupe, finding_evidence, lint_error
from scanners.context import RepoContext
from scanners.results import Evidence, RuleResult
from scanners.rules import register
from scanners.rules.base import Rule


@register
class AsyncHandlers(Rule):
    """Every route handler is `async def`."""

    id = "ASY-001"
    heuristic = (
        "Reads the route handlers found by the route analysis (decorators and "
        "add_api_route, aliases and stacked decorators included); a handler defined with "
        "plain `def` fails. Endpoints whose function cannot be found are not judged."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """List handlers defined with plain `def`."""
        handlers = {(r.path_rel, r.node.lineno): r for r in ctx.routes if r.node is not None}
        if not handlers:
            return self.not_applicable("No route handlers found.")
        sync = [
            Evidence(path, line, f"{r.func_name}() ({r.method} {r.path or '?'}) is not async")
            for (path, line), r in sorted(handlers.items())
            if not r.is_async
        ]
        if sync:
            return self.failed(
                f"{len(sync)} of {len(handlers)} route handler(s) are not async.", capped(sync)
            )
        return self.passed(f"All {len(handlers)} route handler(s) are async.")


@register
class NoBlockingInAsync(Rule):
    """No blocking call runs inside `async def` (ruff ASYNC and an AST check)."""

    id = "ASY-002"
    heuristic = (
        "ruff's ASYNC rules outside tests, plus calls made directly in an async def body to "
        "time.sleep, requests.*, sync httpx, urllib.request.urlopen, subprocess.*, "
        "os.system/popen, the built-in open() and input() (names resolved through imports; "
        "nested def/lambda bodies are not counted, they may run in a thread)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Combine ruff's ASYNC findings with the blocking-call check."""
        own = [
            Evidence(s.path, s.line, f"{s.name}() blocks the event loop in {s.function}()")
            for s in iter_sites(blocking_calls(ctx))
        ]
        problems = dedupe([*own, *finding_evidence(ctx.lint.select("ASYNC"))])
        if problems:
            return self.failed(
                f"{len(problems)} blocking call(s) inside async functions.", capped(problems)
            )
        error = lint_error(ctx)
        if error is not None:
            return self.warned("No blocking call found, but ruff did not run.", [error])
        return self.passed("No blocking calls inside async functions.")


@register
class NoRequestsDependency(Rule):
    """`requests` is not a runtime dependency."""

    id = "ASY-003"

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Look for `requests` among the runtime requirements."""
        found = pj.runtime(ctx, "requests")
        if found:
            return self.failed(
                "requests is a runtime dependency: use httpx.AsyncClient.",
                [pj.requirement_evidence(ctx, r, "blocking HTTP client") for r in found],
            )
        return self.passed("No requests in runtime dependencies.")
