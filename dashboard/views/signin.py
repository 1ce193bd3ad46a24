"""Sign-in lockout with django-axes: which username an attempt names, and the locked-out answer.

Axes (settings: `AXES_*`) counts failed attempts in the database per (username, client
address) pair and, past `LOGIN_FAILURE_LIMIT` failures, refuses that pair for
`LOGIN_COOLOFF_MINUTES` without checking the password, on our sign-in page and the admin's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from axes.helpers import get_cool_off
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.services.infra import ratelimit
from dashboard.views.sso import allow_provider_forms, sign_in_buttons

#: Longest username Django's user model accepts.
USERNAME_MAX = 150
#: Reset e-mails asked for one address per window (seconds): nobody floods someone's inbox.
RESET_LIMIT = (10, 3600)


def attempted_username(request: HttpRequest, credentials: Mapping[str, Any] | None) -> str:
    """The username an attempt names, so spelling variants ("ANN ", "ann") count as one."""
    raw = credentials.get("username") if credentials else request.POST.get("username")
    return str(raw or "").strip().lower()[:USERNAME_MAX]


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """429 with Retry-After: every refused attempt restarts the pair's cool-off."""
    cool_off = get_cool_off(request)
    seconds = max(1, int(cool_off.total_seconds())) if cool_off else 300
    response = render(
        request,
        "registration/locked_out.html",
        {"minutes": math.ceil(seconds / 60)},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


def login_page(request: HttpRequest) -> HttpResponse:
    """Django's sign-in form for local accounts, with a button per single sign-on provider."""
    view = auth_views.LoginView.as_view(extra_context={"sso_buttons": sign_in_buttons()})
    return allow_provider_forms(view(request))  # type: ignore[arg-type]  # a TemplateResponse


def password_reset(request: HttpRequest) -> HttpResponse:
    """Django's reset-by-e-mail form, refused (429) past `RESET_LIMIT` for one address."""
    email = request.POST.get("email", "").strip().lower() if request.method == "POST" else ""
    if email:
        decision = ratelimit.hit("password-reset", email[:254], *RESET_LIMIT)
        if not decision.allowed:
            response = render(
                request,
                "registration/password_reset_form.html",
                {
                    "form": PasswordResetForm(request.POST),
                    "throttled_minutes": math.ceil(decision.retry_after / 60),
                },
                status=429,
            )
            response["Retry-After"] = str(decision.retry_after)
            return response
    return auth_views.PasswordResetView.as_view()(request)  # type: ignore[return-value]
