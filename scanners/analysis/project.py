"""Helpers over the project's manifests and `uv.lock` shared by DEP, FW, VER and other rules.

"Is X declared?" is answered by the dependency model (`scanners.depmodel`, through
`RepoContext.dependencies`), whatever manager declares it; `pyproject_problem` is for the
rules that judge pyproject.toml itself (DEP, tool configuration).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from scanners.deps import Requirement, normalise
from scanners.results import Evidence

if TYPE_CHECKING:
    from scanners.context import RepoContext

_ERROR_LINE = re.compile(r"at line (\d+)")
_PROBE_MICROS = (0, 1, 9, 99, 9999)


def pyproject_problem(ctx: RepoContext) -> Evidence | None:
    """Evidence of why the project's pyproject.toml cannot be used, or None when it parsed."""
    rel = ctx.path("pyproject.toml")
    if not ctx.exists(rel):
        return Evidence(rel, None, "no pyproject.toml at the project root")
    if ctx.pyproject is not None:
        return None
    error = ctx.parse_error(rel)
    if error is None:
        return Evidence(rel, None, "pyproject.toml is binary, unreadable or too large")
    match = _ERROR_LINE.search(error)
    return Evidence(rel, int(match.group(1)) if match else None, f"pyproject.toml is {error}")


def project_table(ctx: RepoContext) -> dict[str, Any]:
    """The `[project]` table of the pyproject, empty when absent or malformed."""
    table = (ctx.pyproject or {}).get("project")
    return table if isinstance(table, dict) else {}


def line_of(text: str | None, needle: str, start: int = 1) -> int | None:
    """1-based number of the first line at or after `start` that contains `needle`."""
    if not text:
        return None
    for number, line in enumerate(text.splitlines()[start - 1 :], start=start):
        if needle in line:
            return number
    return None


def table_line(text: str | None, header: str) -> int | None:
    """Line of a `[header]` table heading (also `[header.sub]`), ignoring spacing."""
    if not text:
        return None
    pattern = re.compile(rf"^\s*\[\s*{re.escape(header)}\s*[\].]")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def manifest_problem(ctx: RepoContext) -> Evidence | None:
    """Why no dependency can be known: no manifest in any manager, or None.

    A parsed pyproject.toml, a requirements file, setup.cfg or setup.py is enough; which
    manager holds the declarations is for the DEP rules alone to judge.
    """
    if ctx.pyproject is not None or ctx.dependencies.manifests:
        return None
    problem = pyproject_problem(ctx)
    if problem is not None and problem.path is not None and not ctx.exists(problem.path):
        return Evidence(
            problem.path,
            None,
            "no dependency manifest (pyproject.toml, requirements*.txt, setup.cfg, setup.py) "
            "at the project root",
        )
    return problem


def missing_evidence(ctx: RepoContext, message: str) -> Evidence:
    """Evidence at the manifest (and line) where a missing runtime dependency belongs."""
    home = ctx.dependencies.runtime_home
    if home is None:
        return Evidence(ctx.path("pyproject.toml"), dependencies_line(ctx), message)
    return Evidence(home.path, home.line, message)


def not_runtime_evidence(ctx: RepoContext, names: tuple[str, ...], message: str) -> Evidence:
    """Evidence for a missing runtime dependency: where it is declared as something else
    (an optional extra, a dev group), else the manifest where runtime ones belong."""
    for decl in ctx.dependencies.named(*names):
        if decl.path is not None:
            return Evidence(decl.path, decl.line, f"{message}: {_kind_label(decl.kind)}")
    return missing_evidence(ctx, message)


def _kind_label(kind: str) -> str:
    prefix, _, label = kind.partition(":")
    if prefix == "optional":
        return f"only an optional dependency (extra {label!r})"
    if prefix == "group":
        return f"only in dependency group {label!r}"
    return "only a dev dependency"


def missing_dev_evidence(ctx: RepoContext, message: str) -> Evidence:
    """Evidence at the manifest (and line) where a missing dev dependency belongs."""
    home = ctx.dependencies.dev_home or ctx.dependencies.runtime_home
    if home is None:
        return Evidence(ctx.path("pyproject.toml"), None, message)
    return Evidence(home.path, home.line, message)


def requirement_line(ctx: RepoContext, raw: str, table: str = "project") -> int | None:
    """Line in pyproject.toml holding the requirement `raw` (the model's line when it has one)."""
    rel = ctx.path("pyproject.toml")
    for decl in ctx.dependencies.declarations:
        in_groups = decl.kind.startswith("group:")
        same = decl.path == rel and decl.raw == raw and decl.line is not None
        if same and (table == "dependency-groups") == in_groups:
            return decl.line
    text = ctx.read_text(rel)
    start = table_line(text, table) or 1
    for quoted in (f'"{raw}"', f"'{raw}'"):
        found = line_of(text, quoted, start) or line_of(text, quoted)
        if found:
            return found
    return line_of(text, raw, start)


def runtime(ctx: RepoContext, *names: str) -> list[Requirement]:
    """Runtime requirements whose normalised name is one of `names`."""
    wanted = {normalise(n) for n in names}
    return [req for req in ctx.runtime_requirements if req.name in wanted]


def declared_anywhere(ctx: RepoContext, name: str) -> bool:
    """Whether `name` is declared in any manager, as any kind (runtime, dev, extra, group)."""
    return bool(ctx.dependencies.named(name))


def locked_versions(ctx: RepoContext, name: str) -> list[Version]:
    """Versions of package `name` that uv.lock resolves (several when the lock forks)."""
    packages = (ctx.uv_lock or {}).get("package")
    out: list[Version] = []
    for pkg in packages if isinstance(packages, list) else []:
        if not isinstance(pkg, dict) or normalise(str(pkg.get("name", ""))) != normalise(name):
            continue
        try:
            out.append(Version(str(pkg.get("version", ""))))
        except InvalidVersion:
            continue
    return out


def _probe_versions(spec: SpecifierSet, bound: Version) -> list[Version]:
    """Final releases below `bound` worth testing against `spec`, boundaries included."""
    probes: set[Version] = set()
    for major in range(bound.major + 1):
        last_minor = bound.minor if major == bound.major else 30
        for minor in range(last_minor):
            probes.update(Version(f"{major}.{minor}.{micro}") for micro in _PROBE_MICROS)
    for item in spec:
        try:
            version = Version(item.version.removesuffix(".*"))
        except InvalidVersion:
            continue
        release = list(version.release)
        probes.add(Version(".".join(map(str, release))))
        probes.add(Version(".".join(map(str, [*release[:-1], release[-1] + 1]))))
        probes.add(Version(".".join(map(str, [*release, 1]))))
    return sorted(v for v in probes if v < bound)


def admitted_below(spec: SpecifierSet, bound: Version) -> Version | None:
    """The lowest final release below `bound` that `spec` admits, or None."""
    probes = _probe_versions(spec, bound)
    return next((v for v in probes if spec.contains(v, prereleases=False)), None)


def dependencies_line(ctx: RepoContext) -> int | None:
    """Line of `dependencies` in the `[project]` table (or of the table), for evidence."""
    text = ctx.read_text(ctx.path("pyproject.toml"))
    start = table_line(text, "project")
    if start is None:
        return None
    return line_of(text, "dependencies", start) or start


def requirement_evidence(ctx: RepoContext, req: Requirement, message: str) -> Evidence:
    """Evidence at the file and line that declare `req`."""
    if req.path is not None:
        return Evidence(req.path, req.line, message)
    return Evidence(ctx.path("pyproject.toml"), requirement_line(ctx, req.raw), message)
