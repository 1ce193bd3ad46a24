"""The demo marker: `VAR_DIR/demo.json` says demo data is present and what belongs to it.

A file, not a table: the demo needs no migration, and deleting `var/` forgets it along with the
embedded database. Demo mode also requires the marker's teams to exist, so a marker left
behind by a database reset (PostgreSQL) turns no banner on.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings

from dashboard.models import Team

BUILDING = "building"
READY = "ready"


@dataclass
class Marker:
    """What the demo created, so `--reset` removes exactly that."""

    status: str = BUILDING
    seed: int = 0
    teams: list[str] = field(default_factory=list)  # slugs
    users: list[str] = field(default_factory=list)  # usernames the demo created
    repos_dir: str = ""
    created_at: str = ""


def marker_path() -> Path:
    """Where the marker lives."""
    return Path(settings.VAR_DIR) / "demo.json"


def repos_dir() -> Path:
    """Where the demo's git repositories are generated."""
    return Path(settings.VAR_DIR) / "demo-repos"


def read_marker() -> Marker | None:
    """The marker, or None when absent or unreadable."""
    try:
        data = json.loads(marker_path().read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    known = Marker.__dataclass_fields__
    return Marker(**{k: v for k, v in data.items() if k in known})


def write_marker(marker: Marker) -> None:
    """Write the marker atomically."""
    path = marker_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(marker), indent=2), "utf-8")
    tmp.replace(path)


def remove_marker() -> None:
    """Forget the demo."""
    marker_path().unlink(missing_ok=True)


def demo_present() -> bool:
    """Whether demo data is in the database (a marker whose teams exist)."""
    marker = read_marker()
    return bool(marker and marker.teams and Team.objects.filter(slug__in=marker.teams).exists())
