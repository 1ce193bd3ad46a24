"""One dependency model: every declaration of a project, in every manager, normalised.

A rule that asks "is X declared?" asks this model (through `RepoContext.runtime_requirements`,
`dev_requirements` and `scanners.analysis.project`), never one manager's table: a Poetry,
requirements-file, PDM, Hatch or setuptools project declares its libraries as truly as a
uv one. Judging the manager itself is the DEP rules' job alone.

Sources, all relative to the project root:

- `pyproject.toml`: `[project].dependencies` (runtime), `[project.optional-dependencies]`
  (`optional:<extra>`), `[dependency-groups]` (`group:<name>`, `{include-group = ...}`
  followed), `[tool.uv] dev-dependencies`, `[tool.pdm.dev-dependencies]`, Hatch environments'
  `dependencies`/`extra-dependencies` (all `dev`), Poetry's `[tool.poetry.dependencies]`
  (runtime, `python` read as the Python constraint), `[tool.poetry.group.<g>.dependencies]`
  (`group:<g>`) and `[tool.poetry.dev-dependencies]` (`dev`), Poetry's `^ ~ *` syntax and
  table forms translated to PEP 440;
- `requirements*.txt` (also `*-requirements.txt`) and `requirements/*.txt`, with `-r` includes
  followed inside the checkout only (cycles guarded), `-c` constraints ignored, pip options,
  `-e`, URLs, comments and continuations understood; files whose name says dev, test,
  lint, docs... are dev, the others runtime, and a file only a dev file includes is dev;
- `setup.cfg` `[options] install_requires` / `[options.extras_require]`, and `setup.py`'s
  `install_requires=` / `extras_require=` / `tests_require=` when they are literals (also
  through a module-level name), read from the AST: setup.py is never executed.

Runtime means what a plain install of the service brings: `runtime` declarations and the
dependency groups (uv or Poetry) whose name is not a development word (`dev`, `test`,
`lint`, `docs`, `typing`, ... see `DEV_WORDS`): a project that keeps its application
libraries in `[dependency-groups] app = [...]` with empty `[project].dependencies` declares
them. Dev means `dev` declarations and groups or extras named with a development word.
Other extras are neither, but still "declared anywhere".

Nothing here raises on a malformed manifest: entries that cannot be read are skipped and
reported as notes, as are unknown extras and groups and computed `setup.py` arguments.
"""

from __future__ import annotations

import ast
import configparser
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion, Version

from scanners.deps import Requirement, normalise, parse_strict

if TYPE_CHECKING:
    from scanners.context import RepoContext

#: Words that make a group, extra, environment or requirements file a development one.
DEV_WORDS = frozenset(
    {
        "dev",
        "devel",
        "develop",
        "development",
        "test",
        "tests",
        "testing",
        "e2e",
        "lint",
        "linting",
        "linters",
        "docs",
        "doc",
        "documentation",
        "typing",
        "types",
        "typecheck",
        "mypy",
        "format",
        "formatting",
        "style",
        "ci",
        "qa",
        "check",
        "checks",
        "coverage",
        "bench",
        "benchmark",
        "benchmarks",
        "perf",
        "tools",
        "tooling",
        "debug",
        "local",
        "precommit",
        "pre-commit",
        "security",
        "audit",
        "notebook",
        "notebooks",
        "jupyter",
        "release",
    }
)
#: At most this many requirements files are read through `-r` includes.
MAX_REQUIREMENT_FILES = 64
_REQUIREMENTS_NAME = re.compile(r"^(?:[\w.-]*[-_.])?requirements(?:[-_.][\w.-]*)?\.txt$", re.I)
_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_POETRY_TOKEN = re.compile(
    r"\s*(?P<op>\^|~=|~|===|==|!=|>=|<=|>|<|=)?\s*(?P<version>\*|[0-9][0-9A-Za-z.*+!-]*)\s*,?"
)
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_OPTION = re.compile(r"^(-[a-zA-Z]|--[a-z-]+)(?:\s*=\s*|\s+|(?<=^-[a-zA-Z]))(.*)$")
_INCLUDE = frozenset({"-r", "--requirement"})
_CONSTRAINT = frozenset({"-c", "--constraint"})
_EDITABLE = frozenset({"-e", "--editable"})


