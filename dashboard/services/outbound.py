"""Outgoing HTTP for notifications: one JSON POST with urllib, errors sorted into retry or not."""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

from scanners import ENGINE_VERSION

TIMEOUT_S = 10
USER_AGENT = f"Yardstick/{ENGINE_VERSION} (+notifications)"
# Answers worth trying again later: the receiver is overloaded, restarting or timing out.
RETRY_CODES = frozenset({408, 425, 429, 500, 502, 503, 504})


class SendError(Exception):
    """A send that failed; `transient` says whether trying again may help."""

    def __init__(self, message: str, *, transient: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status


def check_url(url: str) -> str:
    """An http(s) URL with a host; plain http only in development (tests post to 127.0.0.1)."""
    parts = urlsplit(url.strip())
    allowed = {"https", "http"} if settings.ENVIRONMENT == "development" else {"https"}
    if parts.scheme not in allowed or not parts.hostname:
        raise ValueError(f"use an {' or '.join(sorted(allowed))} URL")
    return url.strip()


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the body>`, as GitHub signs its webhooks."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_json(url: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    """POST `body` as JSON; the status code on 2xx, else `SendError`."""
    try:
        target = check_url(url)
    except ValueError as exc:
        raise SendError(str(exc), transient=False) from None
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        target,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the response's socket
        raise SendError(
            f"HTTP {exc.code}", transient=exc.code in RETRY_CODES, status=exc.code
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SendError(
            f"cannot reach {urlsplit(target).hostname}: {reason}", transient=True
        ) from None
