"""The Python projects the engine found in a repository, as the repository page lists them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from dashboard.models import Repository, Scan
from scanners.discovery import KIND_LABELS


@dataclass(frozen=True, slots=True)
class Sibling:
    """Another row of the same repository (its `url_key`): another service of a monorepo."""

    pk: int
    name: str
    team: str
    folder: str  # the folder it judges: its project folder, or what its latest scan chose


@dataclass(frozen=True, slots=True)
class ProjectRow:
    """One candidate folder of the checkout."""

    folder: str  # repository-relative, '' for the root
    kind: str  # for people: "uv workspace member"
    web_app: str  # "FastAPI app in backend/app/main.py:12", or ""
    lock: str
    judged: bool
    sibling: Sibling | None = None  # the other row that judges this folder, if any

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

    @property
    def unclaimed(self) -> list[ProjectRow]:
        """Candidates no row of the repository judges: each may become a repository row."""
        return [row for row in self.rows if not row.judged and row.sibling is None]


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


def siblings(repository: Repository) -> list[Sibling]:
    """The other rows registered for the same repository, by name (one query)."""
    rows = (
        Repository.objects.filter(url_key=repository.url_key)
        .exclude(pk=repository.pk)
        .select_related("team", "latest_scan")
        .only("name", "project_dir", "team__name", "latest_scan__discovery")
        .order_by("name", "pk")
    )
    return [Sibling(row.pk, row.label, row.team.name, _judged_by(row)) for row in rows]


def _judged_by(row: Repository) -> str:
    """The folder a row judges: the one it names, else the one its latest scan chose."""
    if row.project_dir or row.latest_scan is None:
        return row.project_dir
    discovery = row.latest_scan.discovery
    return str(discovery.get("chosen", "")) if isinstance(discovery, Mapping) else ""


def with_siblings(choice: ProjectChoice, others: list[Sibling]) -> ProjectChoice:
    """The choice with each folder another row judges linked to that row (the first, by
    name, when several do)."""
    by_folder: dict[str, Sibling] = {}
    for sibling in others:
        by_folder.setdefault(sibling.folder, sibling)
    rows = [replace(row, sibling=by_folder.get(row.folder)) for row in choice.rows]
    return replace(choice, rows=rows)
