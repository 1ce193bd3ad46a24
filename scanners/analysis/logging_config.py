"""The project's central logging configuration: Python (`dictConfig`) or YAML, read statically.

Sources are app modules named `logging.py`, `logging_config.py` or `log_config.py`, app
modules that call `logging.config.dictConfig`, and YAML files named `logging*.y(a)ml` or
`log_config.y(a)ml` below the project root. Facts are gathered without running anything:
handler classes, `maxBytes`/`backupCount` values (integer arithmetic and module constants
are folded), log file names and the level near each file name, formatter names, format
strings and JSON formatters.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from scanners.analysis.astutil import (
    call_name,
    const_str,
    iter_calls,
    module_constants,
    qualified_name,
)
from scanners.analysis.nodes import of_types, parents
from scanners.results import Evidence

if TYPE_CHECKING:
    from scanners.context import PyModule, RepoContext

CONFIG_STEMS = frozenset({"logging", "logging_config", "log_config", "logging_conf"})
DICT_CONFIG = frozenset({"logging.config.dictConfig"})
FIELDS = ("asctime", "name", "levelname", "funcName", "lineno")
TEN_MB = frozenset({10 * 1024 * 1024, 10_000_000})
_YAML_NAME = re.compile(r"^(logging[\w.-]*|log_config)\.ya?ml$")
_FORMAT_TEXT = re.compile(r"%\(\w+\)|\{\w+[}:!]|\$\{?\w+")
_JSON_HINT = re.compile(r"json", re.IGNORECASE)
# Nodes `_python_facts` reads; the last two only matter when `_may_name_rotating`.
_FACT_NODES = (ast.Dict, ast.keyword, ast.Constant, ast.ClassDef, ast.Name, ast.Attribute)


@dataclass(slots=True)
class LoggingFacts:
    """What the logging configuration sources say."""

    sources: list[str] = field(default_factory=list)
    rotating: list[Evidence] = field(default_factory=list)
    sizes: list[tuple[int | None, Evidence]] = field(default_factory=list)
    backups: list[tuple[int | None, Evidence]] = field(default_factory=list)
    app_log: list[Evidence] = field(default_factory=list)
    error_log: list[tuple[bool, Evidence]] = field(default_factory=list)  # (at ERROR, where)
    formatter_names: set[str] = field(default_factory=set)
    formats: list[tuple[str, Evidence]] = field(default_factory=list)
    json: list[Evidence] = field(default_factory=list)


def config_modules(ctx: RepoContext) -> list[PyModule]:
    """App modules that hold logging configuration (see the module docstring)."""
    out = []
    for mod in ctx.app_files:
        if mod.tree is None:
            continue
        if mod.stem in CONFIG_STEMS or dict_config_lines(ctx, mod):
            out.append(mod)
    return out


def dict_config_lines(ctx: RepoContext, mod: PyModule) -> list[int]:
    """Lines of `logging.config.dictConfig(...)` calls in a module."""
    if mod.tree is None or "dictConfig" not in (mod.source or ""):
        return []
    aliases = ctx.import_graph.aliases(mod.path)
    return [c.lineno for c in iter_calls(mod.tree) if call_name(c, aliases) in DICT_CONFIG]


def yaml_configs(ctx: RepoContext) -> list[tuple[str, dict[str, Any]]]:
    """(path, mapping) of logging YAML files with a `version` key and handlers/formatters."""
    out = []
    for rel in ctx.project_files:
        if not _YAML_NAME.match(PurePosixPath(rel).name) or rel.startswith("tests/"):
            continue
        path = ctx.path(rel)
        data = ctx.load_yaml(path)
        if isinstance(data, dict) and "version" in data:
            out.append((path, data))
    return out


def gather(ctx: RepoContext) -> LoggingFacts:
    """Facts from every logging configuration source of the project."""
    facts = LoggingFacts()
    for mod in config_modules(ctx):
        facts.sources.append(mod.path)
        _python_facts(ctx, mod, facts)
    for path, data in yaml_configs(ctx):
        facts.sources.append(path)
        _yaml_facts(ctx, path, data, facts)
    return facts


# ----- YAML -----------------------------------------------------------------------------
def _yaml_facts(ctx: RepoContext, path: str, data: dict[str, Any], facts: LoggingFacts) -> None:
    text = ctx.read_text(path) or ""
    for name, handler in _mapping(data.get("handlers")).items():
        if not isinstance(handler, dict):
            continue
        where = Evidence(path, _line(text, f"{name}:"), f"handler {name}")
        if "RotatingFileHandler" in str(handler.get("class", "")):
            facts.rotating.append(where)
        if "maxBytes" in handler:
            facts.sizes.append((_as_int(handler["maxBytes"]), where))
        if "backupCount" in handler:
            facts.backups.append((_as_int(handler["backupCount"]), where))
        filename = PurePosixPath(str(handler.get("filename", ""))).name
        if filename == "app.log":
            facts.app_log.append(where)
        elif filename == "error.log":
            at_error = str(handler.get("level", "")).upper() in ("ERROR", "40")
            facts.error_log.append((at_error, where))
    _yaml_formatters(path, text, data, facts)


def _yaml_formatters(path: str, text: str, data: dict[str, Any], facts: LoggingFacts) -> None:
    for name, spec in _mapping(data.get("formatters")).items():
        facts.formatter_names.add(str(name))
        where = Evidence(path, _line(text, f"{name}:"), f"formatter {name}")
        spec = spec if isinstance(spec, dict) else {}
        if _JSON_HINT.search(f"{name} {spec.get('()', '')} {spec.get('class', '')}"):
            facts.json.append(where)
        fmt = spec.get("format")
        if isinstance(fmt, str):
            facts.formats.append((fmt, where))


def _mapping(value: object) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _line(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(needle):
            return number
    return None


# ----- Python ---------------------------------------------------------------------------
def _python_facts(ctx: RepoContext, mod: PyModule, facts: LoggingFacts) -> None:
    if mod.tree is None:
        return
    consts = module_constants(mod.tree)
    aliases = ctx.import_graph.aliases(mod.path)
    kinds = _FACT_NODES if _may_name_rotating(mod) else _FACT_NODES[:4]
    for node in of_types(mod.tree, *kinds):
        if isinstance(node, ast.Dict):
            _dict_facts(node, mod, consts, facts)
        elif isinstance(node, ast.keyword) and node.arg in ("maxBytes", "backupCount"):
            target = facts.sizes if node.arg == "maxBytes" else facts.backups
            target.append((_int_value(node.value, consts), _at(mod, node.value, node.arg)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            _string_facts(node, mod, facts)
        elif isinstance(node, ast.Name | ast.Attribute):
            name = qualified_name(node, aliases) or ""
            if name.endswith("RotatingFileHandler") and "Timed" not in name:
                facts.rotating.append(Evidence(mod.path, node.lineno, ""))
        elif isinstance(node, ast.ClassDef) and _is_json_formatter(node, aliases):
            facts.json.append(Evidence(mod.path, node.lineno, f"JSON formatter {node.name}"))


def _may_name_rotating(mod: PyModule) -> bool:
    """Cheap prefilter: whether a name of the module can end with `RotatingFileHandler`.

    A qualified name ends with an identifier of the source (ASCII sources hold them
    verbatim) or with an import's target, whose last part the import statement spells.
    """
    source = mod.source or ""
    return not source.isascii() or "RotatingFileHandler" in source


def _at(mod: PyModule, node: ast.AST, message: str) -> Evidence:
    return Evidence(mod.path, getattr(node, "lineno", None), message)


def _dict_facts(
    node: ast.Dict, mod: PyModule, consts: dict[str, ast.expr], facts: LoggingFacts
) -> None:
    for key, value in zip(node.keys, node.values, strict=True):
        name = const_str(key) if key is not None else None
        if name in ("maxBytes", "backupCount"):
            target = facts.sizes if name == "maxBytes" else facts.backups
            target.append((_int_value(value, consts), _at(mod, value, name)))
        elif name == "formatters":
            found = consts.get(value.id) if isinstance(value, ast.Name) else value
            if isinstance(found, ast.Dict):
                for fkey, fvalue in zip(found.keys, found.values, strict=True):
                    _formatter_entry(fkey, fvalue, mod, facts)


def _formatter_entry(
    key: ast.expr | None, value: ast.expr, mod: PyModule, facts: LoggingFacts
) -> None:
    name = const_str(key) if key is not None else None
    if name is None:
        return
    facts.formatter_names.add(name)
    if _JSON_HINT.search(name) or _JSON_HINT.search(ast.unparse(value)):
        facts.json.append(_at(mod, value, f"JSON formatter {name}"))


def _string_facts(node: ast.Constant, mod: PyModule, facts: LoggingFacts) -> None:
    text = str(node.value)
    if "RotatingFileHandler" in text and "Timed" not in text:
        facts.rotating.append(_at(mod, node, text))
    if "\n" not in text:
        filename = PurePosixPath(text).name
        if filename == "app.log":
            facts.app_log.append(_at(mod, node, "app.log"))
        elif filename == "error.log":
            near = _near_error_level(node, parents(mod.tree)) if mod.tree else False
            facts.error_log.append((near, _at(mod, node, "error.log")))
    if _FORMAT_TEXT.search(text) and any(f in text for f in FIELDS):
        facts.formats.append((text, _at(mod, node, "log format")))


def _near_error_level(node: ast.AST, up: dict[ast.AST, ast.AST]) -> bool:
    """Whether the dict or call holding `node` (or else its function) sets the ERROR level."""
    scopes: list[ast.AST] = []
    current = up.get(node)
    while current is not None:
        if isinstance(current, ast.Dict | ast.Call) and not scopes:
            scopes.append(current)
        if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef):
            scopes.append(current)
            break
        current = up.get(current)
    return any(_mentions_error(scope) for scope in scopes)


def _mentions_error(scope: ast.AST) -> bool:
    for sub in ast.walk(scope):
        if isinstance(sub, ast.Constant) and sub.value in ("ERROR", 40):
            return True
        if isinstance(sub, ast.Attribute) and sub.attr == "ERROR":
            return True
    return False


def _int_value(node: ast.AST | None, consts: dict[str, ast.expr], depth: int = 0) -> int | None:
    """Fold integer literals, arithmetic and module constants; None when unknown."""
    if node is None or depth > 8:
        return None
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name) and node.id in consts:
        return _int_value(consts[node.id], consts, depth + 1)
    if isinstance(node, ast.BinOp):
        left = _int_value(node.left, consts, depth + 1)
        right = _int_value(node.right, consts, depth + 1)
        if left is None or right is None:
            return None
        ops = {ast.Mult: left * right, ast.Add: left + right, ast.Sub: left - right}
        if isinstance(node.op, ast.Pow) and 0 <= right <= 64:
            return int(left**right)
        if isinstance(node.op, ast.LShift) and 0 <= right <= 64:
            return left << right
        return ops.get(type(node.op))
    return None


def _is_json_formatter(node: ast.ClassDef, aliases: dict[str, str]) -> bool:
    """A `logging.Formatter` subclass named like JSON or calling `json.dumps`."""
    bases = {ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases}
    if not any(b.endswith("Formatter") for b in bases):
        return False
    if _JSON_HINT.search(node.name):
        return True
    return any(call_name(c, aliases) in ("json.dumps", "orjson.dumps") for c in iter_calls(node))


def missing_fields(fmt: str) -> list[str]:
    """Required fields (time, logger, level, function, line) a format string lacks."""
    return [f for f in FIELDS if not re.search(rf"%\({f}\)|\{{{f}\b|\$\{{?{f}\b", fmt)]
