"""Code facts for the security rules: token lifetimes, SQL strings, password hashes, CORS.

All of it reads the cached ASTs of the app code (tests excluded) and resolves names through
the module's imports. The heuristics are documented where they decide.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanners.analysis import settings as st
from scanners.analysis.astutil import call_name, const_str, keyword, module_constants
from scanners.analysis.codescan import last_part, number, parsed
from scanners.analysis.nodes import of_type, of_types, scoped_calls

if TYPE_CHECKING:
    from scanners.context import RepoContext

_NESTED_DEPTH = 3


# ----- settings fields with their defaults --------------------------------------------------
@dataclass(frozen=True, slots=True)
class FieldDefault:
    """A field of a settings class (or of a model nested in one) and its default value."""

    owner: str
    path: str
    name: str
    line: int
    value: ast.expr | None  # None: a required field (no default)


def settings_fields(ctx: RepoContext) -> list[FieldDefault]:
    """Fields of every settings class, and of app models nested in them (3 levels deep)."""
    scan = st.find_settings(ctx)
    out: list[FieldDefault] = []
    seen: set[str] = set()
    queue = [(info, 0) for info in scan.classes]
    while queue:
        info, depth = queue.pop(0)
        if info.name in seen:
            continue
        seen.add(info.name)
        for stmt in _field_statements(info, frozenset()):
            value = _default(stmt.value)
            out.append(FieldDefault(info.name, info.path, _target(stmt), stmt.lineno, value))
            nested = _nested_model(stmt.annotation, scan)
            if nested is not None and depth < _NESTED_DEPTH:
                queue.append((nested, depth + 1))
    return out


def _field_statements(info: st.ClassInfo, seen: frozenset[str]) -> list[ast.AnnAssign]:
    if info.name in seen:
        return []
    out: dict[str, ast.AnnAssign] = {}
    for parent in info.parents:
        out.update((_target(s), s) for s in _field_statements(parent, seen | {info.name}))
    for stmt in info.node.body:
        name = _target(stmt) if isinstance(stmt, ast.AnnAssign) else ""
        if isinstance(stmt, ast.AnnAssign) and name[:1] not in ("", "_") and name != "model_config":
            out[name] = stmt
    return list(out.values())


def _target(stmt: ast.AnnAssign) -> str:
    return stmt.target.id if isinstance(stmt.target, ast.Name) else ""


def _nested_model(annotation: ast.expr, scan: st.SettingsScan) -> st.ClassInfo | None:
    node = scan.resolve(annotation)
    name = last_part(node)
    return scan.all_classes.get(name) if name else None


def _default(value: ast.expr | None) -> ast.expr | None:
    """The default of `x: T = v`, `Field(v)`, `Field(default=v)`, `Field(default_factory=...)`."""
    if not (isinstance(value, ast.Call) and last_part(value.func) == "Field"):
        return value
    if value.args:
        return value.args[0]
    default = keyword(value, "default")
    if default is not None:
        return default
    factory = keyword(value, "default_factory")
    if isinstance(factory, ast.Lambda):
        return factory.body
    return factory  # a class used as a factory (`AuthSettings`) still names the model


# ----- SEC-003: token lifetimes -------------------------------------------------------------
_LIFETIME_WORDS = re.compile(
    r"expir|lifetime|ttl|duration|max_?age|valid|timeout|(?:^|_)exp(?:_|$)"
)
_UNIT_WORDS = (("week", 604_800), ("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))
_UNIT_ABBREVIATIONS = re.compile(r"(?:^|_)(mins?|secs?|hrs?|[hms])(?:_|$)")
_ABBREVIATED: dict[str, float] = {"min": 60, "mins": 60, "m": 60, "sec": 1, "secs": 1, "s": 1}
_ABBREVIATED |= {"hr": 3_600, "hrs": 3_600, "h": 3_600}
_TIMEDELTA_ARGS: dict[str, float] = {"weeks": 604_800, "days": 86_400, "hours": 3_600}
_TIMEDELTA_ARGS |= {"minutes": 60, "seconds": 1, "milliseconds": 0.001, "microseconds": 1e-6}
_UNITLESS = (1, 60, 3_600, 86_400)  # an int default with no unit in the name: any reading


def lifetime_kind(name: str) -> str | None:
    """`access` or `refresh` for a token-lifetime setting name, else None."""
    low = name.lower()
    if not _LIFETIME_WORDS.search(low):
        return None
    if "refresh" in low:
        return "refresh"
    return "access" if "access" in low else None


def lifetime_seconds(name: str, value: ast.expr | None) -> tuple[float, ...]:
    """Possible readings in seconds of a lifetime default (several when the unit is unknown)."""
    if isinstance(value, ast.Call) and last_part(value.func) == "timedelta":
        return _timedelta_seconds(value)
    amount = number(value)
    if amount is None:
        return ()
    unit = _unit(name.lower())
    return (amount * unit,) if unit else tuple(amount * u for u in _UNITLESS)


def _unit(low: str) -> float | None:
    for word, seconds in _UNIT_WORDS:
        if word in low:
            return seconds
    match = _UNIT_ABBREVIATIONS.search(low)
    return _ABBREVIATED[match.group(1)] if match else None


def _timedelta_seconds(call: ast.Call) -> tuple[float, ...]:
    total = 0.0
    for position, arg in enumerate(call.args[:2]):  # timedelta(days, seconds)
        amount = number(arg)
        if amount is None:
            return ()
        total += amount * (86_400, 1)[position]
    for kw in call.keywords:
        amount = number(kw.value)
        if kw.arg not in _TIMEDELTA_ARGS or amount is None:
            return ()
        total += amount * _TIMEDELTA_ARGS[kw.arg]
    return (total,)


# ----- SEC-008: SQL built from strings ------------------------------------------------------
SQL_TEXT = frozenset(
    {"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text", "sqlmodel.text"}
)
EXECUTE_METHODS = frozenset(
    {"execute", "executemany", "executescript", "exec_driver_sql", "fetch", "fetchrow", "fetchval"}
)
_SQL_KEYWORDS = ("statement", "sql", "query", "text")
_MAX_FOLLOW = 3


@dataclass(frozen=True, slots=True)
class SqlString:
    """SQL built with string formatting and handed to `text()` or an `execute` method."""

    path: str
    line: int
    how: str  # "an f-string", "% formatting", ...
    sink: str  # "text()", ".execute()"


def sql_strings(ctx: RepoContext) -> list[SqlString]:
    """Formatted strings passed to `text()`/`execute`-like calls, directly or via a local."""
    out: list[SqlString] = []
    for mod, tree in parsed(ctx.app_files):
        source = mod.source or ""
        if "text" not in source and not any(m in source for m in EXECUTE_METHODS):
            continue
        aliases = ctx.import_graph.aliases(mod.path)
        safe = _string_constants(tree)
        for node, scope in scoped_calls(tree):
            sink = _sink(node, aliases)
            query = _query_argument(node) if sink else None
            if sink is None or query is None:
                continue
            how = _formatting(query, scope or tree, node.lineno, safe, 0)
            if how is not None:
                out.append(SqlString(mod.path, node.lineno, how, sink))
    return out


def safe_interpolations(ctx: RepoContext) -> set[tuple[str, int]]:
    """(path, line) of f-strings that interpolate only module string constants.

    Ruff's S608 flags `f"SELECT ... FROM {TABLE}"` even when `TABLE = "notes"`; SEC-008
    drops S608 findings on these lines rather than fail a critical rule on a constant.
    """
    out: set[tuple[str, int]] = set()
    for mod, tree in parsed(ctx.app_files, "{"):
        safe = _string_constants(tree)
        out.update(
            (mod.path, node.lineno)
            for node in of_type(tree, ast.JoinedStr)
            if all(
                _is_safe(v.value, safe) for v in node.values if isinstance(v, ast.FormattedValue)
            )
        )
    return out


def _sink(call: ast.Call, aliases: dict[str, str]) -> str | None:
    if call_name(call, aliases) in SQL_TEXT:
        return "text()"
    if isinstance(call.func, ast.Attribute) and call.func.attr in EXECUTE_METHODS:
        return f".{call.func.attr}()"
    return None


def _query_argument(call: ast.Call) -> ast.expr | None:
    if call.args and not isinstance(call.args[0], ast.Starred):
        return call.args[0]
    return next((v for k in _SQL_KEYWORDS if (v := keyword(call, k)) is not None), None)


def _string_constants(tree: ast.Module) -> frozenset[str]:
    """Module-level names bound to string literals: safe to interpolate (table names)."""
    return frozenset(
        name for name, value in module_constants(tree).items() if const_str(value) is not None
    )


def _formatting(
    node: ast.expr, scope: ast.AST, line: int, safe: frozenset[str], depth: int
) -> str | None:
    """How `node` builds a string from non-constant parts, or None when it does not."""
    if isinstance(node, ast.JoinedStr):
        dynamic = [
            v.value
            for v in node.values
            if isinstance(v, ast.FormattedValue) and not _is_safe(v.value, safe)
        ]
        return "an f-string" if dynamic else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_text(node.left):
        return "% formatting"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        sides = (node.left, node.right)
        if any(_is_text(s) for s in sides) and not all(_is_safe(s, safe) for s in sides):
            return "string concatenation"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and _is_text(node.func.value)
    ):
        return "str.format()"
    if isinstance(node, ast.Name) and depth < _MAX_FOLLOW:
        for value in _assignments(scope, node.id, line):
            how = _formatting(value, scope, line, safe, depth + 1)
            if how is not None:
                return how
    return None


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or const_str(node) is not None


def _is_safe(node: ast.expr, safe: frozenset[str]) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id in safe
    return isinstance(node, ast.Attribute) and node.attr == "__tablename__"


def _assignments(scope: ast.AST, name: str, before: int) -> Iterator[ast.expr]:
    """Values bound to `name` in `scope` above line `before` (`=`, `+=`), latest first."""
    found: list[tuple[int, ast.expr]] = []
    for node in of_types(scope, ast.Assign, ast.AugAssign):
        if not isinstance(node, ast.Assign | ast.AugAssign) or node.lineno >= before:
            continue
        if isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                found.append((node.lineno, node.value))
        elif (
            isinstance(node.target, ast.Name)
            and node.target.id == name
            and isinstance(node.op, ast.Add)
        ):
            found.append((node.lineno, ast.BinOp(ast.Constant(""), ast.Add(), node.value)))
    yield from (value for _, value in sorted(found, key=lambda item: -item[0]))


# ----- SEC-002: weak password hashing -------------------------------------------------------
WEAK_HASHES = frozenset({"hashlib.md5", "hashlib.sha1"})
_PASSWORD = re.compile(r"passw|passwd|passphrase|pwd|(?:^|_)pass(?:$|_)", re.IGNORECASE)
_WEAK_SCHEME = re.compile(r"md5|sha1|plaintext", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class WeakHash:
    """An md5/sha1 digest (or passlib scheme) applied to a password."""

    path: str
    line: int
    what: str


def weak_password_hashes(ctx: RepoContext) -> list[WeakHash]:
    """md5/sha1 over a password-named value or in a password-named function; weak schemes."""
    out: list[WeakHash] = []
    for mod, tree in parsed(ctx.app_files):
        source = mod.source or ""
        if "hashlib" not in source and "CryptContext" not in source:
            continue
        aliases = ctx.import_graph.aliases(mod.path)
        for node, scope in scoped_calls(tree):
            name = call_name(node, aliases) or ""
            if name == "hashlib.new" and node.args:
                name = f"hashlib.{(const_str(node.args[0]) or '').lower()}"
            if name in WEAK_HASHES and _about_passwords(node, scope):
                out.append(WeakHash(mod.path, node.lineno, f"{name}() over a password"))
            elif last_part(node.func) == "CryptContext":
                out.extend(_weak_schemes(mod.path, node))
    return out


def _about_passwords(call: ast.Call, scope: ast.AST | None) -> bool:
    if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef) and _PASSWORD.search(scope.name):
        return True
    for node in ast.walk(call):
        name = node.id if isinstance(node, ast.Name) else None
        name = node.attr if isinstance(node, ast.Attribute) else name
        if name and _PASSWORD.search(name):
            return True
    return False


def _weak_schemes(path: str, call: ast.Call) -> list[WeakHash]:
    schemes = keyword(call, "schemes")
    if not isinstance(schemes, ast.List | ast.Tuple):
        return []
    weak = [s for e in schemes.elts if (s := const_str(e)) and _WEAK_SCHEME.search(s)]
    return [WeakHash(path, call.lineno, f"passlib scheme {s!r}") for s in weak]
