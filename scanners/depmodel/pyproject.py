"""pyproject.toml: PEP 621, dependency groups, uv, PDM, Hatch, setuptools-dynamic files."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from scanners.depmodel.model import Builder, PythonConstraint
from scanners.depmodel.poetry import read_poetry
from scanners.depmodel.requirements_files import read_requirement_files
from scanners.depmodel.tomllines import TomlLines, subtable
from scanners.deps import normalise

if TYPE_CHECKING:
    from scanners.context import RepoContext


def read_pyproject(
    b: Builder, data: dict[str, Any], lines: TomlLines, rel: str, ctx: RepoContext
) -> None:
    """Every dependency table of a parsed pyproject.toml (Poetry's through `read_poetry`)."""
    project = subtable(data, "project")
    name = project.get("name") or subtable(data, "tool", "poetry").get("name")
    b.project_name = normalise(name) if isinstance(name, str) else None
    optional = project.get("optional-dependencies")
    b.extras.update(normalise(k) for k in (optional if isinstance(optional, dict) else {}))
    b.extras.update(normalise(k) for k in subtable(data, "tool", "poetry", "extras"))
    _read_array(b, project.get("dependencies"), "runtime", rel, lines, ("project", "dependencies"))
    for extra, items in (optional if isinstance(optional, dict) else {}).items():
        where = ("project.optional-dependencies", extra)
        _read_array(b, items, f"optional:{normalise(extra)}", rel, lines, where)
    _read_dependency_groups(b, subtable(data, "dependency-groups"), rel, lines)
    uv = subtable(data, "tool", "uv")
    _read_array(b, uv.get("dev-dependencies"), "dev", rel, lines, ("tool.uv", "dev-dependencies"))
    for group, items in subtable(data, "tool", "pdm", "dev-dependencies").items():
        _read_array(b, items, "dev", rel, lines, ("tool.pdm.dev-dependencies", group))
    for env, table in subtable(data, "tool", "hatch", "envs").items():
        for key in ("dependencies", "extra-dependencies"):
            items = table.get(key) if isinstance(table, dict) else None
            _read_array(b, items, "dev", rel, lines, (f"tool.hatch.envs.{env}", key))
    read_poetry(b, subtable(data, "tool", "poetry"), rel, lines)
    _read_setuptools_dynamic(b, data, rel, lines, ctx)
    requires_python = project.get("requires-python")
    if isinstance(requires_python, str):
        line = lines.key("project", "requires-python")
        b.python = PythonConstraint(requires_python, requires_python, rel, line, "requires-python")


def _read_array(
    b: Builder,
    items: object,
    kind: str,
    rel: str,
    lines: TomlLines,
    where: tuple[str, str],
    manager: str = "pyproject",
) -> None:
    if items is None:
        return
    if not isinstance(items, list):
        b.note(rel, lines.key(*where), f"{where[0]}.{where[1]} is not a list: not read")
        return
    for raw, line in zip(items, lines.entries(*where, items), strict=True):
        b.add_pep508(raw, kind, rel, line, manager)


def _read_dependency_groups(b: Builder, groups: dict[str, Any], rel: str, lines: TomlLines) -> None:
    """Each group's entries under its own kind, included groups' entries under it too."""
    by_name = {normalise(name): (name, items) for name, items in groups.items()}

    def expand(name: str, seen: tuple[str, ...]) -> Iterator[tuple[object, int | None]]:
        original, items = by_name[name]
        where = ("dependency-groups", original)
        listed = items if isinstance(items, list) else []
        for item, line in zip(listed, lines.entries(*where, listed), strict=True):
            if isinstance(item, dict) and "include-group" in item:
                target = normalise(str(item["include-group"]))
                if target not in by_name:
                    b.note(rel, lines.key(*where), f"include-group {target!r}: no such group")
                elif target in seen:
                    b.note(rel, lines.key(*where), f"include-group {target!r}: a cycle")
                else:
                    yield from expand(target, (*seen, target))
            else:
                yield item, line

    for name, (original, items) in by_name.items():
        if not isinstance(items, list):
            b.note(rel, lines.key("dependency-groups", original), f"group {name!r} is not a list")
            continue
        for raw, line in expand(name, (name,)):
            b.add_pep508(raw, f"group:{name}", rel, line, "pyproject")


def _read_setuptools_dynamic(
    b: Builder, data: dict[str, Any], rel: str, lines: TomlLines, ctx: RepoContext
) -> None:
    """`dynamic = ["dependencies"]` read from files named in `[tool.setuptools.dynamic]`."""
    spec = subtable(data, "tool", "setuptools", "dynamic", "dependencies").get("file")
    files = [spec] if isinstance(spec, str) else spec if isinstance(spec, list) else []
    roots = [
        (posixpath.normpath(posixpath.join(posixpath.dirname(rel), f)), "runtime")
        for f in files
        if isinstance(f, str)
    ]
    if roots:
        read_requirement_files(b, ctx, roots)
