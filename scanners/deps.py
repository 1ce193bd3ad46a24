"""Parsing of dependency specifiers (PEP 508) without ever trusting them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as _PkgRequirement
from packaging.specifiers import SpecifierSet

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalise(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True, slots=True)
class Requirement:
    """A dependency as declared: normalised name, extras, version specifier, raw text.

    Built by `scanners.depmodel`, it also says where it was declared (`path`, `line`,
    repository-relative), in which manager, and as what `kind`: `runtime`, `dev`,
    `optional:<extra>` or `group:<name>`.
    """

    name: str
    extras: frozenset[str]
    specifier: str
    raw: str
    markers: str = ""
    kind: str = "runtime"
    path: str | None = None
    line: int | None = None
    manager: str = ""

    def specifier_set(self) -> SpecifierSet:
        """The version specifier; empty when it could not be parsed."""
        try:
            return SpecifierSet(self.specifier)
        except ValueError:
            return SpecifierSet()


def parse_strict(raw: str) -> Requirement | None:
    """Parse one PEP 508 requirement; None when it is not one (no best-effort name)."""
    try:
        req = _PkgRequirement(raw)
    except InvalidRequirement:
        return None
    return Requirement(
        normalise(req.name),
        frozenset(e.lower() for e in req.extras),
        str(req.specifier),
        raw,
        str(req.marker) if req.marker is not None else "",
    )


def parse_requirement(raw: str) -> Requirement | None:
    """Parse one requirement string; a best-effort name when it is not valid PEP 508."""
    req = parse_strict(raw)
    if req is not None:
        return req
    match = _NAME.match(raw)
    if not match:
        return None
    return Requirement(normalise(match.group(1)), frozenset(), "", raw)


def parse_requirements(raws: Iterable[object]) -> list[Requirement]:
    """Parse a list of requirement strings, skipping non-strings and blanks."""
    out = []
    for raw in raws:
        if isinstance(raw, str) and raw.strip():
            req = parse_requirement(raw)
            if req is not None:
                out.append(req)
    return out
