"""Poetry's tables and version syntax, translated to PEP 508/440."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from packaging.version import InvalidVersion, Version

from scanners.depmodel.model import Builder, Location, PythonConstraint
from scanners.depmodel.tomllines import TomlLines, subtable
from scanners.deps import normalise, parse_strict

_POETRY_TOKEN = re.compile(
    r"\s*(?P<op>\^|~=|~|===|==|!=|>=|<=|>|<|=)?\s*(?P<version>\*|[0-9][0-9A-Za-z.*+!-]*)\s*,?"
)


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
        ("tool.poetry.dependencies", subtable(poetry, "dependencies"), "runtime"),
        ("tool.poetry.dev-dependencies", subtable(poetry, "dev-dependencies"), "dev"),
    ]
    for group, table in subtable(poetry, "group").items():
        deps = table.get("dependencies") if isinstance(table, dict) else None
        if isinstance(deps, dict):
            kind = f"group:{normalise(group)}"
            tables.append((f"tool.poetry.group.{group}.dependencies", deps, kind))
    return tables


def _poetry_python(b: Builder, value: object, where: Location) -> None:
    spec = poetry_specifier(value) if isinstance(value, str) else None
    if isinstance(value, str) and spec is not None and b.python is None:
        b.python = PythonConstraint(spec, value, where.path, where.line, "Poetry python")


def read_poetry(b: Builder, poetry: dict[str, Any], rel: str, lines: TomlLines) -> None:
    """Every Poetry dependency table of `[tool.poetry]`; `python` is the Python constraint."""
    extras_of: dict[str, list[str]] = {}
    for extra, members in subtable(poetry, "extras").items():
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
    b: Builder,
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
