"""Sign-in with brute-force protection: failed attempts counted per address and per username."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from dashboard.services.clientip import client_ip

#: Failed sign-ins allowed per address and per username in one window (seconds).
DEFAULT_LOGIN_RATE_LIMIT = (10, 300)


def _keys(request: HttpRequest, window: int) -> tuple[list[str], int]:
    """Cache keys of this attempt's counters (address, username) and seconds left."""
    moment = time.time()
    slot = int(moment // window)
    address = client_ip(request) or "unknown"
    username = str(request.POST.get("username", "")).strip().lower()[:150]
    keys = [f"signin-fail:address:{address}:{slot}"]
    if username:
        keys.append(f"signin-fail:user:{username}:{slot}")
    return keys, max(1, int((slot + 1) * window - moment))


class ThrottledLoginView(LoginView):
    """Django's sign-in; past the limit of failures it answers 429 without checking anything.

    Only failures count, so people signing in (or a test suite) are never slowed. Counting
    per username too stops a guesser spread over many addresses; the price is that such a
    guesser can hold one account's sign-in shut for a window.
    """

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Refuse when the address or the username failed too often; count a new failure."""
        limit, window = getattr(settings, "LOGIN_RATE_LIMIT", DEFAULT_LOGIN_RATE_LIMIT)
        keys, wait = _keys(request, window)
        if any(int(cache.get(key, 0)) >= limit for key in keys):
            response = HttpResponse(
                f"Too many failed sign-in attempts. Try again in {wait} seconds.",
                status=429,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = str(wait)
            return response
        response = super().post(request, *args, **kwargs)
        if not request.user.is_authenticated:
            for key in keys:
                cache.add(key, 0, timeout=window + 1)
                cache.incr(key)
        return response
