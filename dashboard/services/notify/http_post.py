"""Outgoing HTTP for notifications: one JSON POST, errors sorted into retry or not.

Every receiver URL is untrusted: its host is decided by `scanners.netpolicy` when the URL
is registered (`check_url(..., resolve=True)`) and again when each request connects
(`_PinnedHTTPConnection`): the connection goes to an address that was just resolved and
checked, never to one resolved again later, so DNS rebinding cannot reach an internal
service. TLS still verifies the certificate for the URL's name. Redirects are never
followed: a 3xx answer is a failure that trying again will not fix.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from scanners import ENGINE_VERSION, netpolicy

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


def _allow_internal() -> bool:
    return bool(settings.ALLOW_INTERNAL_HOSTS)


def check_url(url: str, *, resolve: bool = False) -> str:
    """An http(s) URL whose host the address policy allows; `ValueError` says why not.

    Plain http only in development (tests post to 127.0.0.1). Internal addresses (by their
    text, and with `resolve` by every address the name resolves to) only where
    `ALLOW_INTERNAL_HOSTS` is on, as for clone URLs. A send checks again when it connects.
    """
    parts = urlsplit(url.strip())
    allowed = {"https", "http"} if settings.ENVIRONMENT == "development" else {"https"}
    try:
        hostname, port = parts.hostname, parts.port
    except ValueError:
        raise ValueError("the URL's port is not a number from 0 to 65535") from None
    if parts.scheme not in allowed or not hostname:
        raise ValueError(f"use an {' or '.join(sorted(allowed))} URL")
    host = netpolicy.check_host_text(hostname, allow_internal=_allow_internal())
    if resolve and not _allow_internal():
        try:
            netpolicy.resolve_checked(
                host, port or (443 if parts.scheme == "https" else 80), allow_internal=False
            )
        except netpolicy.HostRefused as exc:
            if str(exc) == netpolicy.UNREACHABLE:
                raise ValueError(f"the host {host!r} cannot be resolved") from None
            raise
    return url.strip()


def _connect_checked(
    address: tuple[str, int], timeout: Any = None, source_address: Any = None
) -> socket.socket:
    """`socket.create_connection` for http.client, through the address policy."""
    wait = None if timeout is socket._GLOBAL_DEFAULT_TIMEOUT else timeout  # type: ignore[attr-defined]
    host, port = address
    return netpolicy.connect_checked(host, port, allow_internal=_allow_internal(), timeout=wait)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a resolved and checked address of the host (see `scanners.netpolicy`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _connect_checked


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As `_PinnedHTTPConnection`; the certificate is verified for the URL's name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _connect_checked


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the body>`, as GitHub signs its webhooks."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _connection(url: str) -> tuple[http.client.HTTPConnection, str]:
    """A pinned connection for `url` (checked by `check_url`) and the request target."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host, port = parts.hostname or "", parts.port
    if parts.scheme == "https":
        context = ssl.create_default_context()
        return _PinnedHTTPSConnection(host, port, timeout=TIMEOUT_S, context=context), target
    return _PinnedHTTPConnection(host, port, timeout=TIMEOUT_S), target


def post_json(url: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    """POST `body` as JSON; the status code on 2xx, else `SendError`. No redirects."""
    return request("POST", url, body, headers)[0]


MAX_ANSWER_BYTES = 1024 * 1024


def request(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """One request through the outbound policy (checked URL, pinned address, no redirects):
    (status, body up to `MAX_ANSWER_BYTES`) on 2xx, else `SendError` with the status, transient
    when a retry may succeed (unreachable for now, 429 and 5xx)."""
    try:
        target = check_url(url)
    except ValueError as exc:
        raise SendError(str(exc), transient=False) from None
    connection, path = _connection(target)
    host = urlsplit(target).hostname
    sent = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
    if body is not None:
        sent.setdefault("Content-Type", "application/json")
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        status, answer = response.status, response.read(MAX_ANSWER_BYTES)
    except netpolicy.HostRefused as exc:
        raise SendError(
            f"cannot reach {host}: {exc}", transient=str(exc) == netpolicy.UNREACHABLE
        ) from None
    except (http.client.HTTPException, TimeoutError, OSError) as exc:
        raise SendError(f"cannot reach {host}: {exc}", transient=True) from None
    finally:
        connection.close()
    if 300 <= status < 400:
        raise SendError(
            f"HTTP {status}: the receiver redirects, and redirects are not followed",
            transient=False,
            status=status,
        )
    if not 200 <= status < 300:
        raise SendError(f"HTTP {status}", transient=status in RETRY_CODES, status=status)
    return status, answer
