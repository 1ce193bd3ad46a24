"""Admin: The standard, its rules (the organisation's configuration) and its releases."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from dashboard import models
from dashboard.admin.common import _user
from dashboard.services.standard import rule_config


@admin.register(models.Standard)
class StandardAdmin(admin.ModelAdmin[models.Standard]):
    """Standards synced from the engine."""

    list_display = ("key", "name", "version", "synced_at")


@admin.register(models.Rule)
class RuleAdmin(admin.ModelAdmin[models.Rule]):
    """Rules of a standard: the bundled values read-only, the organisation's choices editable.

    Severity, weight and enabled are stored as overrides (blank: the bundled value), so the
    standard's sync after every `migrate` keeps them; each change is a new standard version.
    """

    list_display = (
        "rule_id",
        "title",
        "section",
        "severity",
        "severity_override",
        "weight",
        "weight_override",
        "enabled",
        "evaluation",
        "retired",
    )
    list_filter = ("section", "severity", "enabled", "evaluation", "retired")
    search_fields = ("rule_id", "title")
    fields = (
        "rule_id",
        "title",
        "section",
        "severity",
        "severity_override",
        "weight",
        "weight_override",
        "enabled",
        "evaluation",
        "effective_from",
        "retired",
    )
    readonly_fields = ("rule_id", "title", "section", "severity", "weight", "evaluation", "retired")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Rules come from the standard's file."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Retired by the sync, never deleted: results refer to them."""
        return False

    def save_model(
        self,
        request: HttpRequest,
        obj: models.Rule,
        form: forms.ModelForm[models.Rule],
        change: bool,
    ) -> None:
        """The grace period as is; severity, weight and enabled through the service that
        versions, audits and rescores them."""
        changed = list(form.changed_data)
        others = [name for name in changed if name not in rule_config.CONFIGURABLE]
        if others:
            obj.save(update_fields=others)
        values = {name: getattr(obj, name) for name in rule_config.CONFIGURABLE if name in changed}
        if values:
            rule_config.configure_rule(_user(request), obj, values)


@admin.register(models.StandardRelease)
class StandardReleaseAdmin(admin.ModelAdmin[models.StandardRelease]):
    """Versions of the standard, as they arrived (trend charts mark them)."""

    list_display = ("standard", "version", "previous_version", "synced_at")
    list_filter = ("standard",)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Written by the sync only."""
        return False