def is_dev_label(label: str) -> bool:
    """Whether a group, extra, environment or file name is a development one."""
    label = label.lower()
    return label in DEV_WORDS or any(t in DEV_WORDS for t in re.split(r"[-_.\s]+", label))


def counts_as_runtime(kind: str) -> bool:
    """A `runtime` declaration, or one in a group whose name is not a development word."""
    if kind == "runtime":
        return True
    return kind.startswith("group:") and not is_dev_label(kind.removeprefix("group:"))


def counts_as_dev(kind: str) -> bool:
    """A `dev` declaration, or one in a group or extra named with a development word."""
    if kind == "dev":
        return True
    prefix, _, label = kind.partition(":")
    return prefix in ("group", "optional") and is_dev_label(label)


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a manifest (repository-relative path, 1-based line or None)."""

    path: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class ModelNote:
    """Something the model skipped or could not judge, and where."""

    path: str
    line: int | None
    message: str


@dataclass(frozen=True, slots=True)
class PythonConstraint:
    """The Python versions the project declares it supports, as a PEP 440 specifier."""

    specifier: str
    raw: str
    path: str
    line: int | None
    source: str  # "requires-python", "Poetry python", "python_requires"


@dataclass(frozen=True)
class DependencyModel:
    """Every dependency declaration of one project, with where they live."""

    declarations: tuple[Requirement, ...] = ()
    manifests: tuple[str, ...] = ()  # repository-relative, in reading order
    notes: tuple[ModelNote, ...] = ()
    python: PythonConstraint | None = None
    runtime_home: Location | None = None  # where a runtime dependency would be added
    dev_home: Location | None = None  # where a dev dependency would be added

    def runtime(self) -> list[Requirement]:
        """Declarations a plain install of the project brings (see the module docstring)."""
        return [d for d in self.declarations if counts_as_runtime(d.kind)]

    def dev(self) -> list[Requirement]:
        """Development declarations."""
        return [d for d in self.declarations if counts_as_dev(d.kind)]

    def named(self, *names: str) -> list[Requirement]:
        """Every declaration (any kind) of one of `names`."""
        wanted = {normalise(n) for n in names}
        return [d for d in self.declarations if d.name in wanted]


# ----- TOML line locator ----------------------------------------------------------------------
class TomlLines:
    """Line numbers of tables, keys and strings in a TOML text (tomli gives none)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: list[tuple[int, str]] = []
        for number, line in enumerate(self.lines, start=1):
            match = _HEADER.match(line)
            if match:
                self.headers.append((number, _table_name(match.group(1))))

    def table(self, name: str) -> tuple[int, int] | None:
        """(header line, line after the table's last line) of `[name]`, or None."""
        wanted = _table_name(name)
        for index, (number, header) in enumerate(self.headers):
            if header == wanted:
                end = (
                    self.headers[index + 1][0]
                    if index + 1 < len(self.headers)
                    else len(self.lines) + 1
                )
                return number, end
        return None

    def key(self, table: str, key: str) -> int | None:
        """Line of `key = ...` directly inside `[table]` (names compared PEP 503-normalised)."""
        span = self.table(table)
        if span is None:
            return None
        wanted = normalise(key)
        for number in range(span[0] + 1, span[1]):
            left, sep, _ = self.lines[number - 1].partition("=")
            if sep and normalise(left.strip().strip("\"'")) == wanted:
                return number
        return None

    def string(self, raw: str, start: int | None, end: int | None = None) -> int | None:
        """First line in [start, end) that holds `raw` quoted."""
        if start is None:
            return None
        stop = min(end or len(self.lines) + 1, len(self.lines) + 1)
        for number in range(start, stop):
            line = self.lines[number - 1]
            if f'"{raw}"' in line or f"'{raw}'" in line:
                return number
        return None

    def entry(self, table: str, key: str, raw: str) -> int | None:
        """Line of the string `raw` in the array `key` of `[table]` (else the key, the table)."""
        span = self.table(table)
        if span is None:
            return None
        key_line = self.key(table, key)
        return self.string(raw, key_line or span[0], span[1]) or key_line or span[0]


