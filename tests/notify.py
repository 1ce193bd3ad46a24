"""Helpers for notification tests: a local HTTP receiver and scans stored through the pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from dashboard.models import Repository, Scan
from dashboard.services.scans.results import Findings, ResultRow, store_findings
from tests.loopback import serving


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP server on 127.0.0.1 that records POSTs and answers scripted codes."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)  # answered in order, then 200


@contextmanager
def http_receiver() -> Iterator[Receiver]:
    """Run a receiver in a thread for the duration of the block."""
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            code = receiver.codes.pop(0) if receiver.codes else 200
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            """Quiet."""

    with serving(Handler) as url:
        receiver.url = url
        yield receiver


def store(
    repository: Repository,
    statuses: dict[str, str],
    sha: str = "a" * 40,
    findings: dict[str, int] | None = None,
) -> Scan:
    """A finished scan stored by the pipeline's writer; `findings` gives counts by rule id."""
    scan = Scan.objects.create(repository=repository, status=Scan.Status.RUNNING, commit_sha=sha)
    counts = findings or {}
    rows = [
        ResultRow(
            rule_id,
            status,
            f"{rule_id} {status}",
            [
                {"path": "app/x.py", "line": n + 1, "message": "here"}
                for n in range(counts.get(rule_id, 0))
            ],
        )
        for rule_id, status in statuses.items()
    ]
    return store_findings(scan, Findings(rows, sha, "0.1.0", {}, {}), duration_ms=5)
