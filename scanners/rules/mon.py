"""MON: health and readiness endpoints, Prometheus metrics, correlation ids, OpenTelemetry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanners.analysis.fastapi_app import app_calls
from scanners.analysis.observability import (
    METRICS_PACKAGES,
    Site,
    correlation_middleware,
    get_routes_ending,
    metrics_endpoints,
    touches_database,
    tracing_sites,
)
from scanners.analysis.project import missing_evidence, requirement_evidence, runtime
from scanners.results import Evidence, RuleResult
from scanners.rules import Rule, register

if TYPE_CHECKING:
    from scanners.context import RepoContext

#: Liveness paths that are not `/health` (MON-001 warns on them).
_LIVENESS = (
    "/healthz", "/livez", "/health/live", "/liveness", "/healthcheck", "/health-check",
    "/health_check", "/ping",
)  # fmt: skip


def _app_location(ctx: RepoContext, message: str) -> Evidence:
    """Evidence at the FastAPI app (or the app package) for something missing."""
    apps = app_calls(ctx)
    if apps:
        return Evidence(apps[0].module.path, apps[0].call.lineno, message)
    return Evidence(ctx.app_package_rel or ctx.path("src"), None, message)


def _evidence(sites: list[Site]) -> list[Evidence]:
    return [Evidence(s.path, s.line, s.what) for s in sites]


@register
class HealthEndpoint(Rule):
    """The app serves a `/health` endpoint."""

    id = "MON-001"
    heuristic = (
        "A GET route whose full path (router prefixes and include_router prefixes composed) "
        "ends with /health and has no path parameter passes (`/cameras/{id}/health` is a "
        "resource's, not the service's); /healthz, /livez, /health/live, /healthcheck or "
        "/ping warn (the probes API-001 exempts)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Pass on /health; warn on other liveness paths; fail otherwise."""
        if found := get_routes_ending(ctx, "/health"):
            route, path = found[0]
            return self.passed(f"GET {path} ({route.path_rel}:{route.line})")
        if near := get_routes_ending(ctx, *_LIVENESS):
            evidence = [
                Evidence(r.path_rel, r.line, f"liveness at {p}, not /health") for r, p in near
            ]
            return self.warned("liveness endpoint is not at /health", evidence)
        return self.failed("no /health endpoint", [_app_location(ctx, "no GET /health route")])


@register
class ReadinessEndpoint(Rule):
    """The app serves `/health/ready`, which checks the database."""

    id = "MON-002"
    heuristic = (
        "A GET route ending with /health/ready (/ready, /readyz warn). The database check is "
        "seen when the handler, or functions it calls (by name, two levels deep), mention "
        "db/database/session/engine/sql/connection or run `SELECT 1`; otherwise it warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Pass on a readiness route touching the database; warn on partial matches."""
        found = get_routes_ending(ctx, "/health/ready")
        near = get_routes_ending(ctx, "/ready", "/readyz", "/health/readiness")
        if not found and not near:
            return self.failed("no /health/ready endpoint", [_app_location(ctx, "no readiness")])
        route, path = (found or near)[0]
        if not touches_database(ctx, route):
            message = f"GET {path} does not visibly check the database"
            return self.warned(message, [Evidence(route.path_rel, route.line, message)])
        if not found:
            message = f"readiness at {path}, not /health/ready"
            return self.warned(message, [Evidence(route.path_rel, route.line, message)])
        return self.passed(f"GET {path} checks the database")


@register
class PrometheusMetrics(Rule):
    """Prometheus metrics are served at `/metrics` (prometheus_client or an instrumentator)."""

    id = "MON-003"
    heuristic = (
        "In a module importing prometheus_client, prometheus_fastapi_instrumentator, "
        "starlette_exporter or starlette_prometheus: mount('/metrics', ...), "
        "add_route('/metrics', ...), Instrumentator().expose(app) or a GET /metrics route. "
        "The package must be a runtime dependency (else warn)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail without a metrics endpoint; warn when its package is not declared."""
        sites = metrics_endpoints(ctx)
        declared = runtime(ctx, *METRICS_PACKAGES)
        if not sites:
            evidence = [_app_location(ctx, "no /metrics endpoint")]
            if declared:
                evidence.append(requirement_evidence(ctx, declared[0], "declared but unused"))
            return self.failed("no Prometheus /metrics endpoint", evidence)
        if not declared:
            missing = missing_evidence(ctx, "not declared")
            return self.warned("metrics library is not a runtime dependency", [missing])
        return self.passed(f"metrics: {sites[0].what} in {sites[0].path}")


@register
class CorrelationIds(Rule):
    """Middleware reads or generates `X-Request-ID`/`X-Correlation-ID` (or asgi-correlation-id)."""

    id = "MON-004"
    heuristic = (
        "asgi-correlation-id's middleware passed to add_middleware()/Middleware(), "
        "starlette-context's RequestId/CorrelationId plugins, or a module defining a "
        "middleware (dispatch, ASGI __call__ or @app.middleware) that names the X-Request-ID "
        "or X-Correlation-ID header. A header or library that is not wired warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Pass on wired middleware; warn on unwired hints; fail otherwise."""
        wired, hints = correlation_middleware(ctx)
        if wired:
            return self.passed(f"{wired[0].what} ({wired[0].path}:{wired[0].line})")
        if hints:
            return self.warned("request ids are not set by a middleware", _evidence(hints))
        return self.failed("no correlation-id middleware", [_app_location(ctx, "no request ids")])


@register
class OpenTelemetry(Rule):
    """OpenTelemetry is a runtime dependency and the app is instrumented."""

    id = "MON-005"
    heuristic = (
        "Declared: a runtime dependency named opentelemetry-*. Instrumented: an "
        "opentelemetry call to instrument_app/instrument/set_tracer_provider or "
        "OpenTelemetryMiddleware in app code, or `opentelemetry-instrument` in the Dockerfile, "
        "compose file or Procfile. One of the two warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Pass when declared and instrumented; warn on one; fail on neither."""
        declared = [r for r in ctx.runtime_requirements if r.name.startswith("opentelemetry")]
        sites = tracing_sites(ctx)
        if declared and sites:
            return self.passed(f"OpenTelemetry: {sites[0].what} ({sites[0].path})")
        pyproject = missing_evidence(ctx, "")
        if declared:
            message = "OpenTelemetry is declared but nothing instruments the app"
            return self.warned(message, [_app_location(ctx, message)])
        if sites:
            message = "OpenTelemetry is used but not a runtime dependency"
            return self.warned(message, [Evidence(pyproject.path, pyproject.line, message)])
        message = "no OpenTelemetry dependency or instrumentation"
        return self.failed(message, [Evidence(pyproject.path, pyproject.line, message)])
