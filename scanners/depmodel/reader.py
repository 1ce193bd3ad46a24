"""Reads every manifest of the project into one `DependencyModel`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanners.depmodel.model import (
    Builder,
    DependencyModel,
    Location,
    counts_as_dev,
    counts_as_runtime,
)
from scanners.depmodel.pyproject import read_pyproject
from scanners.depmodel.requirements_files import (
    is_generated,
    read_generated,
    read_requirement_files,
    requirement_roots,
)
from scanners.depmodel.setuptools_files import read_setup_cfg, read_setup_py
from scanners.depmodel.tomllines import TomlLines, subtable

if TYPE_CHECKING:
    from scanners.context import RepoContext


def read_dependency_model(ctx: RepoContext) -> DependencyModel:
    """The dependency model of the project at `ctx.project_rel` (see `scanners.depmodel`)."""
    builder = Builder()
    pyproject_rel = ctx.path("pyproject.toml")
    data = ctx.pyproject
    lines = TomlLines(ctx.read_text(pyproject_rel) or "" if isinstance(data, dict) else "")
    if isinstance(data, dict):
        builder.manifests.append(pyproject_rel)
        read_pyproject(builder, data, lines, pyproject_rel, ctx)
    roots = requirement_roots(ctx)
    generated = [root for root in roots if is_generated(ctx.read_text(root[0]))]
    read_requirement_files(builder, ctx, [root for root in roots if root not in generated])
    for name, reader in (("setup.cfg", read_setup_cfg), ("setup.py", read_setup_py)):
        rel = ctx.path(name)
        if ctx.exists(rel):
            reader(builder, ctx, rel)
    read_generated(builder, ctx, generated)
    for extra, path, line in builder.self_extras:
        if extra not in builder.extras:
            builder.note(path, line, f"unknown extra {extra!r} of the project itself")
    return DependencyModel(
        declarations=tuple(builder.declarations),
        manifests=tuple(dict.fromkeys(builder.manifests)),
        notes=tuple(builder.notes),
        python=builder.python,
        runtime_home=_home(builder, data, lines, pyproject_rel, runtime=True),
        dev_home=_home(builder, data, lines, pyproject_rel, runtime=False),
    )


def _home(
    builder: Builder, data: object, lines: TomlLines, pyproject_rel: str, *, runtime: bool
) -> Location | None:
    """Where a missing runtime (or dev) dependency belongs: the project's own manifest."""
    pyproject = data if isinstance(data, dict) else None
    if runtime and pyproject is not None and isinstance(pyproject.get("project"), dict):
        line = lines.key("project", "dependencies") or lines.header("project")
        return Location(pyproject_rel, line)
    if runtime and pyproject is not None and subtable(pyproject, "tool", "poetry"):
        line = lines.header("tool.poetry.dependencies") or lines.header("tool.poetry")
        return Location(pyproject_rel, line)
    wanted = counts_as_runtime if runtime else counts_as_dev
    for decl in builder.declarations:
        if wanted(decl.kind) and decl.path:
            # the table that holds its kind already (a dev group, a requirements file)
            on_pyproject = decl.path == pyproject_rel and decl.line is not None
            return Location(decl.path, lines.header_before(decl.line) if on_pyproject else None)
    if pyproject is not None:
        line = lines.header("dependency-groups") if not runtime else None
        return Location(pyproject_rel, line or lines.header("project"))
    return Location(builder.manifests[0], None) if builder.manifests else None
