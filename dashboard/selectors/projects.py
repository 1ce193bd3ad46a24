"""The Python projects the engine found in a repository, as the repository page lists them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dashboard.models import Scan
from scanners.discovery import KIND_LABELS


@dataclass(frozen=True, slots=True)
class ProjectRow:
    """One candidate folder of the checkout."""

    folder: str  # repository-relative, '' for the root
    kind: str  # for people: "uv workspace member"
    web_app: str  # "FastAPI app in backend/app/main.py:12", or ""
    lock: str
    judged: bool

    @property
    def label(self) -> str:
        """The folder as shown: `.` for the root."""
        return self.folder or "."


@dataclass(frozen=True, slots=True)
class ProjectChoice:
    """Which folder the latest scan judged, why, and the other candidates."""

    judged: str
    reason: str
    named: bool
    rows: list[ProjectRow]

    @property
    def others(self) -> list[ProjectRow]:
        """Candidates a maintainer may have judged instead."""
        return [row for row in self.rows if not row.judged]


def project_choice(scan: Scan | None) -> ProjectChoice | None:
    """The scan's project discovery (no query: it is a field of the scan); None when the scan
    recorded none or found at most one project, judged at the repository root."""
    data: Mapping[str, Any] = scan.discovery if scan is not None else {}
    if not isinstance(data, Mapping) or not isinstance(data.get("candidates"), list):
        return None
    judged = str(data.get("chosen", ""))
    rows = [_row(item, judged) for item in data["candidates"] if isinstance(item, Mapping)]
    if len(rows) <= 1 and not judged:
        return None
    return ProjectChoice(judged, str(data.get("reason", "")), bool(data.get("named")), rows)


def _row(item: Mapping[str, Any], judged: str) -> ProjectRow:
    folder = str(item.get("folder", ""))
    kind = str(item.get("kind", ""))
    return ProjectRow(
        folder=folder,
        kind=KIND_LABELS.get(kind, kind),
        web_app=str(item.get("web_app") or ""),
        lock=str(item.get("lock") or ""),
        judged=folder == judged,
    )
