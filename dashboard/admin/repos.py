"""Admin: Repositories (registered, changed and deleted through the services), webhook
deliveries, code-host connections (the token write-only) and review scans (read-only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from dashboard import models
from dashboard.admin.common import RecordAdmin, _user
from dashboard.domain.clone_urls import url_key
from dashboard.http.registered import registered_page
from dashboard.services.repos.changes import CHANGEABLE
from dashboard.services.repos.registration import (
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
from dashboard.services.reviews import connections


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
            later = ("active", "deep_scan", "code_host", "pr_gate", "pr_comment")
            fields = [f for f in fields if f not in (*later, *self.readonly_fields)]
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


@admin.register(models.RepositoryTransfer)
class RepositoryTransferAdmin(RecordAdmin[models.RepositoryTransfer]):
    """Transfers between teams, read-only: proposed, accepted, declined and cancelled (and
    audited) on the repository's settings and the receiving team's page."""

    list_display = ("repository", "from_team", "to_team", "status", "proposed_by", "proposed_at")
    list_filter = ("status",)
    list_select_related = ("repository", "from_team", "to_team", "proposed_by")
    search_fields = ("repository__name", "from_team__name", "to_team__name")


class CodeHostConnectionForm(forms.ModelForm[models.CodeHostConnection]):
    """The token is write-only: typed in, stored encrypted, never shown again."""

    token = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="An API token allowed to set commit statuses and comment on pull requests. "
        "Leave empty to keep the stored one.",
    )

    class Meta:
        model = models.CodeHostConnection
        fields = ("name", "provider", "api_base_url")

    def clean_api_base_url(self) -> str:
        """An https URL the outbound address policy allows (http only in development)."""
        from dashboard.services.notify.http_post import check_url

        try:
            return check_url(self.cleaned_data["api_base_url"]).rstrip("/")
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        """A new connection needs a token."""
        data = super().clean() or self.cleaned_data
        if not data.get("token") and not self.instance.token_encrypted:
            self.add_error("token", "Give the API token Yardstick posts with.")
        return data


@admin.register(models.CodeHostConnection)
class CodeHostConnectionAdmin(admin.ModelAdmin[models.CodeHostConnection]):
    """API credentials to post review statuses and comments back (token never displayed)."""

    form = CodeHostConnectionForm
    list_display = ("name", "provider", "api_base_url", "created_at")
    list_filter = ("provider",)

    def save_model(
        self,
        request: HttpRequest,
        obj: models.CodeHostConnection,
        form: forms.ModelForm[models.CodeHostConnection],
        change: bool,
    ) -> None:
        """Save through the service that audits it (and encrypts a newly typed token)."""
        connections.save_connection(_user(request), obj, form.cleaned_data.get("token"))

    def delete_model(self, request: HttpRequest, obj: models.CodeHostConnection) -> None:
        """Delete through the service that audits it."""
        connections.delete_connection(_user(request), obj)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[models.CodeHostConnection]
    ) -> None:
        """One audited deletion per connection."""
        for connection in queryset:
            connections.delete_connection(_user(request), connection)


@admin.register(models.ReviewScan)
class ReviewScanAdmin(admin.ModelAdmin[models.ReviewScan]):
    """Review scans of pull/merge requests (read-only: what was posted, and why)."""

    list_display = ("queued_at", "repository", "provider", "number", "status", "state", "level")
    list_filter = ("provider", "status", "state")
    list_select_related = ("repository",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Reviews come from pull request events only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Never edited."""
        return False
