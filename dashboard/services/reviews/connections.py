"""Saving and deleting code-host connections, audited; the token is never in the audit log."""

from __future__ import annotations

from django.db import transaction

from dashboard.models import AuditAction, CodeHostConnection
from dashboard.services.access import audit, secrets

FIELDS = ("name", "provider", "api_base_url")


def save_connection(
    actor: audit.Actor, connection: CodeHostConnection, token: str | None
) -> dict[str, object]:
    """Save `connection` (its fields already set), with a new `token` unless it is empty;
    audit what changed: the fields' old and new values, and only *that* the token changed
    (`api_access`: the audit refuses detail names that look like secrets)."""
    with transaction.atomic():
        stored = (
            CodeHostConnection.objects.select_for_update().filter(pk=connection.pk).first()
            if connection.pk
            else None
        )
        changes: dict[str, object] = {
            field: [getattr(stored, field) if stored else None, getattr(connection, field)]
            for field in FIELDS
            if stored is None or getattr(stored, field) != getattr(connection, field)
        }
        if token:
            connection.token_encrypted = secrets.encrypt(token)
            changes["api_access"] = "replaced" if stored is not None else "set"
        connection.save()
        if changes:
            audit.record(
                AuditAction.CODE_HOST_CHANGED,
                actor=actor,
                target=connection,
                details={"created": stored is None, **changes},
            )
    return changes


def delete_connection(actor: audit.Actor, connection: CodeHostConnection) -> None:
    """Delete a connection (its repositories then post nothing), audited."""
    with transaction.atomic():
        audit.record(
            AuditAction.CODE_HOST_CHANGED,
            actor=actor,
            target=connection,
            details={"deleted": True, "name": connection.name},
        )
        connection.delete()
