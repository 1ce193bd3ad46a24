"""Webhook endpoints: rate limit, bounded read, then the webhooks service decides."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dashboard.http.bodies import read_limited
from dashboard.http.clientip import client_ip
from dashboard.services.infra import ratelimit
from dashboard.services.webhooks import receive as webhooks


def _deliver(request: HttpRequest, provider: str, repository_id: int | None = None) -> JsonResponse:
    address = client_ip(request)
    limit, window = settings.WEBHOOK_RATE_LIMIT
    decision = ratelimit.hit("webhook", address or "unknown", limit, window)
    if not decision.allowed:
        response = JsonResponse(
            {"outcome": "rejected", "detail": "too many deliveries from this address"}, status=429
        )
        response["Retry-After"] = str(decision.retry_after)
        return response
    incoming = webhooks.Incoming(
        provider=provider,
        headers=request.headers,
        body=read_limited(request, webhooks.MAX_BODY_BYTES),
        content_type=request.content_type or "",
        remote_addr=address,
        repository_id=repository_id,
    )
    answer = webhooks.receive(incoming)
    return JsonResponse(answer.as_json(), status=answer.status)


@csrf_exempt
@require_POST
def github(request: HttpRequest) -> JsonResponse:
    """GitHub push and ping deliveries (X-Hub-Signature-256)."""
    return _deliver(request, "github")


@csrf_exempt
@require_POST
def gitlab(request: HttpRequest) -> JsonResponse:
    """GitLab push deliveries (X-Gitlab-Token)."""
    return _deliver(request, "gitlab")


@csrf_exempt
@require_POST
def gitea(request: HttpRequest) -> JsonResponse:
    """Gitea and Forgejo push deliveries (X-Gitea-Signature)."""
    return _deliver(request, "gitea")


@csrf_exempt
@require_POST
def generic(request: HttpRequest, repository_id: int) -> JsonResponse:
    """Any sender that knows the repository's secret (X-Yardstick-Token)."""
    return _deliver(request, "generic", repository_id)
