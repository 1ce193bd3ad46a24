"""A fixed-window request counter per client in Django's cache (Redis in production).

Small on purpose: one `add` and at most one `incr` per request. With the local-memory cache
(embedded mode) each process counts on its own.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether the request may go on; when not, how long until the window resets."""

    allowed: bool
    count: int
    retry_after: int


def hit(scope: str, client: str, limit: int, window_s: int, now: float | None = None) -> Decision:
    """Count one request of `client` in `scope`; refuse past `limit` per `window_s` seconds."""
    moment = time.time() if now is None else now
    window = int(moment // window_s)
    key = f"ratelimit:{scope}:{client}:{window}"
    retry_after = max(1, int((window + 1) * window_s - moment))
    if cache.add(key, 1, timeout=window_s + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:
            # The window's key expired between our add and incr: we open the next one.
            cache.add(key, 1, timeout=window_s + 1)
            count = 1
    return Decision(count <= limit, count, retry_after)


def client_address(remote_addr: str | None) -> str | None:
    """The request's source IP, or None when the server gave something else."""
    try:
        return str(ipaddress.ip_address((remote_addr or "").strip()))
    except ValueError:
        return None
