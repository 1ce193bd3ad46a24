"""Admin: Teams, memberships, people (audited), API tokens and the audit log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from dashboard import models
from dashboard.admin.common import RecordAdmin, _user
from dashboard.services.access import accounts, api_tokens


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin[models.Team]):
    """Teams."""

    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}  # noqa: RUF012 - Django's admin API


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin[models.Membership]):
    """Who is in which team; every change is in the audit log."""

    list_display = ("user", "team", "role", "source")
    list_filter = ("role", "source", "team")
    search_fields = ("user__username", "team__name")
    autocomplete_fields = ("user", "team")
    # Set by whoever creates the membership: the identity provider's mapping, else by hand.
    readonly_fields = ("source",)

    def save_model(
        self,
        request: HttpRequest,
        obj: models.Membership,
        form: forms.ModelForm[models.Membership],
        change: bool,
    ) -> None:
        """Save through the service that audits it."""
        accounts.save_membership(_user(request), obj, form.initial if change else None)

    def delete_model(self, request: HttpRequest, obj: models.Membership) -> None:
        """Remove through the service that audits it."""
        accounts.remove_membership(_user(request), obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[models.Membership]) -> None:
        """One audited removal per membership."""
        for membership in queryset.select_related("user", "team"):
            accounts.remove_membership(_user(request), membership)


@admin.register(models.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[models.ApiToken]):
    """API tokens: created by their owners on the tokens page, or for a team with
    `manage.py create_api_token` (the secret is shown once); revoked here or by the owner."""

    list_display = (
        "name",
        "owner",
        "team",
        "prefix",
        "scope",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("scope", "team")
    list_select_related = ("owner", "team")
    search_fields = ("name", "prefix", "team__name", "owner__username")
    # The hash is never shown: it identifies the secret and nobody needs to read it.
    exclude = ("token_hash",)
    readonly_fields = (
        "prefix",
        "owner",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
    )
    actions = ("revoke_selected",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Tokens are issued by the command, which shows the secret once."""
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[models.ApiToken]) -> None:
        """Revoke at once; a revoked token never works again."""
        for token in queryset.filter(revoked_at__isnull=True).select_related("team"):
            api_tokens.revoke(token, actor=_user(request))


@admin.register(models.AuditEvent)
class AuditEventAdmin(RecordAdmin[models.AuditEvent]):
    """The audit log: read-only for everyone, administrators included."""

    list_display = (
        "created_at",
        "actor_label",
        "action",
        "target_type",
        "target_label",
        "team",
        "source_ip",
        "request_id",
    )
    list_filter = ("action", "team")
    search_fields = ("actor_label", "target_label", "request_id")
    list_select_related = ("team",)
    date_hierarchy = "created_at"


admin.site.unregister(User)


@admin.register(User)
class AuditedUserAdmin(DjangoUserAdmin[User]):
    """Django's user admin; changes of admin flags and groups go to the audit log."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Remember the privileges before the edit (groups are saved later, with the form)."""
        before = User.objects.filter(pk=obj.pk).first() if change else None
        obj._audit_before = accounts.privileges(before) if before is not None else None
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """After the groups are saved, audit what changed."""
        super().save_related(request, form, formsets, change)
        user = form.instance
        accounts.record_privileges(_user(request), user, getattr(user, "_audit_before", None))
