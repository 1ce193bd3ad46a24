"""The page that answers a registration, the form's or the admin's."""

from __future__ import annotations

from typing import Protocol

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.models import Repository, Scan


class Registered(Protocol):
    """What the page shows of a registration (`services.repos.registration.Registered`)."""

    @property
    def repository(self) -> Repository:
        """The new repository."""
        ...

    @property
    def webhook_secret(self) -> str:
        """Its webhook secret, shown this once."""
        ...

    @property
    def scan(self) -> Scan:
        """Its first scan."""
        ...


def registered_page(request: HttpRequest, registered: Registered) -> HttpResponse:
    """The answer to a registration (the form's or the admin's): the webhook secret, shown
    this once, with how to set the webhook up."""
    return render(
        request,
        "registered.html",
        {
            "repository": registered.repository,
            "secret": registered.webhook_secret,
            "scan": registered.scan,
            "base_url": request.build_absolute_uri("/").rstrip("/"),
        },
    )
