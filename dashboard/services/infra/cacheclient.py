"""Direct access to the cache's Redis, for the few operations that need one round trip."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from redis import Redis

_CLIENTS: dict[str, Redis] = {}


def redis_client() -> tuple[RedisCache, Redis] | None:
    """The default cache and a Redis client on its server, or None when it is not Redis.

    One client per location and process (thread-safe, pooled): Django's cache makes a new
    client object for every call, which costs more than the calls made here. Keys go through
    the cache's `make_and_validate_key`, so they are the cache's own.
    """
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        return None
    location = str(settings.CACHES[DEFAULT_CACHE_ALIAS]["LOCATION"])
    client = _CLIENTS.get(location)
    if client is None:
        client = _CLIENTS[location] = Redis.from_url(location)
    return backend, client
