"""The Redis cache with signed values: no process unpickles a value it did not write itself.

Django's Redis cache pickles values, and unpickling runs code: anyone who can write to Redis
(a deep scan's install step once could) could run a command in the web server with a
pickled value under a page-cache key. Here every pickled value carries an HMAC-SHA256 keyed
from SECRET_KEY, checked in constant time before anything is unpickled; a value without a
valid one reads as a cache miss (logged at warning) and is never unpickled.

Integers stay raw, as in Django's `RedisSerializer`, so `incr`/`decr` and the Lua `INCR` of
the rate limiter and the page-cache versions keep working (an integer carries no code).
"""

from __future__ import annotations

import hmac
import logging
import pickle  # values are HMAC-checked before loads  # nosec B403
from collections.abc import Iterable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

MAGIC = b"ys:hmac1:"
SALT = "yardstick.cache.signedvalue"
MAC_BYTES = 32  # SHA-256


class UnsignedValue(ValueError):
    """A cached value without a valid signature (forged, or signed with another key)."""


def _mac(payload: bytes) -> bytes:
    return salted_hmac(SALT, payload, algorithm="sha256").digest()


class SignedPickleSerializer:
    """Django's Redis serializer, with every pickle signed (ints stay raw for `incr`)."""

    def __init__(self, protocol: int | None = None) -> None:
        self.protocol = pickle.HIGHEST_PROTOCOL if protocol is None else protocol

    def dumps(self, obj: Any) -> Any:  # int | bytes (the stubs say bytes)
        """An int as it is (`type() is int`: not bool); anything else signed and pickled."""
        if type(obj) is int:
            return obj
        payload = pickle.dumps(obj, self.protocol)
        return MAGIC + _mac(payload) + payload

    def loads(self, data: Any) -> Any:
        """The value; `UnsignedValue` (never unpickled) when its signature does not verify."""
        try:
            return int(data)
        except ValueError:
            pass
        data = data.encode() if isinstance(data, str) else bytes(data)
        head = len(MAGIC)
        mac, payload = data[head : head + MAC_BYTES], data[head + MAC_BYTES :]
        if not data.startswith(MAGIC) or not hmac.compare_digest(mac, _mac(payload)):
            raise UnsignedValue("cached value without a valid signature")
        # Signed by this deployment's SECRET_KEY (checked above in constant time).
        return pickle.loads(payload)  # noqa: S301  # nosec B301


Key = str | bytes | memoryview


class SignedRedisCacheClient(RedisCacheClient):
    """Django's Redis client, reading a value that does not verify as a miss.

    It always signs: a `serializer` option other than `SignedPickleSerializer` is refused.
    """

    def __init__(self, servers: list[str], serializer: object = None, **options: Any) -> None:
        if isinstance(serializer, str):
            serializer = import_string(serializer)
        if serializer not in (None, SignedPickleSerializer):
            raise ImproperlyConfigured("the signed Redis cache takes no other serializer")
        self.values = SignedPickleSerializer()
        super().__init__(servers, serializer=self.values, **options)

    def get(self, key: Key, default: Any) -> Any:
        """The value, or `default` when missing or not signed by us."""
        value = self.get_client(key).get(key)
        if value is None:
            return default
        try:
            return self.values.loads(value)
        except UnsignedValue:
            _forged([key])
            return default

    def get_many(self, keys: Iterable[Key]) -> dict[Key, Any]:
        """The values found and signed by us (others are left out: misses)."""
        keys = list(keys)
        found: dict[Key, Any] = {}
        forged = []
        for key, value in zip(keys, self.get_client(None).mget(keys), strict=True):
            if value is None:
                continue
            try:
                found[key] = self.values.loads(value)
            except UnsignedValue:
                forged.append(key)
        if forged:
            _forged(forged)
        return found


def _forged(keys: list[Key]) -> None:
    logger.warning(
        "cache value(s) %s ignored: not signed with this deployment's key (forged, or written "
        "by another deployment)",
        keys[:5],
    )


class SignedRedisCache(RedisCache):
    """`RedisCache` whose values are signed (`SignedPickleSerializer`) and verified."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SignedRedisCacheClient
