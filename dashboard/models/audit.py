"""The audit log: who did what to which object, when and from where. Append-only."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from dashboard.models.org import Team


class AuditAction(models.TextChoices):
    """What happened."""

    WAIVER_GRANTED = "waiver.granted", "Waiver granted"
    WAIVER_REVOKED = "waiver.revoked", "Waiver revoked"
    WAIVER_CHANGED = "waiver.changed", "Waiver changed"
    WAIVER_REQUESTED = "waiver.requested", "Waiver requested"
    WAIVER_APPROVED = "waiver.approved", "Waiver request approved"
    WAIVER_REJECTED = "waiver.rejected", "Waiver request rejected"
    WAIVER_WITHDRAWN = "waiver.withdrawn", "Waiver request withdrawn"
    ATTESTATION_RECORDED = "attestation.recorded", "Attestation recorded"
    ATTESTATION_REVOKED = "attestation.revoked", "Attestation revoked"
    ATTESTATION_CHANGED = "attestation.changed", "Attestation changed"
    RATCHET_SET = "ratchet.set", "Ratchet set"
    RATCHET_RELEASED = "ratchet.released", "Ratchet released"
    TOKEN_CREATED = "token.created", "API token created"
    TOKEN_REVOKED = "token.revoked", "API token revoked"
    REPOSITORY_REGISTERED = "repository.registered", "Repository registered"
    REPOSITORY_CHANGED = "repository.changed", "Repository changed"
    REPOSITORY_DELETED = "repository.deleted", "Repository deleted"
    DEEP_SCAN_CHANGED = "repository.deep_scan", "Deep scan switched"
    TRANSFER_PROPOSED = "transfer.proposed", "Repository transfer proposed"
    TRANSFER_ACCEPTED = "transfer.accepted", "Repository transfer accepted"
    TRANSFER_DECLINED = "transfer.declined", "Repository transfer declined"
    TRANSFER_CANCELLED = "transfer.cancelled", "Repository transfer cancelled"
    NOTIFICATIONS_CHANGED = "notifications.changed", "Notification settings changed"
    MEMBERSHIP_ADDED = "membership.added", "Member added"
    MEMBERSHIP_CHANGED = "membership.changed", "Member's role changed"
    MEMBERSHIP_REMOVED = "membership.removed", "Member removed"
    USER_ROLES_CHANGED = "user.roles", "User's privileges changed"
    SSO_USER_CREATED = "user.sso_created", "User created by single sign-on"
    SSO_REFUSED = "sso.refused", "Single sign-on refused"
    RULE_CONFIGURED = "rule.configured", "Rule configuration changed"
    REPORT_UPLOADED = "upload.report", "CI report uploaded"
    COVERAGE_UPLOADED = "upload.coverage", "CI coverage uploaded"
    SCORE_REPAIRED = "score.repaired", "Stored score repaired"
    CODE_HOST_CHANGED = "codehost.changed", "Code host connection changed"


class AuditEvent(models.Model):
    """One sensitive action, written in the transaction of the action itself.

    `actor` is the signed-in user, when there is one; `actor_label` always says who acted
    (a username, an API token's prefix and name, or a command), and survives the user's
    deletion. `details` never holds a secret (see `services.audit`).
    """

    Action = AuditAction

    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=40, choices=Action.choices)
    target_type = models.CharField(max_length=40)
    target_id = models.BigIntegerField(null=True, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    details = models.JSONField(default=dict, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (
            models.Index(fields=("-created_at", "-id"), name="audit_created"),
            models.Index(fields=("action", "-created_at"), name="audit_action_created"),
            models.Index(fields=("team", "-created_at"), name="audit_team_created"),
        )
        constraints = (
            models.CheckConstraint(
                condition=models.Q(action__in=AuditAction.values),
                name="audit_action_valid",
            ),
        )

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: an audit event is never edited."""
        if not self._state.adding:
            raise ValueError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Refused: an audit event is never deleted one by one."""
        raise ValueError("audit events are append-only")
