"""Reading request bodies with a hard size limit (webhooks, CI uploads)."""

from __future__ import annotations

from django.http import HttpRequest


def read_limited(request: HttpRequest, limit: int) -> bytes | None:
    """The raw body, or None when it is over `limit` (refused unread when declared so)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body
