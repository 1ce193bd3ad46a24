"""Django admin for every model, with list displays and filters people use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from dashboard import models
from dashboard.services.access import accounts, api_tokens
from dashboard.services.governance import waivers as governance
from dashboard.services.repos.clone_urls import url_key
from dashboard.services.repos.registration import (
    CHANGEABLE,
    Registered,
    RegistrationError,
    check_branch,
    check_not_registered,
    check_project_dir,
    check_url_policy,
    delete_repository,
    register_repository,
    update_repository,
)
from dashboard.services.standard import rule_config
from dashboard.views.registration import registered_page


def _user(request: HttpRequest) -> User:
    """The signed-in administrator (the admin site lets no one else in)."""
    return cast(User, request.user)


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin[models.Team]):
    """Teams."""

    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}  # noqa: RUF012 - Django's admin API


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin[models.Membership]):
    """Who is in which team; every change is in the audit log."""

    list_display = ("user", "team", "role")
    list_filter = ("role", "team")
    search_fields = ("user__username", "team__name")
    autocomplete_fields = ("user", "team")

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


class RepositoryAdminForm(forms.ModelForm[models.Repository]):
    """The admin's repository form, with the registration's checks field by field."""

    class Meta:
        model = models.Repository
        fields = CHANGEABLE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["name"].help_text = "Defaults to the repository name in the clone URL."

    def clean_clone_url(self) -> str:
        """The policy's verdict."""
        url = self.cleaned_data["clone_url"]
        cleaned, _ = _checked(lambda: check_url_policy(url))
        return cleaned

    def clean_default_branch(self) -> str:
        """A branch name git will not read as an option."""
        return _checked(lambda: check_branch(self.cleaned_data["default_branch"]))

    def clean_project_dir(self) -> str:
        """A folder inside the repository."""
        return _checked(lambda: check_project_dir(self.cleaned_data["project_dir"]))

    def clean(self) -> dict[str, Any]:
        """No second row for the same repository and project folder (siblings are fine)."""
        data = super().clean() or self.cleaned_data
        url, folder = data.get("clone_url"), data.get("project_dir")
        if url is None or folder is None:
            return data  # their own errors are shown already
        key = url_key(url)
        same = self.instance.pk is not None and key == self.instance.url_key
        try:
            check_not_registered(
                key,
                folder,
                other_than=self.instance,
                field="project_dir" if same else "clone_url",
            )
        except RegistrationError as exc:
            self.add_error(exc.field, exc.message)
        return data


def _checked[T](check: Callable[[], T]) -> T:
    """A registration check's answer, or its message as the field's validation error."""
    try:
        return check()
    except RegistrationError as exc:
        raise forms.ValidationError(exc.message) from None


@admin.register(models.Repository)
class RepositoryAdmin(admin.ModelAdmin[models.Repository]):
    """Registered repositories (the webhook secret is never shown).

    Adding one registers it as the form does (policy, webhook secret shown once, first scan,
    audit); an edit is checked the same way and audited field by field.
    """

    form = RepositoryAdminForm
    list_display = (
        "name",
        "team",
        "public_clone_url",
        "project_dir",
        "default_branch",
        "score",
        "level",
        "active",
    )
    list_filter = ("active", "level", "team")
    search_fields = ("name", "clone_url", "project_dir")
    readonly_fields = ("url_key", "latest_scan", "score", "level", "created_at")
    list_select_related = ("team",)

    def get_fields(self, request: HttpRequest, obj: models.Repository | None = None) -> Any:
        """A new repository is active and opts in to the deep scan later."""
        fields = list(super().get_fields(request, obj))
        if obj is None:
            fields = [f for f in fields if f not in ("active", "deep_scan", *self.readonly_fields)]
        return fields

    def save_model(
        self,
        request: HttpRequest,
        obj: models.Repository,
        form: forms.ModelForm[models.Repository],
        change: bool,
    ) -> None:
        """Register a new repository, or save an edit, through the audited services."""
        if change:
            update_repository(_user(request), obj)
            return
        registered = register_repository(
            obj.team,
            obj.clone_url,
            name=obj.name,
            default_branch=obj.default_branch,
            project_dir=obj.project_dir,
            actor=_user(request),
        )
        obj.__dict__.update(registered.repository.__dict__)  # the admin logs and links obj
        request._yardstick_registered = registered  # type: ignore[attr-defined]

    def response_add(
        self, request: HttpRequest, obj: models.Repository, post_url_continue: str | None = None
    ) -> HttpResponse:
        """The page the registration form shows: the webhook secret, once, and its setup."""
        registered: Registered | None = getattr(request, "_yardstick_registered", None)
        if registered is None:
            return super().response_add(request, obj, post_url_continue)
        return registered_page(request, registered)

    def delete_model(self, request: HttpRequest, obj: models.Repository) -> None:
        """Delete through the service that audits it."""
        delete_repository(_user(request), obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[models.Repository]) -> None:
        """One audited deletion per repository."""
        for repository in queryset.select_related("team"):
            delete_repository(_user(request), repository)


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


@admin.register(models.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[models.ApiToken]):
    """API tokens: created with `manage.py create_api_token` (shown once), revoked here."""

    list_display = ("name", "team", "prefix", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope", "team")
    search_fields = ("name", "prefix", "team__name")
    # The hash is never shown: it identifies the secret and nobody needs to read it.
    exclude = ("token_hash",)
    readonly_fields = (
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
        for token in queryset.filter(revoked_at__isnull=True).select_related("team"):
            api_tokens.revoke(token, actor=_user(request))


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


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[models.AuditEvent]):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Written by the services only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Never edited."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Never deleted."""
        return False


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


from dashboard import admin_rollout  # noqa: E402, F401 - registers the roll-out models
