"""setup.cfg and setup.py (read from the AST, never executed)."""

from __future__ import annotations

import ast
import configparser
from collections.abc import Iterator
from typing import TYPE_CHECKING

from scanners.depmodel.model import Builder, PythonConstraint
from scanners.depmodel.requirements_files import read_requirement_files, resolve_include
from scanners.deps import normalise

if TYPE_CHECKING:
    from scanners.context import RepoContext


def _cfg_values(value: str) -> list[str]:
    return [v.strip() for v in value.splitlines() if v.strip() and not v.strip().startswith("#")]


def read_setup_cfg(b: Builder, ctx: RepoContext, rel: str) -> None:
    """`[options]` install_requires/tests_require/python_requires and extras_require."""
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
            read_requirement_files(b, ctx, [r for r in roots if r[0]])
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


def read_setup_py(b: Builder, ctx: RepoContext, rel: str) -> None:
    """Literal arguments of every `setup(...)` call, read from the AST (never run)."""
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


def _setup_keyword(b: Builder, rel: str, arg: str, value: ast.expr) -> None:
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


def _setup_list(b: Builder, rel: str, key: str, value: ast.expr, kind: str) -> None:
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


def _setup_extras(b: Builder, rel: str, value: ast.expr) -> None:
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
