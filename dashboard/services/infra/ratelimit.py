"""A fixed-window request counter per client in Django's cache (Redis in production).

Small on purpose: with Redis, one round trip per request (a script that counts and, for a
new window, sets its expiry); with the local-memory cache (embedded mode) an `add` and at
most one `incr`, each process counting on its own.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.core.cache import cache
from redis.exceptions import RedisError

from dashboard.services.infra.cacheclient import redis_client

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether the request may go on; when not, how long until the window resets."""

    allowed: bool
    count: int
    retry_after: int


def hit(scope: str, client: str, limit: int, window_s: int, now: float | None = None) -> Decision:
    """Count one request of `client` in `scope`; refuse past `limit` per `window_s` seconds.

    Allows (and logs) when the cache cannot be reached.
    """
    moment = time.time() if now is None else now
    window = int(moment // window_s)
    key = f"ratelimit:{scope}:{client}:{window}"
    retry_after = max(1, int((window + 1) * window_s - moment))
    try:
        count = _count(key, window_s)
    except (RedisError, OSError) as exc:
        # The cache (Redis) is down. Fail open: refusing would lose signed pushes (senders do
        # not retry), and letting a flood through costs one recorded delivery each.
        logger.warning("rate limit %s not applied: the cache is unreachable (%s)", scope, exc)
        return Decision(True, 0, retry_after)
    return Decision(count <= limit, count, retry_after)


# INCR, then EXPIRE when the window's key was just created: atomic, one round trip.
_COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def _count(key: str, window_s: int) -> int:
    redis = redis_client()
    if redis is not None:
        backend, client = redis
        return int(client.eval(_COUNT, 1, backend.make_and_validate_key(key), window_s + 1))
    if cache.add(key, 1, timeout=window_s + 1):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:
        # The window's key expired between our add and incr: we open the next one.
        cache.add(key, 1, timeout=window_s + 1)
        return 1
