"""URL configuration."""

from django.contrib import admin
from django.urls import path

from dashboard.views import exports as export_views
from dashboard.views import health, home
from dashboard.views import webhooks as webhook_views

urlpatterns = [
    path("", home.index, name="home"),
    path("health", health.health, name="health"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", health.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("webhooks/github/", webhook_views.github, name="webhook-github"),
    path("webhooks/gitlab/", webhook_views.gitlab, name="webhook-gitlab"),
    path("webhooks/gitea/", webhook_views.gitea, name="webhook-gitea"),
    path("webhooks/generic/<int:repository_id>/", webhook_views.generic, name="webhook-generic"),
    path("exports/organisation.csv", export_views.organisation, name="export-organisation"),
    path("exports/teams/<slug:slug>.csv", export_views.team, name="export-team"),
    path("exports/results.csv", export_views.results, name="export-results"),
    path("exports/history.csv", export_views.history, name="export-history"),
    path("exports/rules/<str:rule_id>.csv", export_views.rule, name="export-rule"),
]
