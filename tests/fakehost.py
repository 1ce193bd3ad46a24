"""A fake code host on 127.0.0.1 for the code-host integrations' tests.

It implements, per provider, the endpoints Yardstick calls, with the providers' documented
request and response shapes: commit statuses and pull/merge request comments (create, list,
update). Requests without the provider's auth header answer 401; unknown comments 404; a
status without a valid `state` 422. `fail` scripts error answers (e.g. a 502 once, to check
the retry). Routes are a table of (method, pattern, handler) so listing endpoints (the
organisation import) can be added beside them.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.loopback import serving

TOKEN = "fake-host-token-3f9a"
# The API root each provider's clients are given (appended to the server's address).
API_ROOTS = {"github": "", "gitlab": "/api/v4", "gitea": "/api/v1"}
STATES = {
    "github": {"error", "failure", "pending", "success"},
    "gitea": {"error", "failure", "pending", "success", "warning"},
    "gitlab": {"pending", "running", "success", "failed", "canceled", "skipped"},
}


@dataclass
class Call:
    """One request the host received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeHost:
    """State of the fake host: what was posted, and scripted failures."""

    provider: str
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)  # each with its "sha"
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> comment
    failures: list[tuple[str, str, int]] = field(default_factory=list)  # method, path re, code
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1001))

    @property
    def api_base_url(self) -> str:
        """The API root to configure in a CodeHostConnection."""
        return self.url + API_ROOTS[self.provider]

    def fail(self, method: str, pattern: str, code: int) -> None:
        """Answer the next request matching `method` and `pattern` with `code`, once."""
        self.failures.append((method, pattern, code))

    def add_comment(self, body: str) -> int:
        """A comment already on the pull request (someone else's, or an earlier run's)."""
        number = next(self._ids)
        self.comments[number] = {"id": number, "body": body}
        return number


def _authorised(host: FakeHost, headers: dict[str, str]) -> bool:
    if host.provider == "gitlab":
        return headers.get("PRIVATE-TOKEN") == TOKEN
    scheme = "Bearer" if host.provider == "github" else "token"
    return headers.get("Authorization") == f"{scheme} {TOKEN}"


Answer = tuple[int, Any]
Route = Callable[[FakeHost, re.Match[str], Any], Answer]


def _status(host: FakeHost, match: re.Match[str], body: Any) -> Answer:
    if not isinstance(body, dict) or body.get("state") not in STATES[host.provider]:
        return 422, {"message": "Validation Failed", "errors": [{"field": "state"}]}
    if len(str(body.get("description") or "")) > 140:
        return 422, {"message": "description is too long (maximum is 140 characters)"}
    entry = {**body, "sha": unquote(match["sha"]), "id": next(host._ids)}
    host.statuses.append(entry)
    if host.provider == "gitlab":  # GitLab answers the commit status with `name`, `status`
        return 201, {
            "id": entry["id"],
            "sha": entry["sha"],
            "status": body["state"],
            "name": body.get("name"),
            "description": body.get("description"),
        }
    return 201, {
        "id": entry["id"],
        "state": body["state"],
        "context": body.get("context"),
        "description": body.get("description"),
        "target_url": body.get("target_url"),
    }


def _list(host: FakeHost, match: re.Match[str], body: Any) -> Answer:
    return 200, list(host.comments.values())


def _create(host: FakeHost, match: re.Match[str], body: Any) -> Answer:
    if not isinstance(body, dict) or not body.get("body"):
        return 422, {"message": "Validation Failed"}
    return 201, host.comments.setdefault(
        (number := next(host._ids)), {"id": number, "body": body["body"]}
    )


def _update(host: FakeHost, match: re.Match[str], body: Any) -> Answer:
    number = int(match["id"])
    if number not in host.comments:
        return 404, {"message": "Not Found"}
    host.comments[number]["body"] = body["body"]
    return 200, host.comments[number]


_SHA = r"(?P<sha>[0-9a-f]{40})"
ROUTES: dict[str, list[tuple[str, str, Route]]] = {
    "github": [
        ("POST", rf"/repos/[^/]+/[^/]+/statuses/{_SHA}", _status),
        ("GET", r"/repos/[^/]+/[^/]+/issues/\d+/comments", _list),
        ("POST", r"/repos/[^/]+/[^/]+/issues/\d+/comments", _create),
        ("PATCH", r"/repos/[^/]+/[^/]+/issues/comments/(?P<id>\d+)", _update),
    ],
    "gitlab": [
        ("POST", rf"/api/v4/projects/[^/]+/statuses/{_SHA}", _status),
        ("GET", r"/api/v4/projects/[^/]+/merge_requests/\d+/notes", _list),
        ("POST", r"/api/v4/projects/[^/]+/merge_requests/\d+/notes", _create),
        ("PUT", r"/api/v4/projects/[^/]+/merge_requests/\d+/notes/(?P<id>\d+)", _update),
    ],
    "gitea": [
        ("POST", rf"/api/v1/repos/[^/]+/[^/]+/statuses/{_SHA}", _status),
        ("GET", r"/api/v1/repos/[^/]+/[^/]+/issues/\d+/comments", _list),
        ("POST", r"/api/v1/repos/[^/]+/[^/]+/issues/\d+/comments", _create),
        ("PATCH", r"/api/v1/repos/[^/]+/[^/]+/issues/comments/(?P<id>\d+)", _update),
    ],
}


def _answer(host: FakeHost, method: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
    body = json.loads(raw) if raw else None
    host.calls.append(Call(method, path, headers, body))
    for index, (verb, pattern, code) in enumerate(host.failures):
        if verb == method and re.fullmatch(pattern, path):
            del host.failures[index]
            return code, {"message": f"scripted {code}"}
    if not _authorised(host, headers):
        return 401, {"message": "Bad credentials"}
    for verb, pattern, route in ROUTES[host.provider]:
        match = re.fullmatch(pattern, path)
        if verb == method and match:
            return route(host, match, body)
    return 404, {"message": "Not Found"}


@contextmanager
def fake_host(provider: str) -> Iterator[FakeHost]:
    """Run a fake `provider` host in a thread for the duration of the block."""
    host = FakeHost(provider)

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            path = urlsplit(self.path).path
            code, answer = _answer(host, self.command, path, dict(self.headers.items()), raw)
            data = json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = _handle

        def log_message(self, *args: object) -> None:
            """Quiet."""

    with serving(Handler) as url:
        host.url = url
        yield host
