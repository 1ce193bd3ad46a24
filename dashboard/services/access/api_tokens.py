"""API tokens: issued once in plain text, stored as SHA-256, checked by hash, expiring, revocable.

Personal tokens (`owner` set) are issued by their owner on the tokens page; legacy team
tokens by `manage.py create_api_token`. Every token issued here expires: `DEFAULT_DAYS`
unless asked otherwise, never more than `MAX_DAYS`. Creation and revocation are audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dashboard.models import ApiToken, AuditAction, Team
from dashboard.observability.context import get_client_address
from dashboard.services.access import audit
from dashboard.services.access.permissions import token_teams

TOKEN_PREFIX = "ys_"  # noqa: S105 - a public marker that makes leaked tokens greppable  # nosec B105
# last_used_at is informative: one write a minute per token is plenty.
TOUCH_INTERVAL = timedelta(minutes=1)
DEFAULT_DAYS = 90
MAX_DAYS = 365


@dataclass(frozen=True, slots=True)
class Issued:
    """A new token and its plain text (shown once, never stored)."""

    token: ApiToken
    plaintext: str


class TokenError(ValueError):
    """A token that cannot be issued as asked; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class TokenRefused(Exception):
    """A known token that no longer works (revoked, expired, its owner deactivated).

    Its message tells the caller what happened and where to get a new token.
    """

    def __init__(self, reason: str, message: str, on: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.on = on


def hash_token(plaintext: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def tokens_page_url() -> str:
    """Where a person creates a new token (absolute when SITE_URL is configured)."""
    return f"{settings.SITE_URL}{reverse('tokens')}"


def _check_scope(owner: User | None, team: Team | None, write: bool) -> None:
    """Refuse a token that would promise more than its owner may do today."""
    if owner is None:
        if team is None:
            raise TokenError("a token without an owner needs a team", "team")
        return
    allowed = token_teams(owner, write=write)
    if team is not None and not allowed.filter(pk=team.pk).exists():
        raise TokenError(f"you may not write to {team.name}: choose a team you maintain", "team")
    if team is None and write and not allowed.exists():
        raise TokenError("you maintain no team: a write token could change nothing", "scope")


@transaction.atomic
def issue(
    team: Team | None,
    name: str,
    *,
    write: bool = False,
    owner: User | None = None,
    days: int = DEFAULT_DAYS,
    created_by: User | None = None,
    actor: audit.Actor = None,
) -> Issued:
    """Create a token: `owner`'s own (team None: every team the owner may act on), or a
    legacy team token (no owner). `write` lets it register, scan and upload. It expires
    after `days` (1 to MAX_DAYS).

    The audit log names `actor` (by default `created_by`, else the owner, else "system").
    """
    name = name.strip()
    if not name:
        raise TokenError("a token needs a name", "name")
    if not 1 <= days <= MAX_DAYS:
        raise TokenError(f"a token expires after 1 to {MAX_DAYS} days", "days")
    _check_scope(owner, team, write)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        owner=owner,
        team=team,
        name=name[:100],
        token_hash=hash_token(plaintext),
        prefix=plaintext[:10],
        scope=ApiToken.Scope.WRITE if write else ApiToken.Scope.READ,
        created_by=created_by or owner,
        expires_at=timezone.now() + timedelta(days=days),
    )
    audit.record(
        AuditAction.TOKEN_CREATED,
        actor=actor if actor is not None else (created_by or owner),
        target=token,
        target_label=f"{token.prefix}… {token.name}",
        team=team,
        details={
            "name": token.name,
            "scope": token.scope,
            "prefix": token.prefix,
            "owner": owner.get_username() if owner is not None else None,
            "team": team.slug if team is not None else "all",
            "expires_at": token.expires_at,
        },
    )
    return Issued(token, plaintext)


def refusal(token: ApiToken) -> TokenRefused | None:
    """Why a stored token no longer works, or None when it does."""
    where = tokens_page_url()
    if token.revoked_at is not None:
        on = token.revoked_at.date().isoformat()
        return TokenRefused("revoked", f"token revoked on {on}; create a new one at {where}", on)
    if token.expires_at is not None and token.is_expired():
        on = token.expires_at.date().isoformat()
        return TokenRefused("expired", f"token expired on {on}; create a new one at {where}", on)
    if token.owner is not None and not token.owner.is_active:
        return TokenRefused("owner_inactive", "the token's owner is deactivated")
    return None


def authenticate(plaintext: str) -> ApiToken | None:
    """The live token with this plain text; None for an unknown one; TokenRefused for one
    revoked, expired or whose owner is deactivated. Records when and whence it was used."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("team", "owner")
        .filter(token_hash=hash_token(plaintext))
        .first()
    )
    if token is None:
        return None
    if (refused := refusal(token)) is not None:
        raise refused
    _touch(token)
    return token


def _touch(token: ApiToken) -> None:
    """Record when and from which address the token was used, at most once per TOUCH_INTERVAL
    (the conditional update keeps concurrent requests to one write)."""
    now = timezone.now()
    if token.last_used_at is not None and token.last_used_at >= now - TOUCH_INTERVAL:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_INTERVAL)
    ).update(last_used_at=now, last_used_ip=get_client_address())


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
