"""Admin: Waivers and attestations (granted and revoked through the services), waiver requests
and expiry reminders (read-only), initiatives, ratchets.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from dashboard import models
from dashboard.admin.common import RecordAdmin, _user
from dashboard.services.governance import waivers as governance


class GovernanceAdmin[M: (models.Waiver, models.Attestation)](admin.ModelAdmin[M]):
    """Waivers and attestations are granted on the repository page (with its checks) and
    revoked, never deleted; an edit here (expiry, reason, revocation) is audited.
    """

    list_select_related = ("repository", "rule")
    actions = ("revoke_selected",)

    @admin.action(description="Revoke selected %(verbose_name_plural)s")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        """Revoke each one now (audited)."""
        for item in queryset.filter(revoked_at__isnull=True).select_related(
            "repository__team", "rule"
        ):
            governance.revoke(_user(request), item)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Granted on the repository page only."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Revoked, never deleted: the history stays."""
        return False

    def save_model(
        self, request: HttpRequest, obj: M, form: forms.ModelForm[M], change: bool
    ) -> None:
        """Save through the service that refreshes scores and audits the edit."""
        governance.save_edited(_user(request), obj, form.initial, list(form.changed_data))


@admin.register(models.Waiver)
class WaiverAdmin(GovernanceAdmin[models.Waiver]):
    """Waivers with their expiry."""

    list_display = ("repository", "rule", "expires_at", "approved_by", "revoked_at")
    list_filter = ("rule__section",)
    search_fields = ("repository__name", "rule__rule_id", "reason")
    readonly_fields = ("repository", "rule", "approved_by", "created_at")


@admin.register(models.Attestation)
class AttestationAdmin(GovernanceAdmin[models.Attestation]):
    """Attestations with their expiry."""

    list_display = ("repository", "rule", "evidence_url", "expires_at", "attested_by", "revoked_at")
    search_fields = ("repository__name", "rule__rule_id")
    readonly_fields = ("repository", "rule", "attested_by", "created_at")


@admin.register(models.Initiative)
class InitiativeAdmin(admin.ModelAdmin[models.Initiative]):
    """Initiatives (managers run them from the Initiatives page)."""

    list_display = (
        "name",
        "goal",
        "target_level",
        "start_date",
        "target_date",
        "owner",
        "closed_at",
    )
    list_filter = ("goal", "closed_at")
    search_fields = ("name",)
    filter_horizontal = ("rules", "teams", "repositories")


@admin.register(models.Ratchet)
class RatchetAdmin(admin.ModelAdmin[models.Ratchet]):
    """Frozen finding counts per repository and rule."""

    list_display = ("repository", "rule", "baseline", "created_by", "updated_at")
    list_select_related = ("repository", "rule", "created_by")
    search_fields = ("repository__name", "rule__rule_id")
    readonly_fields = ("created_at", "updated_at")


@admin.register(models.WaiverRequest)
class WaiverRequestAdmin(RecordAdmin[models.WaiverRequest]):
    """Waiver requests, read-only: decided (and audited) on the Pending approvals page."""

    list_display = ("repository", "rule", "status", "requested_by", "decided_by", "created_at")
    list_filter = ("status",)
    list_select_related = ("repository", "rule", "requested_by", "decided_by")
    search_fields = ("repository__name", "rule__rule_id", "reason", "decision_reason")


@admin.register(models.ExpiryReminder)
class ExpiryReminderAdmin(RecordAdmin[models.ExpiryReminder]):
    """The reminders sent before waivers and attestations expire (read-only: the daily job
    writes them so that each is sent once)."""

    list_display = ("waiver", "attestation", "days", "expires_at", "sent_at")
    list_select_related = ("waiver", "attestation")
    list_filter = ("days",)
