"""URL configuration."""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from dashboard import account_urls
from dashboard.api.app import api
from dashboard.views import (
    api_reference,
    health,
    initiatives,
    overview,
    projects,
    registers,
    registration,
    repositories,
    repository_settings,
    rules,
    scans,
    teams,
)
from dashboard.views import audit as audit_views
from dashboard.views import badges as badge_views
from dashboard.views import digest as digest_views
from dashboard.views import exports as export_views
from dashboard.views import members as member_views
from dashboard.views import notifications as notification_views
from dashboard.views import ratchets as ratchet_views
from dashboard.views import reviews as review_views
from dashboard.views import tokens as token_views
from dashboard.views import waiver_requests as waiver_request_views
from dashboard.views import webhooks as webhook_views

urlpatterns = [
    path("", overview.index, name="home"),
    path("favicon.ico", RedirectView.as_view(url="/static/favicon.svg", permanent=True)),
    *account_urls.urlpatterns,  # sign-in, password reset, single sign-on
    path("teams/", teams.index, name="teams"),
    path("teams/<slug:slug>/", teams.detail, name="team"),
    path(
        "teams/<slug:slug>/notifications/",
        notification_views.team_settings,
        name="team-notifications",
    ),
    path("teams/<slug:slug>/members/", member_views.index, name="team-members"),
    path(
        "teams/<slug:slug>/members/<int:pk>/role/",
        member_views.change_role,
        name="team-member-role",
    ),
    path(
        "teams/<slug:slug>/members/<int:pk>/remove/",
        member_views.remove,
        name="team-member-remove",
    ),
    path("digest/", digest_views.index, name="digest"),
    path("digest/preview/", digest_views.preview, name="digest-preview"),
    path("initiatives/", initiatives.index, name="initiatives"),
    path("initiatives/new/", initiatives.new, name="initiative-new"),
    path("initiatives/<int:pk>/", initiatives.detail, name="initiative"),
    path("initiatives/<int:pk>/close/", initiatives.close, name="initiative-close"),
    path("initiatives/<int:pk>/status.csv", initiatives.export, name="export-initiative"),
    path("exports/initiatives.csv", initiatives.export_all, name="export-initiatives"),
    path("repositories/<int:pk>/ratchets/", ratchet_views.freeze, name="ratchet-add"),
    path(
        "repositories/<int:pk>/ratchets/<int:ratchet_pk>/release/",
        ratchet_views.release,
        name="ratchet-release",
    ),
    path("repositories/", repositories.index, name="repositories"),
    path("repositories/new/", registration.register, name="register"),
    path("repositories/<int:pk>/", repositories.detail, name="repository"),
    path("repositories/<int:pk>/scan/", repositories.scan_now, name="scan-now"),
    path("repositories/<int:pk>/reviews/<int:review_pk>/", review_views.detail, name="review"),
    path("repositories/<int:pk>/deep-scan/", repositories.deep_scan, name="deep-scan"),
    path("repositories/<int:pk>/project/", projects.judge, name="project-judge"),
    path("repositories/<int:pk>/project/register/", projects.register, name="project-register"),
    path("repositories/<int:pk>/settings/", repository_settings.edit, name="repository-settings"),
    path("repositories/<int:pk>/archive/", repository_settings.archive, name="repository-archive"),
    path("repositories/<int:pk>/restore/", repository_settings.restore, name="repository-restore"),
    path(
        "repositories/<int:pk>/transfer/", repository_settings.transfer, name="repository-transfer"
    ),
    path("transfers/<int:pk>/accept/", repository_settings.accept, name="transfer-accept"),
    path("transfers/<int:pk>/decline/", repository_settings.decline, name="transfer-decline"),
    path("transfers/<int:pk>/cancel/", repository_settings.cancel, name="transfer-cancel"),
    path("repositories/<int:pk>/waivers/", waiver_request_views.add_waiver, name="waiver-add"),
    path(
        "repositories/<int:pk>/waivers/<int:waiver_pk>/revoke/",
        repositories.revoke_waiver,
        name="waiver-revoke",
    ),
    path(
        "repositories/<int:pk>/attestations/", repositories.add_attestation, name="attestation-add"
    ),
    path(
        "repositories/<int:pk>/attestations/<int:attestation_pk>/revoke/",
        repositories.revoke_attestation,
        name="attestation-revoke",
    ),
    path("rules/", rules.index, name="rules"),
    path("rules/<str:rule_id>/", rules.detail, name="rule"),
    path("scans/<int:pk>/", scans.detail, name="scan"),
    path("audit/", audit_views.index, name="audit"),
    path("exports/audit.csv", audit_views.export, name="export-audit"),
    path("health", health.health, name="health"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", health.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("webhooks/github/", webhook_views.github, name="webhook-github"),
    path("webhooks/gitlab/", webhook_views.gitlab, name="webhook-gitlab"),
    path("webhooks/gitea/", webhook_views.gitea, name="webhook-gitea"),
    path("webhooks/generic/<int:repository_id>/", webhook_views.generic, name="webhook-generic"),
    path("waivers/", registers.waivers, name="waivers"),
    path("waivers/requests/", waiver_request_views.index, name="waiver-requests"),
    path(
        "waivers/requests/<int:pk>/approve/",
        waiver_request_views.approve,
        name="waiver-request-approve",
    ),
    path(
        "waivers/requests/<int:pk>/reject/",
        waiver_request_views.reject,
        name="waiver-request-reject",
    ),
    path(
        "waivers/requests/<int:pk>/withdraw/",
        waiver_request_views.withdraw,
        name="waiver-request-withdraw",
    ),
    path("attestations/", registers.attestations, name="attestations"),
    path("exports/", export_views.index, name="exports"),
    path("exports/waivers.csv", registers.export_waivers, name="export-waivers"),
    path("exports/attestations.csv", registers.export_attestations, name="export-attestations"),
    path("exports/organisation.csv", export_views.organisation, name="export-organisation"),
    path("exports/teams/<slug:slug>.csv", export_views.team, name="export-team"),
    path("exports/results.csv", export_views.results, name="export-results"),
    path("exports/history.csv", export_views.history, name="export-history"),
    path("exports/rules/<str:rule_id>.csv", export_views.rule, name="export-rule"),
    path("api/", api_reference.index, name="api-docs"),
    path("tokens/", token_views.index, name="tokens"),
    path("tokens/<int:pk>/revoke/", token_views.revoke, name="token-revoke"),
    path("api/v1/", api.urls),
    path("badges/<int:repository_id>.svg", badge_views.repository, name="badge-repository"),
    path("badges/teams/<slug:slug>.svg", badge_views.team, name="badge-team"),
]
