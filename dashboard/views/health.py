"""Health, readiness and metrics endpoints (no authentication, no session)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from dashboard.observability.metrics import exposition
from dashboard.services.infra.health import readiness
from scanners import ENGINE_VERSION


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: always 200 while the process answers, with version information."""
    return JsonResponse(
        {
            "status": "ok",
            "version": ENGINE_VERSION,
            "commit": settings.BUILD_COMMIT,
            "build_time": settings.BUILD_TIME,
        }
    )


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: 503 naming the failing component when a critical one is down."""
    checks = readiness()
    failing = [c.name for c in checks if c.critical and not c.ok]
    degraded = [c.name for c in checks if not c.critical and not c.ok]
    status = "unavailable" if failing else ("degraded" if degraded else "ok")
    body = {
        "status": status,
        "failing": failing,
        "checks": {
            c.name: {"ok": c.ok, "critical": c.critical, "detail": c.detail} for c in checks
        },
    }
    return JsonResponse(body, status=503 if failing else 200)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text exposition: the totals of every web process (see observability.metrics)."""
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
