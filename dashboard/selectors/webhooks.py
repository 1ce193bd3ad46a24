"""Webhook deliveries as the repository page lists them."""

from __future__ import annotations

from dashboard.models import Repository, WebhookDelivery


def recent_deliveries(repository: Repository, limit: int = 20) -> list[WebhookDelivery]:
    """The repository's latest deliveries, newest first (for its page, which links the scan
    by id)."""
    recent = WebhookDelivery.objects.filter(repository=repository).order_by("-received_at", "-id")
    return list(recent[:limit])
