"""Version counters of rendered page panels: every writer bumps the ones its change touches.

The views cache panels keyed on these counters (`dashboard/views/pagecache.py`):

- `all`: anything every page may show (roll-ups closed or rebuilt, teams, rules, the standard);
- `org`: organisation-wide figures (any scan stored, score, governance or repository change);
- `team:<id>`: one team's repositories; `repository:<id>`: one repository.

A change inside a transaction bumps at once *and* again after the commit: a request that
reads the new counter before the commit renders the old rows, and the second bump retires
what it stored. Counters start at the clock in nanoseconds, so one evicted and recreated can
never match an old key. Services call `changed`/`scans_changed` where they write in bulk;
`watch_models` (connected when the app is ready) covers rows saved one by one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

from dashboard.services.infra.cacheclient import redis_client

logger = logging.getLogger(__name__)

PREFIX = "pages"

ALL = "all"

ORG = "org"

CACHE_ERRORS = (RedisError, OSError)


def team(team_id: int) -> str:
    """The version scope of one team's repositories."""
    return f"team:{team_id}"


def repository(repository_id: int) -> str:
    """The version scope of one repository."""
    return f"repository:{repository_id}"


def _version_key(scope: str) -> str:
    return f"{PREFIX}:version:{scope}"


def versions(scopes: set[str]) -> dict[str, int]:
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