def _table_name(header: str) -> str:
    parts = [p.strip().strip("\"'") for p in header.split(".")]
    return ".".join(parts)


# ----- the model's builder ----------------------------------------------------------------
@dataclass
class _Builder:
    """Collects declarations and notes while the manifests are read."""

    declarations: list[Requirement] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    notes: list[ModelNote] = field(default_factory=list)
    python: PythonConstraint | None = None
    project_name: str | None = None
    extras: set[str] = field(default_factory=set)
    self_extras: list[tuple[str, str, int | None]] = field(default_factory=list)

    def note(self, path: str, line: int | None, message: str) -> None:
        note = ModelNote(path, line, message)
        if note not in self.notes:  # an included group is read once per includer
            self.notes.append(note)

    def add(self, req: Requirement, kind: str, path: str, line: int | None, manager: str) -> None:
        if self.project_name and req.name == self.project_name:
            # `myapp[extra]`: the project's own extras, not a dependency.
            self.self_extras.extend((extra, path, line) for extra in sorted(req.extras))
            return
        self.declarations.append(replace(req, kind=kind, path=path, line=line, manager=manager))

    def add_pep508(self, raw: object, kind: str, path: str, line: int | None, manager: str) -> None:
        """One PEP 508 string; anything else is skipped with a note."""
        req = parse_strict(raw) if isinstance(raw, str) else None
        if req is None:
            self.note(path, line, f"not a valid requirement, skipped: {str(raw)[:80]!r}")
            return
        self.add(req, kind, path, line, manager)


def read_dependency_model(ctx: RepoContext) -> DependencyModel:
    """The dependency model of the project at `ctx.project_rel` (see the module docstring)."""
    builder = _Builder()
    pyproject_rel = ctx.path("pyproject.toml")
    data = ctx.pyproject
    text = ctx.read_text(pyproject_rel) or ""
    if isinstance(data, dict):
        builder.manifests.append(pyproject_rel)
        _read_pyproject(builder, data, TomlLines(text), pyproject_rel, ctx)
    _read_requirement_files(builder, ctx, _requirement_roots(ctx))
    for name, reader in (("setup.cfg", _read_setup_cfg), ("setup.py", _read_setup_py)):
        rel = ctx.path(name)
        if ctx.exists(rel):
            reader(builder, ctx, rel)
    for extra, path, line in builder.self_extras:
        if extra not in builder.extras:
            builder.note(path, line, f"unknown extra {extra!r} of the project itself")
    return DependencyModel(
        declarations=tuple(builder.declarations),
        manifests=tuple(dict.fromkeys(builder.manifests)),
        notes=tuple(builder.notes),
        python=builder.python,
        runtime_home=_home(builder, data, text, pyproject_rel, runtime=True),
        dev_home=_home(builder, data, text, pyproject_rel, runtime=False),
    )


def _home(
    builder: _Builder, data: object, text: str, pyproject_rel: str, *, runtime: bool
) -> Location | None:
    """Where a missing runtime (or dev) dependency belongs: the project's own manifest."""
    lines = TomlLines(text)
    if isinstance(data, dict):
        tool = data.get("tool")
        poetry = tool.get("poetry") if isinstance(tool, dict) else None
        project = data.get("project")
        if runtime and isinstance(project, dict):
            return Location(pyproject_rel, lines.key("project", "dependencies") or _first(lines))
        if not runtime and "dependency-groups" in data:
            return Location(pyproject_rel, (lines.table("dependency-groups") or (None,))[0])
        if isinstance(poetry, dict):
            table = "tool.poetry.dependencies" if runtime else "tool.poetry.group.dev.dependencies"
            span = lines.table(table) or lines.table("tool.poetry")
            return Location(pyproject_rel, span[0] if span else None)
    wanted = counts_as_runtime if runtime else counts_as_dev
    for decl in builder.declarations:
        if wanted(decl.kind) and decl.path and decl.manager != "pyproject":
            return Location(decl.path, None)
    if isinstance(data, dict):
        return Location(pyproject_rel, _first(lines))
    return Location(builder.manifests[0], None) if builder.manifests else None


