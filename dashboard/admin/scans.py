"""Admin: Scans, their results and coverage, the daily roll-ups, and the workers' own rows."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from dashboard import models


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


@admin.register(models.OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin[models.OutboxMessage]):
    """Follow-up tasks not done yet (read-only): a row older than a few minutes means the
    broker lost its message and the sweeper is sending it again."""

    list_display = ("task", "args", "created_at", "retry_at", "resends")
    list_filter = ("task",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Written by the services only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Read-only."""
        return False
