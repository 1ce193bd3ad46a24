"""Send a JSON report computed in CI to a Yardstick server (`yardstick scan --upload URL`).

Standard library only (the engine never imports Django and needs no HTTP client package).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from scanners import ENGINE_VERSION

TOKEN_ENV = "YARDSTICK_TOKEN"  # noqa: S105 - the variable's name, not a secret  # nosec B105


class UploadError(Exception):
    """The server refused the report or could not be reached; the message says why."""


@dataclass(frozen=True, slots=True)
class Uploaded:
    """The server's answer: the scan it stored."""

    status: int
    scan_id: int | None
    score: float | None
    level: str


def upload_report(url: str, token: str, report_json: str, timeout: float = 30.0) -> Uploaded:
    """POST the report to `url` (…/api/v1/repositories/<id>/reports) with a bearer token."""
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.netloc:
        raise UploadError(f"--upload needs an http(s) URL, not {url!r}")
    if not token:
        raise UploadError(f"--upload needs a token: --token or ${TOKEN_ENV}")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=report_json.encode("utf-8"),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"yardstick/{ENGINE_VERSION}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        raise UploadError(f"server answered {exc.code}: {_message(exc.read())}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UploadError(f"cannot reach {parts.netloc}: {reason}") from None
    data = _json(body)
    scan_id, score, level = data.get("id"), data.get("score"), data.get("level")
    return Uploaded(
        status,
        scan_id if isinstance(scan_id, int) else None,
        float(score) if isinstance(score, int | float) else None,
        level if isinstance(level, str) else "",
    )


def _json(body: bytes) -> dict[str, object]:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _message(body: bytes) -> str:
    """The API's error message (`{code, message, details}`), or the start of the body."""
    data = _json(body)
    message = data.get("message")
    if isinstance(message, str):
        details = data.get("details")
        return f"{message} {json.dumps(details)}" if details else message
    return body[:200].decode("utf-8", "replace") or "(no body)"