def _first(lines: TomlLines) -> int | None:
    span = lines.table("project")
    return span[0] if span else None


# ----- pyproject.toml -------------------------------------------------------------------------
def _table(data: object, *keys: str) -> dict[str, Any]:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _read_pyproject(
    b: _Builder, data: dict[str, Any], lines: TomlLines, rel: str, ctx: RepoContext
) -> None:
    project = _table(data, "project")
    name = project.get("name") or _table(data, "tool", "poetry").get("name")
    b.project_name = normalise(name) if isinstance(name, str) else None
    optional = project.get("optional-dependencies")
    b.extras.update(normalise(k) for k in (optional if isinstance(optional, dict) else {}))
    b.extras.update(normalise(k) for k in _table(data, "tool", "poetry", "extras"))
    _read_array(b, project.get("dependencies"), "runtime", rel, lines, ("project", "dependencies"))
    for extra, items in (optional if isinstance(optional, dict) else {}).items():
        where = ("project.optional-dependencies", extra)
        _read_array(b, items, f"optional:{normalise(extra)}", rel, lines, where)
    _read_dependency_groups(b, _table(data, "dependency-groups"), rel, lines)
    uv = _table(data, "tool", "uv")
    _read_array(b, uv.get("dev-dependencies"), "dev", rel, lines, ("tool.uv", "dev-dependencies"))
    for group, items in _table(data, "tool", "pdm", "dev-dependencies").items():
        _read_array(b, items, "dev", rel, lines, ("tool.pdm.dev-dependencies", group))
    for env, table in _table(data, "tool", "hatch", "envs").items():
        for key in ("dependencies", "extra-dependencies"):
            items = table.get(key) if isinstance(table, dict) else None
            _read_array(b, items, "dev", rel, lines, (f"tool.hatch.envs.{env}", key))
    _read_poetry(b, _table(data, "tool", "poetry"), rel, lines)
    _read_setuptools_dynamic(b, data, rel, lines, ctx)
    requires_python = project.get("requires-python")
    if isinstance(requires_python, str):
        line = lines.key("project", "requires-python")
        b.python = PythonConstraint(requires_python, requires_python, rel, line, "requires-python")


