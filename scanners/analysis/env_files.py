"""Where a project's `.env` files would live, so `.gitignore` coverage is probed there.

A `.env` is not tracked (that is the point), so its place is inferred from what is:

- beside each tracked template (`.env.example`, `.env.sample`, `.env.template`, `.env.dist`,
  `example.env`, `env.example`): a service keeps its `.env` next to its template;
- each `env_file:` of a tracked Compose file (relative to that file's folder);
- the project root when nothing says otherwise.

Paths are repository-relative; nothing leaves the checkout (`..` that would climb out is
dropped). Vendored and virtual-environment folders are skipped.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scanners.context import RepoContext

#: At most this many `.env` places are probed (a monorepo of services has a few).
MAX_PLACES = 20
_TEMPLATE = re.compile(
    r"(\.env(\.[\w-]+)*\.(example|sample|template|dist|tpl)(\.[\w-]+)*|example\.env|env\.example)",
    re.IGNORECASE,
)
_COMPOSE = re.compile(r"(docker-)?compose([.-][\w.-]+)?\.ya?ml")
_SKIP = frozenset({"node_modules", ".venv", "venv", "vendor", "third_party", "site-packages"})


def env_file_places(ctx: RepoContext) -> list[str]:
    """Repository-relative paths where a `.env` of the project would live, root first."""
    prefix = f"{ctx.project_rel}/" if ctx.project_rel else ""
    places: list[str] = []
    for name in ctx.files:
        if not name.startswith(prefix) or _SKIP.intersection(PurePosixPath(name).parts):
            continue
        pure = PurePosixPath(name)
        if _TEMPLATE.fullmatch(pure.name):
            places.append(_join(str(pure.parent), ".env"))
        elif _COMPOSE.fullmatch(pure.name):
            places += _compose_env_files(ctx, name)
    found = sorted({p for p in places if p.startswith(prefix)})
    return found[:MAX_PLACES] or [ctx.path(".env")]


def _join(folder: str, name: str) -> str:
    return name if folder in ("", ".") else f"{folder}/{name}"


def _compose_env_files(ctx: RepoContext, compose: str) -> list[str]:
    data = ctx.load_yaml(compose)
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        return []
    folder = str(PurePosixPath(compose).parent)
    out = []
    for service in services.values():
        for entry in _as_list(service.get("env_file") if isinstance(service, dict) else None):
            path = entry.get("path") if isinstance(entry, dict) else entry
            if not isinstance(path, str) or "$" in path:
                continue
            name = PurePosixPath(path).name
            if not (name == ".env" or name.startswith(".env.") or name.endswith(".env")):
                continue
            if _TEMPLATE.fullmatch(name):
                continue  # a tracked template, not a secret file
            joined = posixpath.normpath(_join(folder, path.removeprefix("./")))
            if not joined.startswith(("../", "/")) and joined != "..":
                out.append(joined)
    return out


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [value] if value is not None else []
