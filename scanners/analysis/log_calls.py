"""Logging calls in app code: root-logger use, logger names, tracebacks and sensitive values."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from scanners.analysis.astutil import call_name, const_str, dotted_name
from scanners.analysis.nodes import of_type

LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
)
ROOT_CALLS = frozenset(f"logging.{m}" for m in LOG_METHODS)
GET_LOGGER = frozenset({"logging.getLogger", "structlog.get_logger", "structlog.getLogger"})
_SENSITIVE = re.compile(
    r"(?<![a-z])(password|passwd|pwd|secret|token|api_?key|apikey|private_?key|credentials?)"
    r"(?![a-z])"
)
_SAFE_SUFFIXES = (
    "_id", "_ids", "_type", "_count", "_len", "_length", "_url", "_name", "_field", "_at",
    "_minutes", "_days", "_seconds", "_ttl", "_expiry", "_expires", "_header", "_prefix",
    "_algorithm", "_endpoint", "_path", "_policy", "_kind", "_version",
)  # fmt: skip
_SAFE_PREFIXES = ("is_", "has_", "max_", "min_", "num_", "n_")
_SAFE_WRAPPERS = frozenset({"len", "bool", "type", "mask", "redact", "masked", "hash", "id"})
_NOT_DATA = frozenset({"exc_info", "stack_info", "stacklevel"})


def is_sensitive(name: str) -> bool:
    """Whether an identifier or key is named like a password, token, secret or API key."""
    lowered = name.lower()
    if lowered.endswith(_SAFE_SUFFIXES) or lowered.startswith(_SAFE_PREFIXES):
        return False
    return _SENSITIVE.search(lowered) is not None


def is_log_call(call: ast.Call, aliases: Mapping[str, str]) -> bool:
    """`logger.info(..)`, `self.log.error(..)`, `logging.warning(..)`, `getLogger(x).info(..)`."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in LOG_METHODS:
        return False
    receiver = func.value
    if isinstance(receiver, ast.Call):
        return call_name(receiver, aliases) in GET_LOGGER
    name = dotted_name(receiver)
    if name is None:
        return False
    last = name.rsplit(".", 1)[-1].lower()
    return aliases.get(name) == "logging" or "log" in last


@dataclass(frozen=True, slots=True)
class Leak:
    """A sensitive name a log call interpolates."""

    line: int
    name: str
    how: str


def sensitive_values(call: ast.Call) -> list[Leak]:
    """Sensitive names a log call formats into its message, its arguments or `extra`."""
    leaks: list[Leak] = []
    args = list(call.args)
    if args:
        message = args.pop(0)
        if isinstance(call.func, ast.Attribute) and call.func.attr == "log" and args:
            message = args.pop(0)  # `.log(level, msg, ...)`
        leaks += _message_leaks(message)
    for arg in args:
        leaks += [Leak(n.lineno, name, "%-argument") for n, name in _refs(arg)]
    for kw in call.keywords:
        if kw.arg in _NOT_DATA:
            continue
        if kw.arg == "extra" and isinstance(kw.value, ast.Dict):
            leaks += _dict_leaks(kw.value, "extra")
        elif kw.arg is not None and kw.arg != "extra" and is_sensitive(kw.arg):
            leaks.append(Leak(kw.value.lineno, kw.arg, "keyword"))
        else:
            how = "extra" if kw.arg == "extra" else "keyword"
            leaks += [Leak(n.lineno, name, how) for n, name in _refs(kw.value)]
    return leaks


def _message_leaks(message: ast.expr) -> list[Leak]:
    if isinstance(message, ast.JoinedStr):
        return [
            Leak(n.lineno, name, "f-string")
            for value in message.values
            if isinstance(value, ast.FormattedValue)
            for n, name in _refs(value.value)
        ]
    if isinstance(message, ast.BinOp) and isinstance(message.op, ast.Mod):
        return [Leak(n.lineno, name, "% formatting") for n, name in _refs(message.right)]
    if (
        isinstance(message, ast.Call)
        and isinstance(message.func, ast.Attribute)
        and message.func.attr == "format"
    ):
        parts: list[ast.expr] = [*message.args, *(k.value for k in message.keywords)]
        leaks = [Leak(n.lineno, name, ".format()") for p in parts for n, name in _refs(p)]
        leaks += [
            Leak(message.lineno, k.arg, ".format()")
            for k in message.keywords
            if k.arg and is_sensitive(k.arg)
        ]
        return leaks
    return []


def _dict_leaks(node: ast.Dict, how: str) -> list[Leak]:
    leaks = []
    for key, value in zip(node.keys, node.values, strict=True):
        name = const_str(key) if key is not None else None
        if name is not None and is_sensitive(name):
            leaks.append(Leak(value.lineno, name, how))
        else:
            leaks += [Leak(n.lineno, ref, how) for n, ref in _refs(value)]
    return leaks


def _refs(node: ast.expr) -> Iterator[tuple[ast.expr, str]]:
    """Sensitive names an expression's value comes from (the outermost attribute of a chain)."""
    if isinstance(node, ast.Name | ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else node.attr
        if is_sensitive(name):
            yield node, name
    elif isinstance(node, ast.Subscript):
        yield from _subscript_refs(node)
    elif isinstance(node, ast.Call):
        func = dotted_name(node.func) or ""
        if func.rsplit(".", 1)[-1] not in _SAFE_WRAPPERS:
            for arg in (*node.args, *(k.value for k in node.keywords)):
                yield from _refs(arg)
    else:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                yield from _refs(child)


def _subscript_refs(node: ast.Subscript) -> Iterator[tuple[ast.expr, str]]:
    """`data["password"]` is sensitive by its key; `items[i]` by what it indexes."""
    key = const_str(node.slice)
    if key is None:
        yield from _refs(node.value)
    elif is_sensitive(key):
        yield node, key


def except_log_calls(tree: ast.AST) -> Iterator[ast.Call]:
    """`<x>.error(...)`/`<x>.critical(...)` calls directly inside `except` blocks."""
    for handler in of_type(tree, ast.ExceptHandler):
        stack: list[ast.AST] = list(handler.body)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue  # runs later, outside the handler
            if isinstance(node, ast.ExceptHandler):
                continue  # a nested handler is visited on its own
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("error", "critical")
            ):
                yield node
            stack.extend(ast.iter_child_nodes(node))
