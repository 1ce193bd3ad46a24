"""Rendered page panels kept in Django's cache (Redis in production), never visibly stale.

Every key carries version counters of the data it was rendered from, and every writer bumps
the counters its change touches, so the next request after a change renders afresh:

- `all`: anything every page may show (roll-ups closed or rebuilt, teams, rules, the standard);
- `org`: organisation-wide figures (any scan stored, score, governance or repository change);
- `team:<id>`: one team's repositories; `repository:<id>`: one repository.

A change inside a transaction bumps at once *and* again after the commit: a request that
reads the new counter before the commit renders the old rows, and the second bump retires
what it stored. Keys also carry what else the panel depends on (the day, for day windows;
the query string; the viewer's permissions where the panel shows them), so one user's panel
never reaches another who may see or do something else. Counters start at the clock in
nanoseconds, so one evicted and recreated can never match an old key.

With the cache unreachable, panels are rendered for each request (logged, counted): the
pages work, only slower. Panels live `ttl` seconds at most, less when their value says when
it stops being true without any write (`valid_until`: a waiver expiring, a rule taking effect).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from dashboard.observability.metrics import PAGE_CACHE
from dashboard.services.cacheclient import redis_client

logger = logging.getLogger(__name__)

ALL = "all"
ORG = "org"
PREFIX = "pages"
TTL_S = 600
CACHE_ERRORS = (RedisError, OSError)


def team(team_id: int) -> str:
    """The version scope of one team's repositories."""
    return f"team:{team_id}"


def repository(repository_id: int) -> str:
    """The version scope of one repository."""
    return f"repository:{repository_id}"


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
            versions = _versions({scope for spec in cached.values() for scope in spec.scopes})
            keys = {name: _key(spec, versions) for name, spec in cached.items()}
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


def _version_key(scope: str) -> str:
    return f"{PREFIX}:version:{scope}"


def _versions(scopes: set[str]) -> dict[str, int]:
    keys = {scope: _version_key(scope) for scope in scopes}
    found = cache.get_many(list(keys.values()))
    versions = {}
    for scope, key in keys.items():
        if key not in found:
            # First use, or evicted: a value no earlier counter can have held.
            cache.add(key, time.time_ns(), timeout=None)
            found[key] = cache.get(key)
        versions[scope] = int(found[key])
    return versions


def _key(spec: Panel, versions: Mapping[str, int]) -> str:
    material = "|".join(
        [*(f"{scope}={versions[scope]}" for scope in spec.scopes), *map(str, spec.parts)]
    )
    digest = hashlib.blake2b(material.encode(), digest_size=16).hexdigest()
    return f"{PREFIX}:{spec.name}:{digest}"


def changed(
    *, team_id: int | None = None, repository_id: int | None = None, everything: bool = False
) -> None:
    """Retire the panels a change touches: the organisation's, plus the team's and the
    repository's when given, or every panel (`everything`). Call it where the change is made."""
    scopes = [ALL] if everything else [ORG]
    if not everything and team_id is not None:
        scopes.append(team(team_id))
    if not everything and repository_id is not None:
        scopes.append(repository(repository_id))
    _retire(scopes)


def scans_changed(repository_id: int) -> None:
    """Retire the repository's panels that list its scans: one was queued, started or ended
    (its results, when stored, change more: `changed`)."""
    _retire([repository(repository_id)])


def _retire(scopes: list[str]) -> None:
    _bump(scopes)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(AfterCommit(tuple(scopes)))


@dataclass(frozen=True, slots=True)
class AfterCommit:
    """The second bump of `changed`, once the writer's transaction has committed."""

    scopes: tuple[str, ...]

    def __call__(self) -> None:
        """Bump the scopes' versions."""
        _bump(list(self.scopes))


# INCR an existing counter, or start a missing one at the clock: atomic, one round trip.
_BUMP = """
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('INCR', key)
  else redis.call('SET', key, ARGV[1]) end
end
"""


def _bump(scopes: list[str]) -> None:
    keys = [_version_key(scope) for scope in scopes]
    try:
        redis = redis_client()
        if redis is not None:
            backend, client = redis
            names = [backend.make_and_validate_key(key) for key in keys]
            client.eval(_BUMP, len(names), *names, time.time_ns())
            return
        for key in keys:
            try:
                cache.incr(key)
            except ValueError:
                cache.add(key, time.time_ns(), timeout=None)
    except CACHE_ERRORS as exc:
        # The panels cached before the change may be served until they expire (ttl).
        logger.error("page cache versions %s not bumped: the cache is unreachable (%s)", keys, exc)


def watch_models() -> None:
    """Retire panels when rows they show are saved or deleted one by one (forms, admin).

    Bulk writes send no signals: the services that make them call `changed` or
    `scans_changed` themselves (roll-ups, the standard's sync, the scan pipeline's updates).
    """
    from django.db.models.signals import post_delete, post_save

    from dashboard.models import (
        Attestation,
        Ratchet,
        Repository,
        Rule,
        Scan,
        Standard,
        StandardRelease,
        Team,
        Waiver,
    )

    for model in (Team, Rule, Standard, StandardRelease):
        post_save.connect(_everything_changed, sender=model, dispatch_uid=f"pages-{model.__name__}")
        post_delete.connect(
            _everything_changed, sender=model, dispatch_uid=f"pages-del-{model.__name__}"
        )
    post_save.connect(_repository_saved, sender=Repository, dispatch_uid="pages-Repository")
    post_save.connect(_scan_saved, sender=Scan, dispatch_uid="pages-Scan")
    post_delete.connect(_scan_saved, sender=Scan, dispatch_uid="pages-del-Scan")
    post_delete.connect(_everything_changed, sender=Repository, dispatch_uid="pages-del-Repository")
    for governed in (Waiver, Attestation, Ratchet):
        name = governed.__name__
        post_save.connect(_governance_changed, sender=governed, dispatch_uid=f"pages-{name}")
        post_delete.connect(_governance_changed, sender=governed, dispatch_uid=f"pages-del-{name}")


def _everything_changed(**kwargs: Any) -> None:
    changed(everything=True)


def _repository_saved(
    instance: Any, update_fields: Iterable[str] | None = None, **kwargs: Any
) -> None:
    if update_fields is not None and "team" not in update_fields:
        changed(team_id=instance.team_id, repository_id=instance.pk)
    else:
        # Created, or maybe moved between teams (the old team is unknown here).
        changed(everything=True)


def _scan_saved(instance: Any, **kwargs: Any) -> None:
    scans_changed(instance.repository_id)


def _governance_changed(instance: Any, **kwargs: Any) -> None:
    from dashboard.models import Repository

    team_id = (
        Repository.objects.filter(pk=instance.repository_id)
        .values_list("team_id", flat=True)
        .first()
    )
    changed(team_id=team_id, repository_id=instance.repository_id)
