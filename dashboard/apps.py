"""App configuration."""

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The Yardstick dashboard app."""

    name = "dashboard"
    verbose_name = "Yardstick"
    default_auto_field = "django.db.models.BigAutoField"
