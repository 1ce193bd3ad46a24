"""The audit log: services call `record` inside the transaction of the action they audit.

An event names who acted (a user, an API token by its public prefix, or a command), what
they did, to which object and team, when, from which address and in which request. Its
details are plain facts (ids, rule ids, dates, field names and their non-secret values):
`record` refuses a detail whose name says it might hold a secret, and no caller passes a
webhook secret, a token or a Slack URL, which the tests check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import models, transaction

from dashboard.models import ApiToken, AuditAction, AuditEvent, Team
from dashboard.observability.context import get_client_address, get_request_id

Actor = User | AnonymousUser | ApiToken | str | None

SYSTEM = "system"
MAX_TEXT = 500
# A detail named like this might carry a secret: refused outright (a programming error).
SECRET_NAME = re.compile(r"secret|password|passwd|token|plaintext|authorization|credential|key$")


class AuditError(RuntimeError):
    """An audit event that must not be written as asked (outside a transaction, a secret)."""


def actor_of(actor: Actor) -> tuple[User | None, str]:
    """The user (if any) and the label that says who acted."""
    if isinstance(actor, ApiToken):
        # A personal token acts for its owner: the event is theirs too.
        return actor.owner, f"API token {actor.prefix}… “{actor.name}”"[:200]
    if isinstance(actor, str):
        return None, actor[:200] or SYSTEM
    if actor is None:
        return None, SYSTEM
    if not actor.is_authenticated:
        return None, "anonymous"
    return actor, actor.get_username()[:200]


def plain(value: object) -> object:
    """A JSON-safe, bounded form of a detail value."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in list(value)[:50]]
    if isinstance(value, Mapping):
        return _details(value)
    return str(value)[:MAX_TEXT]


def _details(details: Mapping[str, object]) -> dict[str, object]:
    clean: dict[str, object] = {}
    for name, value in details.items():
        if SECRET_NAME.search(str(name).lower()):
            raise AuditError(f"audit detail {name!r} may hold a secret: not recorded")
        clean[str(name)[:100]] = plain(value)
    return clean


def record(
    action: AuditAction,
    *,
    actor: Actor,
    target: models.Model | None = None,
    target_label: str = "",
    team: Team | None = None,
    details: Mapping[str, object] | None = None,
) -> AuditEvent:
    """Write one event in the caller's transaction (so it commits or rolls back with it)."""
    if not transaction.get_connection().in_atomic_block:
        raise AuditError("audit events are written inside the transaction of their action")
    user, label = actor_of(actor)
    request_id = get_request_id()
    return AuditEvent.objects.create(
        actor=user,
        actor_label=label,
        action=action,
        target_type=(target._meta.model_name or "") if target is not None else "",
        target_id=target.pk if target is not None else None,
        target_label=(target_label or (str(target) if target is not None else ""))[:300],
        team=team,
        details=_details(details or {}),
        source_ip=get_client_address(),
        request_id="" if request_id == "-" else request_id[:128],
    )


def changes(before: Mapping[str, Any], after: models.Model, fields: list[str]) -> dict[str, Any]:
    """`{field: [old, new]}` for the fields an edit changed (never secret fields: callers pick)."""
    return {name: [plain(before.get(name)), plain(getattr(after, name))] for name in fields}
