"""Rendered page panels kept in Django's cache (Redis in production), never visibly stale.

Every key carries version counters of the data it was rendered from
(`dashboard/services/infra/page_versions.py`: every writer bumps the counters its change
touches), so the next request after a change renders afresh. Keys also carry what else the
panel depends on (the day, for day windows; the query string; the viewer's permissions
where the panel shows them), so one user's panel never reaches another who may see or do
something else.

With the cache unreachable, panels are rendered for each request (logged, counted): the
pages work, only slower. Panels live `ttl` seconds at most, less when their value says when
it stops being true without any write (`valid_until`: a waiver expiring, a rule taking effect).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from dashboard.observability.metrics import PAGE_CACHE
from dashboard.services.infra.page_versions import (
    ALL,
    CACHE_ERRORS,
    ORG,
    PREFIX,
    repository,
    team,
    versions,
)

__all__ = [
    "ALL",
    "ORG",
    "Panel",
    "one",
    "panel",
    "panels",
    "query_part",
    "repository",
    "team",
    "today_part",
]

logger = logging.getLogger(__name__)

logger = logging.getLogger(__name__)

TTL_S = 600


@dataclass(frozen=True, slots=True)
class Panel:
    """A cacheable piece of a page: what it depends on, and how to build it on a miss.

    A rendered value with a `valid_until` attribute (an aware datetime, or None) is kept no
    longer than that instant.
    """

    name: str
    scopes: tuple[str, ...]
    parts: tuple[object, ...]
    render: Callable[[], Any]
    ttl: int = TTL_S


def today_part() -> str:
    """A key part for panels with day windows (trends end today, UTC)."""
    return timezone.now().date().isoformat()


def query_part(params: Mapping[str, str], allowed: Iterable[str]) -> str | None:
    """The query string as a key part; None when it holds parameters the panel does not read.

    Links in tables repeat the current query string, so the key holds it whole. Unknown
    parameters make the request uncached rather than filling the cache with variants.
    """
    known = set(allowed)
    items = sorted((k, v) for k in params for v in _values(params, k))
    if any(k not in known for k, _ in items):
        return None
    return "&".join(f"{k}={v}" for k, v in items)


def _values(params: Mapping[str, str], key: str) -> list[str]:
    getlist = getattr(params, "getlist", None)
    return list(getlist(key)) if getlist else [params[key]]


def panels(wanted: Mapping[str, Panel]) -> dict[str, Any]:
    """Each panel's value, from the cache or rendered (and stored when its ttl is positive).

    Two cache round trips when everything hits (versions, then panels), one more per miss.
    """
    cached = {name: spec for name, spec in wanted.items() if spec.ttl > 0}
    keys: dict[str, str] = {}
    hits: dict[str, Any] = {}
    if cached:
        try:
            counters = versions({scope for spec in cached.values() for scope in spec.scopes})
            keys = {name: _key(spec, counters) for name, spec in cached.items()}
            hits = cache.get_many(list(keys.values()))
        except CACHE_ERRORS as exc:
            logger.warning("page cache unreachable, rendering uncached (%s)", exc)
            for spec in cached.values():
                PAGE_CACHE.labels(spec.name, "error").inc()
            keys, hits = {}, {}
    found: dict[str, Any] = {}
    for name, spec in wanted.items():
        key = keys.get(name)
        if key is not None and key in hits:
            found[name] = hits[key]
            PAGE_CACHE.labels(spec.name, "hit").inc()
            continue
        found[name] = spec.render()
        if key is not None:
            PAGE_CACHE.labels(spec.name, "miss").inc()
            # At once: a later panel's rendering may look this one up.
            _store([(key, found[name], spec.ttl)])
    return found


def panel(
    name: str,
    scopes: tuple[str, ...],
    render: Callable[[], Any],
    *,
    query: str | None,
    parts: tuple[object, ...] = (),
    ttl: int = TTL_S,
) -> Panel:
    """A panel spec keyed on `scopes`, the query string and `parts`; rendered for every
    request (never stored) when `query` is None (see `query_part`)."""
    if query is None:
        return Panel(name, (), (), render, ttl=0)
    return Panel(name, scopes, (query, *parts), render, ttl)


def one(spec: Panel) -> Any:
    """The value of a single panel (see `panels`)."""
    return panels({spec.name: spec})[spec.name]


def _store(entries: Iterable[tuple[str, Any, int]]) -> None:
    now = timezone.now()
    by_ttl: dict[int, dict[str, Any]] = {}
    for key, value, ttl in entries:
        until = getattr(value, "valid_until", None)
        if until is not None:
            ttl = min(ttl, int((until - now).total_seconds()))
        if ttl > 0:
            by_ttl.setdefault(ttl, {})[key] = value
    try:
        for ttl, values in by_ttl.items():
            cache.set_many(values, timeout=ttl)
    except CACHE_ERRORS as exc:
        logger.warning("page cache unreachable, panels not stored (%s)", exc)


def _key(spec: Panel, versions: Mapping[str, int]) -> str:
    material = "|".join(
        [*(f"{scope}={versions[scope]}" for scope in spec.scopes), *map(str, spec.parts)]
    )
    digest = hashlib.blake2b(material.encode(), digest_size=16).hexdigest()
    return f"{PREFIX}:{spec.name}:{digest}"
