"""Django admin for every model, with list displays and filters people use."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from dashboard import models
from dashboard.services import api_tokens


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin[models.Team]):
    """Teams."""

    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}  # noqa: RUF012 - Django's admin API


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin[models.Membership]):
    """Who is in which team."""

    list_display = ("user", "team", "role")
    list_filter = ("role", "team")
    search_fields = ("user__username", "team__name")
    autocomplete_fields = ("user", "team")


@admin.register(models.Repository)
class RepositoryAdmin(admin.ModelAdmin[models.Repository]):
    """Registered repositories (the webhook secret is never shown)."""

    list_display = ("name", "team", "clone_url", "default_branch", "score", "level", "active")
    list_filter = ("active", "level", "team")
    search_fields = ("name", "clone_url")
    exclude = ("webhook_secret_encrypted",)
    readonly_fields = ("url_key", "latest_scan", "score", "level", "created_at")
    list_select_related = ("team",)


@admin.register(models.Standard)
class StandardAdmin(admin.ModelAdmin[models.Standard]):
    """Standards synced from the engine."""

    list_display = ("key", "name", "version", "synced_at")


@admin.register(models.Rule)
class RuleAdmin(admin.ModelAdmin[models.Rule]):
    """Rules of a standard."""

    list_display = ("rule_id", "title", "section", "severity", "evaluation", "retired")
    list_filter = ("section", "severity", "evaluation", "retired")
    search_fields = ("rule_id", "title")


class CheckResultInline(admin.TabularInline[models.CheckResult, models.Scan]):
    """Results shown inside their scan."""

    model = models.CheckResult
    fields = ("rule", "status", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(models.Scan)
class ScanAdmin(admin.ModelAdmin[models.Scan]):
    """Scans and their state."""

    list_display = (
        "id",
        "repository",
        "status",
        "trigger",
        "commit_sha",
        "score",
        "level",
        "queued_at",
        "finished_at",
        "worker",
    )
    list_filter = ("status", "trigger", "level")
    search_fields = ("repository__name", "commit_sha")
    list_select_related = ("repository",)
    date_hierarchy = "queued_at"
    inlines = (CheckResultInline,)


@admin.register(models.CheckResult)
class CheckResultAdmin(admin.ModelAdmin[models.CheckResult]):
    """Individual rule results."""

    list_display = ("scan", "rule", "status")
    list_filter = ("status", "rule__section")
    list_select_related = ("scan", "rule")
    raw_id_fields = ("scan",)


@admin.register(models.Waiver)
class WaiverAdmin(admin.ModelAdmin[models.Waiver]):
    """Waivers with their expiry."""

    list_display = ("repository", "rule", "expires_at", "approved_by", "revoked_at")
    list_filter = ("rule__section",)
    search_fields = ("repository__name", "rule__rule_id", "reason")


@admin.register(models.Attestation)
class AttestationAdmin(admin.ModelAdmin[models.Attestation]):
    """Attestations with their expiry."""

    list_display = ("repository", "rule", "evidence_url", "expires_at", "attested_by")
    search_fields = ("repository__name", "rule__rule_id")


@admin.register(models.CoverageReport)
class CoverageReportAdmin(admin.ModelAdmin[models.CoverageReport]):
    """Uploaded coverage."""

    list_display = ("repository", "commit_sha", "source", "created_at")


@admin.register(models.RepositoryDailyScore)
class RepositoryDailyScoreAdmin(admin.ModelAdmin[models.RepositoryDailyScore]):
    """Daily repository roll-ups."""

    list_display = ("repository", "date", "score", "level")
    date_hierarchy = "date"


@admin.register(models.TeamDailyScore)
class TeamDailyScoreAdmin(admin.ModelAdmin[models.TeamDailyScore]):
    """Daily team roll-ups."""

    list_display = ("team", "date", "score", "repositories")
    date_hierarchy = "date"


@admin.register(models.RuleDailyStats)
class RuleDailyStatsAdmin(admin.ModelAdmin[models.RuleDailyStats]):
    """Daily rule adoption per team."""

    list_display = ("rule", "team", "date", "passed", "failed", "warned", "other")
    date_hierarchy = "date"


@admin.register(models.WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin[models.WorkerHeartbeat]):
    """Worker liveness."""

    list_display = ("worker", "seen_at")


@admin.register(models.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[models.ApiToken]):
    """API tokens: created with `manage.py create_api_token` (shown once), revoked here."""

    list_display = ("name", "team", "prefix", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope", "team")
    search_fields = ("name", "prefix", "team__name")
    readonly_fields = (
        "token_hash",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ("revoke_selected",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Tokens are issued by the command, which shows the secret once."""
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[models.ApiToken]) -> None:
        """Revoke at once; a revoked token never works again."""
        for token in queryset.filter(revoked_at__isnull=True):
            api_tokens.revoke(token)


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[models.WebhookDelivery]):
    """Every webhook delivery with its outcome (read-only: an audit trail)."""

    list_display = ("received_at", "provider", "event", "repository", "outcome", "status_code")
    list_filter = ("provider", "outcome", "accepted")
    search_fields = ("delivery_id", "repository__name")
    list_select_related = ("repository",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Deliveries come from code hosts only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Never edited."""
        return False


from dashboard import admin_rollout  # noqa: E402, F401 - registers the roll-out models
