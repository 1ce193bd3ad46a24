"""Compare the requirements a pyproject declares with those recorded in uv.lock (staleness)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from scanners.deps import normalise, parse_requirement

if TYPE_CHECKING:
    pass

#: Keys of a lock entry that replace a version specifier with a source (path, git, url).
_SOURCE_KEYS = ("url", "git", "path", "editable", "directory")


@dataclass(frozen=True, slots=True, order=True)
class LockedRequirement:
    """A requirement reduced to what both files record: group, name, extras, specifier."""

    group: str  # "" for runtime requirements, else the dependency group's name
    name: str
    extras: tuple[str, ...]
    specifier: str  # normalised; "*" when the entry points at a source instead
    raw: str = field(default="", compare=False)  # the declaration as written, for evidence

    def label(self) -> str:
        """`name[extra]>=1` with its group, for messages."""
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        spec = "" if self.specifier in ("", "*") else self.specifier
        where = f" (group {self.group})" if self.group else ""
        return f"{self.name}{extras}{spec}{where}"


def _normal_spec(raw: str) -> str:
    try:
        return ",".join(sorted(str(s) for s in SpecifierSet(raw)))
    except InvalidSpecifier:
        return raw.replace(" ", "")


def _from_pep508(group: str, raws: Iterable[object]) -> set[LockedRequirement]:
    out = set()
    for raw in raws:
        req = parse_requirement(raw) if isinstance(raw, str) else None
        if req is None:
            continue
        direct = "@" in req.raw.split(";", 1)[0]
        spec = "*" if direct else _normal_spec(req.specifier)
        extras = tuple(sorted(normalise(e) for e in req.extras))
        out.add(LockedRequirement(group, req.name, extras, spec, req.raw))
    return out


def _from_lock(group: str, entries: object) -> set[LockedRequirement]:
    out = set()
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        extras = entry.get("extras") or entry.get("extra") or []
        extras = [normalise(str(e)) for e in extras] if isinstance(extras, list) else []
        has_source = any(key in entry for key in _SOURCE_KEYS)
        spec = "*" if has_source else _normal_spec(str(entry.get("specifier", "")))
        out.add(LockedRequirement(group, normalise(entry["name"]), tuple(sorted(extras)), spec))
    return out


def _expand_group(groups: dict[str, Any], name: str, seen: frozenset[str]) -> list[object]:
    """A dependency group's strings with `{include-group = ...}` entries flattened."""
    items: list[object] = []
    for item in groups.get(name, []) if isinstance(groups.get(name), list) else []:
        included = item.get("include-group") if isinstance(item, dict) else None
        if isinstance(included, str) and included not in seen:
            items.extend(_expand_group(groups, included, seen | {included}))
        elif isinstance(item, str):
            items.append(item)
    return items


def declared(pyproject: dict[str, Any]) -> set[LockedRequirement]:
    """Runtime, optional and group requirements as uv records them in the lock's metadata."""
    raw_project = pyproject.get("project")
    project: dict[str, Any] = raw_project if isinstance(raw_project, dict) else {}
    deps = project.get("dependencies")
    out = _from_pep508("", deps if isinstance(deps, list) else [])
    optional = project.get("optional-dependencies")
    for items in (optional if isinstance(optional, dict) else {}).values():
        out |= _from_pep508("", items if isinstance(items, list) else [])
    groups = pyproject.get("dependency-groups")
    groups = groups if isinstance(groups, dict) else {}
    for name in groups:
        out |= _from_pep508(normalise(name), _expand_group(groups, name, frozenset({name})))
    tool = pyproject.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    legacy = uv.get("dev-dependencies") if isinstance(uv, dict) else None
    out |= _from_pep508("dev", legacy if isinstance(legacy, list) else [])
    return out


def root_package(
    lock: dict[str, Any], project_name: str | None, folder: str = "."
) -> dict[str, Any] | None:
    """The lock entry of the project itself: source `editable`/`virtual` = `folder`, or its name.

    `folder` is the project's folder relative to the lock's: "." for the lock's own project,
    the member's path (`backend`) for a uv workspace member judged against its root's lock.
    """
    packages = lock.get("package")
    entries = [p for p in packages if isinstance(p, dict)] if isinstance(packages, list) else []
    for pkg in entries:
        source = pkg.get("source")
        if isinstance(source, dict) and folder in (source.get("editable"), source.get("virtual")):
            return pkg
    wanted = normalise(project_name) if project_name else None
    return next((p for p in entries if normalise(str(p.get("name", ""))) == wanted), None)


def recorded(root: dict[str, Any]) -> set[LockedRequirement] | None:
    """Requirements recorded in the root package's `[package.metadata]`; None when absent."""
    metadata = root.get("metadata")
    if not isinstance(metadata, dict):
        return None
    out = _from_lock("", metadata.get("requires-dist"))
    dev = metadata.get("requires-dev")
    for group, entries in (dev if isinstance(dev, dict) else {}).items():
        out |= _from_lock(normalise(str(group)), entries)
    return out
