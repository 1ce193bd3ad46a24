"""URL configuration."""

from django.contrib import admin
from django.urls import path

from dashboard.views import health, home

urlpatterns = [
    path("", home.index, name="home"),
    path("health", health.health, name="health"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", health.metrics, name="metrics"),
    path("admin/", admin.site.urls),
]
