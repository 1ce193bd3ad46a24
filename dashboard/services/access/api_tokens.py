"""API tokens: issued once in plain text, stored as SHA-256, checked by hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dashboard.models import ApiToken, AuditAction, Team
from dashboard.services.access import audit

TOKEN_PREFIX = "ys_"  # noqa: S105 - a public marker that makes leaked tokens greppable  # nosec B105
# last_used_at is informative: one write a minute per token is plenty.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Issued:
    """A new token and its plain text (shown once, never stored)."""

    token: ApiToken
    plaintext: str


def hash_token(plaintext: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


@transaction.atomic
def issue(
    team: Team,
    name: str,
    *,
    write: bool = False,
    created_by: User | None = None,
    actor: audit.Actor = None,
) -> Issued:
    """Create a token for `team`; `write` lets it register, scan and upload for the team.

    The audit log names `actor` (by default `created_by`, else "system"): never the token.
    """
    name = name.strip()
    if not name:
        raise ValueError("a token needs a name")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        team=team,
        name=name[:100],
        token_hash=hash_token(plaintext),
        prefix=plaintext[:10],
        scope=ApiToken.Scope.WRITE if write else ApiToken.Scope.READ,
        created_by=created_by,
    )
    audit.record(
        AuditAction.TOKEN_CREATED,
        actor=actor if actor is not None else created_by,
        target=token,
        target_label=f"{token.prefix}… {token.name}",
        team=team,
        details={"name": token.name, "scope": token.scope, "prefix": token.prefix},
    )
    return Issued(token, plaintext)


def authenticate(plaintext: str) -> ApiToken | None:
    """The live token with this plain text, or None; records when it was last used."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("team")
        .filter(token_hash=hash_token(plaintext), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_INTERVAL)
        ).update(last_used_at=now)
    return token


@transaction.atomic
def revoke(token: ApiToken, actor: audit.Actor = None) -> None:
    """Stop accepting the token from now on; the audit log names `actor`."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            AuditAction.TOKEN_REVOKED,
            actor=actor,
            target=token,
            target_label=f"{token.prefix}… {token.name}",
            team=token.team,
            details={"name": token.name, "scope": token.scope, "prefix": token.prefix},
        )
