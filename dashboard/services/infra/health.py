"""Readiness checks of the components Yardstick needs."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from kombu import Connection

from dashboard.services.infra.heartbeat import latest_heartbeat

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_S = 2


@dataclass(frozen=True, slots=True)
class Check:
    """One component's state; `critical` components make readiness fail."""

    name: str
    ok: bool
    critical: bool
    detail: str


def check_database() -> Check:
    """Run `SELECT 1` on the default database."""
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("readiness: database unreachable: %s", exc)
        return Check("database", False, True, "unreachable")
    return Check("database", True, True, "ok")


def check_broker() -> Check:
    """Open (and close) a connection to the Celery broker."""
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=BROKER_TIMEOUT_S,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - kombu raises many transport-specific errors
        logger.warning("readiness: broker unreachable: %s", type(exc).__name__)
        return Check("broker", False, True, "unreachable")
    return Check("broker", True, True, "ok")


CACHE_PROBE_PREFIX = "health:probe:"


def check_cache() -> Check:
    """Write, read back and delete a probe key: the cache holds page panels and rate limits.

    Each probe has its own key, so probes of several processes at once never see each other's.
    """
    token = uuid.uuid4().hex
    key = CACHE_PROBE_PREFIX + token
    try:
        cache.set(key, token, timeout=30)
        ok = cache.get(key) == token
        cache.delete(key)
    except Exception as exc:  # noqa: BLE001 - each cache backend raises its own errors
        logger.warning("readiness: cache unreachable: %s", type(exc).__name__)
        return Check("cache", False, True, "unreachable")
    if not ok:
        return Check("cache", False, True, "does not keep values")
    return Check("cache", True, True, "ok")


def check_worker() -> Check:
    """Report the latest worker heartbeat (informative: workers may be scaled to zero)."""
    try:
        beat = latest_heartbeat()
    except DatabaseError:
        return Check("worker", False, False, "unknown")
    if beat is None:
        return Check("worker", False, False, "no heartbeat yet")
    return Check("worker", True, False, f"last seen {beat.seen_at.isoformat()} on {beat.worker}")


def readiness() -> list[Check]:
    """Every check, in a fixed order."""
    return [check_database(), check_broker(), check_cache(), check_worker()]