def _read_array(
    b: _Builder,
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
    for raw in items:
        line = lines.entry(*where, raw) if isinstance(raw, str) else lines.key(*where)
        b.add_pep508(raw, kind, rel, line, manager)


def _read_dependency_groups(
    b: _Builder, groups: dict[str, Any], rel: str, lines: TomlLines
) -> None:
    """Each group's entries under its own kind, included groups' entries under it too."""
    by_name = {normalise(name): (name, items) for name, items in groups.items()}

    def expand(name: str, seen: tuple[str, ...]) -> Iterator[tuple[object, int | None]]:
        original, items = by_name[name]
        where = ("dependency-groups", original)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and "include-group" in item:
                target = normalise(str(item["include-group"]))
                if target not in by_name:
                    b.note(rel, lines.key(*where), f"include-group {target!r}: no such group")
                elif target in seen:
                    b.note(rel, lines.key(*where), f"include-group {target!r}: a cycle")
                else:
                    yield from expand(target, (*seen, target))
            else:
                yield (
                    item,
                    lines.entry(*where, item) if isinstance(item, str) else lines.key(*where),
                )

    for name, (original, items) in by_name.items():
        if not isinstance(items, list):
            b.note(rel, lines.key("dependency-groups", original), f"group {name!r} is not a list")
            continue
        for raw, line in expand(name, (name,)):
            b.add_pep508(raw, f"group:{name}", rel, line, "pyproject")


def _read_setuptools_dynamic(
    b: _Builder, data: dict[str, Any], rel: str, lines: TomlLines, ctx: RepoContext
) -> None:
    """`dynamic = ["dependencies"]` read from files named in `[tool.setuptools.dynamic]`."""
    spec = _table(data, "tool", "setuptools", "dynamic", "dependencies").get("file")
    files = [spec] if isinstance(spec, str) else spec if isinstance(spec, list) else []
    roots = [
        (posixpath.normpath(posixpath.join(posixpath.dirname(rel), f)), "runtime")
        for f in files
        if isinstance(f, str)
    ]
    if roots:
        _read_requirement_files(b, ctx, roots)


# ----- Poetry -----------------------------------------------------------------------------------
def poetry_specifier(constraint: str) -> str | None:
    """A Poetry version constraint (`^1.2`, `~1.2`, `*`, `>=1 <2`) as PEP 440; None if unreadable.

    `||` alternatives have no PEP 440 form: None.
    """
    constraint = constraint.strip()
    if "||" in constraint or "|" in constraint:
        return None
    out: list[str] = []
    position = 0
    while position < len(constraint):
        match = _POETRY_TOKEN.match(constraint, position)
        if match is None or match.end() == position:
            return None
        position = match.end()
        clause = _poetry_clause(match.group("op") or "", match.group("version"))
        if clause is None:
            return None
        out.extend(clause)
    return ",".join(out)


def _poetry_clause(op: str, version: str) -> list[str] | None:
    if version == "*":
        return []
    if op in ("^", "~"):
        try:
            release = list(Version(version.removesuffix(".*")).release)
        except InvalidVersion:
            return None
        given = version.removesuffix(".*").count(".") + 1
        release = release[:given]
        if op == "^":
            nonzero = [i for i, part in enumerate(release) if part]
            bump = nonzero[0] if nonzero else len(release) - 1
        else:
            bump = 0 if len(release) == 1 else 1
        upper = [*release[:bump], release[bump] + 1]
        return [f">={version}", f"<{'.'.join(map(str, upper))}"]
    if op in ("", "="):
        return [f"=={version}"]
    return [f"{op}{version}"]


def _poetry_entry(name: str, value: object) -> tuple[str, list[str], str, bool] | str:
    """(specifier, extras, markers, optional) of one Poetry dependency value, or a problem."""
    if isinstance(value, str):
        spec = poetry_specifier(value)
        return (spec, [], "", False) if spec is not None else f"constraint {value!r} not read"
    if not isinstance(value, dict):
        return f"{name}: not a string or a table"
    version = value.get("version", "*")
    spec = poetry_specifier(version) if isinstance(version, str) else None
    if spec is None:
        spec = ""  # git, path, url sources, or a constraint with no PEP 440 form
    extras = value.get("extras", [])
    markers = value.get("markers", "")
    python = value.get("python")
    if isinstance(python, str) and not markers:
        python_spec = poetry_specifier(python)
        if python_spec:
            markers = " and ".join(
                f'python_version {c[: len(c) - len(c.lstrip("<>=!~"))]} "{c.lstrip("<>=!~")}"'
                for c in python_spec.split(",")
            )
    return (
        spec,
        [e for e in extras if isinstance(e, str)] if isinstance(extras, list) else [],
        markers if isinstance(markers, str) else "",
        value.get("optional") is True,
    )


def _poetry_line(lines: TomlLines, table: str, name: str) -> int | None:
    found = lines.key(table, name)
    if found is None:
        span = lines.table(f"{table}.{name}")
        found = span[0] if span else None
    if found is None:
        span = lines.table(table)
        found = span[0] if span else None
    return found


def _poetry_tables(poetry: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(table name, table, kind) of every Poetry dependency table."""
    tables: list[tuple[str, dict[str, Any], str]] = [
        ("tool.poetry.dependencies", _table(poetry, "dependencies"), "runtime"),
        ("tool.poetry.dev-dependencies", _table(poetry, "dev-dependencies"), "dev"),
    ]
    for group, table in _table(poetry, "group").items():
        deps = table.get("dependencies") if isinstance(table, dict) else None
        if isinstance(deps, dict):
            kind = f"group:{normalise(group)}"
            tables.append((f"tool.poetry.group.{group}.dependencies", deps, kind))
    return tables


def _poetry_python(b: _Builder, value: object, where: Location) -> None:
    spec = poetry_specifier(value) if isinstance(value, str) else None
    if isinstance(value, str) and spec is not None and b.python is None:
        b.python = PythonConstraint(spec, value, where.path, where.line, "Poetry python")


def _read_poetry(b: _Builder, poetry: dict[str, Any], rel: str, lines: TomlLines) -> None:
    extras_of: dict[str, list[str]] = {}
    for extra, members in _table(poetry, "extras").items():
        for member in members if isinstance(members, list) else []:
            extras_of.setdefault(normalise(str(member)), []).append(normalise(extra))
    declared: set[str] = set()
    for table_name, deps, kind in _poetry_tables(poetry):
        for name, value in deps.items():
            line = _poetry_line(lines, table_name, name)
            if normalise(name) == "python":
                if kind == "runtime":
                    _poetry_python(b, value, Location(rel, line))
                continue
            for item in value if isinstance(value, list) else [value]:
                raw = lines.lines[line - 1].strip() if line else f"{name} = {item!r}"
                _add_poetry(b, name, item, kind, Location(rel, line), raw, extras_of)
            declared.add(normalise(name))
    for member in sorted(set(extras_of) - declared):
        span = lines.table("tool.poetry.extras")
        b.note(rel, span[0] if span else None, f"extra lists {member!r}, not a dependency")


def _add_poetry(
    b: _Builder,
    name: str,
    value: object,
    kind: str,
    where: Location,
    raw: str,
    extras_of: dict[str, list[str]],
) -> None:
    rel, line = where.path, where.line
    entry = _poetry_entry(name, value)
    if isinstance(entry, str):
        b.note(rel, line, f"Poetry dependency {name}: {entry}, skipped")
        return
    spec, extras, markers, optional = entry
    pep508 = f"{name}{'[' + ','.join(extras) + ']' if extras else ''}{spec}"
    req = parse_strict(f"{pep508}; {markers}" if markers else pep508) or parse_strict(pep508)
    if req is None:
        b.note(rel, line, f"Poetry dependency {name}: not read, skipped")
        return
    req = replace(req, raw=raw)
    if optional and kind == "runtime":
        for extra in extras_of.get(normalise(name), []) or ["(none)"]:
            b.add(req, f"optional:{extra}", rel, line, "poetry")
        return
    b.add(req, kind, rel, line, "poetry")


# ----- requirements files -----------------------------------------------------------------------
def _requirement_roots(ctx: RepoContext) -> list[tuple[str, str]]:
    """(repository-relative file, kind) of the project's requirements files."""
    roots = []
    for rel in ctx.project_files:
        path = PurePosixPath(rel)
        top = len(path.parts) == 1 and bool(_REQUIREMENTS_NAME.match(path.name))
        folder = len(path.parts) == 2 and path.parts[0] == "requirements"
        if top or (folder and path.suffix == ".txt"):
            roots.append((ctx.path(rel), _file_kind(rel)))
    # Runtime roots first: a file that both a runtime and a dev file include is runtime.
    return sorted(roots, key=lambda r: (r[1] != "runtime", r[0]))


def _file_kind(rel: str) -> str:
    path = PurePosixPath(rel)
    label = re.sub(r"requirements?", "", path.stem, flags=re.I)
    return "dev" if is_dev_label(label.strip("-_.")) else "runtime"


def _read_requirement_files(
    b: _Builder, ctx: RepoContext, roots: Iterable[tuple[str, str]]
) -> None:
    """Read each file once, following `-r` includes inside the checkout."""
    seen = {decl.path for decl in b.declarations if decl.manager == "requirements"}
    seen |= {m for m in b.manifests if m.endswith(".txt")}
    queue = list(roots)
    included: set[str] = set()
    constraints: set[str] = set()
    while queue:
        rel, kind = queue.pop(0)
        if rel in seen:
            continue
        if len(seen) >= MAX_REQUIREMENT_FILES:
            b.note(rel, None, f"more than {MAX_REQUIREMENT_FILES} requirements files: not read")
            break
        seen.add(rel)
        text = ctx.read_text(rel)
        if text is None:
            b.note(rel, None, "requirements file missing or unreadable")
            continue
        b.manifests.append(rel)
        for flag, target, line in read_requirements_text(b, text, rel, kind):
            include = resolve_include(rel, target)
            if include is None:
                b.note(rel, line, f"{flag} {target}: outside the checkout, not read")
            elif flag in _CONSTRAINT:
                constraints.add(include)
            else:
                included.add(include)
                included_kind = "dev" if _file_kind(include) == "dev" else kind
                queue.append((include, included_kind))
    _drop_constraint_files(b, constraints - included)


def _drop_constraint_files(b: _Builder, files: set[str]) -> None:
    """A file only ever used with `-c` pins versions; it declares nothing."""
    if files:
        b.declarations = [d for d in b.declarations if d.path not in files]
        b.manifests = [m for m in b.manifests if m not in files]


def resolve_include(including: str, target: str) -> str | None:
    """Repository-relative path of an `-r` target, None when it leaves the checkout or is a URL."""
    if "://" in target or target.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", target):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(including), target))
    if joined == ".." or joined.startswith("../"):
        return None
    return joined


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each line, continuations (`\\` at the end) joined."""
    pending: list[str] = []
    start = 1
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        stripped = re.sub(r"(^|\s)#.*$", "", line)
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        yield start, " ".join(pending).strip()
        pending = []
    if pending:
        yield start, " ".join(pending).strip()


def read_requirements_text(
    b: _Builder, text: str, rel: str, kind: str
) -> list[tuple[str, str, int]]:
    """Add the file's requirements to `b`; return its (`-r`/`-c` flag, target, line)s."""
    includes: list[tuple[str, str, int]] = []
    for line, entry in _logical_lines(text):
        if not entry:
            continue
        if entry.startswith("-"):
            option = _OPTION.match(entry)
            flag, value = (option.group(1), option.group(2).strip()) if option else (entry, "")
            if (flag in _INCLUDE or flag in _CONSTRAINT) and value:
                includes.append((flag, value, line))
            elif flag in _EDITABLE and value:
                _requirement_target(b, value, kind, rel, line)
            continue  # pip options declare nothing
        _requirement_target(b, re.split(r"\s+--?[A-Za-z]", entry, maxsplit=1)[0], kind, rel, line)
    return includes


def _requirement_target(b: _Builder, entry: str, kind: str, rel: str, line: int) -> None:
    """One requirement, URL or local path of a requirements file."""
    local = re.match(r"^\.{1,2}(?:/[^\[]*)?(?:\[([^\]]*)\])?$", entry)
    if local:
        if entry.startswith(".[") or entry.startswith("./["):
            for extra in (local.group(1) or "").split(","):
                if extra.strip():
                    b.self_extras.append((normalise(extra.strip()), rel, line))
        return  # the project itself (or a local package): its own manifest declares
    if "://" in entry and " @ " not in entry:
        egg = _EGG.search(entry)
        wheel = PurePosixPath(entry.split("#")[0].split("?")[0]).name
        name = egg.group(1) if egg else wheel.split("-")[0] if wheel.endswith(".whl") else None
        if name is None:
            b.note(rel, line, f"URL without a package name, skipped: {entry[:80]}")
            return
        req = parse_strict(name)
        if req is not None:
            b.add(replace(req, raw=entry), kind, rel, line, "requirements")
        return
    b.add_pep508(entry, kind, rel, line, "requirements")


# ----- setup.cfg and setup.py -------------------------------------------------------------------
def _cfg_values(value: str) -> list[str]:
    return [v.strip() for v in value.splitlines() if v.strip() and not v.strip().startswith("#")]


def _read_setup_cfg(b: _Builder, ctx: RepoContext, rel: str) -> None:
    text = ctx.read_text(rel) or ""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        b.note(rel, getattr(exc, "lineno", None), "setup.cfg does not parse: not read")
        return
    lines = text.splitlines()

    def line_of(needle: str, after: int = 0) -> int | None:
        for number in range(after + 1, len(lines) + 1):
            if needle in lines[number - 1]:
                return number
        return None

    entries = _setup_cfg_entries(parser)
    b.extras.update(k.removeprefix("optional:") for _, _, k in entries if k.startswith("optional:"))
    if entries:
        b.manifests.append(rel)
    for key, value, kind in entries:
        if value.strip().startswith("file:"):
            b.note(rel, line_of(key), f"{key} = {value.strip()}: read from the files it names")
            files = value.strip().removeprefix("file:").replace(",", " ").split()
            roots = [(resolve_include(rel, f) or "", kind) for f in files]
            _read_requirement_files(b, ctx, [r for r in roots if r[0]])
            continue
        start = line_of(key) or 0
        for raw in _cfg_values(value):
            b.add_pep508(raw, kind, rel, line_of(raw, start) or start or None, "setup.cfg")
    python = parser.get("options", "python_requires", fallback="").strip()
    if python and b.python is None:
        b.python = PythonConstraint(python, python, rel, line_of("python_requires"), "setup.cfg")


def _setup_cfg_entries(parser: configparser.ConfigParser) -> list[tuple[str, str, str]]:
    """(key, value, kind) of setup.cfg's install_requires, extras_require and tests_require."""
    entries: list[tuple[str, str, str]] = []
    if parser.has_option("options", "install_requires"):
        entries.append(("install_requires", parser.get("options", "install_requires"), "runtime"))
    if parser.has_section("options.extras_require"):
        for extra, value in parser.items("options.extras_require"):
            entries.append((extra, value, f"optional:{normalise(extra)}"))
    if parser.has_option("options", "tests_require"):
        entries.append(("tests_require", parser.get("options", "tests_require"), "dev"))
    return entries


_SETUP_KEYWORDS = {"install_requires": "runtime", "tests_require": "dev"}


def _read_setup_py(b: _Builder, ctx: RepoContext, rel: str) -> None:
    module = ctx.module(rel)
    if module is None or module.tree is None:
        b.note(rel, None, "setup.py does not parse: not read")
        return
    names: dict[str, ast.expr] = {
        node.targets[0].id: node.value
        for node in module.tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    }
    for call in _setup_calls(module.tree):
        b.manifests.append(rel)
        for keyword in call.keywords:
            value = keyword.value
            if isinstance(value, ast.Name) and value.id in names:
                value = names[value.id]
            if keyword.arg is not None:
                _setup_keyword(b, rel, keyword.arg, value)


def _setup_keyword(b: _Builder, rel: str, arg: str, value: ast.expr) -> None:
    if arg in _SETUP_KEYWORDS:
        _setup_list(b, rel, arg, value, _SETUP_KEYWORDS[arg])
    elif arg == "extras_require":
        _setup_extras(b, rel, value)
    elif (
        arg == "python_requires"
        and b.python is None
        and isinstance(value, ast.Constant)
        and isinstance(value.value, str)
    ):
        b.python = PythonConstraint(value.value, value.value, rel, value.lineno, "python_requires")


def _setup_calls(tree: ast.Module) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == "setup":
                yield node


def _setup_list(b: _Builder, rel: str, key: str, value: ast.expr, kind: str) -> None:
    elements = value.elts if isinstance(value, ast.List | ast.Tuple) else None
    strings = [
        (e.value, e.lineno)
        for e in elements or []
        if isinstance(e, ast.Constant) and isinstance(e.value, str)
    ]
    if elements is None or len(strings) != len(elements):
        b.note(rel, value.lineno, f"setup.py {key} is computed, not a literal list: not read")
        return
    for raw, line in strings:
        b.add_pep508(raw, kind, rel, line, "setup.py")


def _setup_extras(b: _Builder, rel: str, value: ast.expr) -> None:
    if not isinstance(value, ast.Dict):
        b.note(rel, value.lineno, "setup.py extras_require is computed: not read")
        return
    for key, items in zip(value.keys, value.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            b.note(rel, value.lineno, "setup.py extras_require has a computed key: not read")
            continue
        b.extras.add(normalise(key.value))
        _setup_list(
            b, rel, f"extras_require[{key.value!r}]", items, f"optional:{normalise(key.value)}"
        )


__all__ = [
    "DEV_WORDS",
    "DependencyModel",
    "Location",
    "ModelNote",
    "PythonConstraint",
    "TomlLines",
    "counts_as_dev",
    "counts_as_runtime",
    "is_dev_label",
    "poetry_specifier",
    "read_dependency_model",
    "resolve_include",
]
