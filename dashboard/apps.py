"""App configuration."""

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The Yardstick dashboard app."""

    name = "dashboard"
    verbose_name = "Yardstick"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Sync the standard after every migrate, so new rules appear with no manual step;
        retire cached page panels when the rows they show change."""
        from django.db.models.signals import post_migrate

        from dashboard.services.infra import page_versions

        post_migrate.connect(_sync_after_migrate, sender=self)
        page_versions.watch_models()


def _sync_after_migrate(**kwargs: object) -> None:
    from dashboard.services.standard.sync import sync_standard

    sync_standard()
