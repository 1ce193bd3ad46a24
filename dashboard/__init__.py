"""Yardstick's Django project and app."""

from dashboard.celery import app as celery_app

__all__ = ["celery_app"]
