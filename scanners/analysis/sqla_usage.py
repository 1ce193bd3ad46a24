"""How app code uses SQLAlchemy: engines, sessions, eager loading, datetime and FK columns."""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scanners.analysis.astutil import call_name, const_str, iter_calls, keyword
from scanners.analysis.sqla_models import (
    AppClass,
    ModelScan,
    calls_named,
    column_defs,
    sqla_name,
)
from scanners.results import Evidence

if TYPE_CHECKING:
    from scanners.context import PyModule, RepoContext

SYNC_FACTORIES = frozenset(
    {"create_engine", "engine_from_config", "sessionmaker", "Session", "scoped_session"}
)
ASYNC_ENGINES = frozenset({"create_async_engine", "async_engine_from_config"})
ASYNC_SESSIONS = frozenset({"async_sessionmaker", "AsyncSession", "async_scoped_session"})
ENGINE_FACTORIES = frozenset(
    {"create_engine", "create_async_engine", "engine_from_config", "async_engine_from_config"}
)
EAGER_LOADERS = frozenset(
    {"selectinload", "joinedload", "subqueryload", "immediateload", "contains_eager"}
)
_DATETIME_TYPES = {"DateTime", "TIMESTAMP"}
IndexNames = Callable[[AppClass, dict[str, str]], set[str]]


@dataclass(frozen=True, slots=True)
class CallSite:
    """A resolved SQLAlchemy call in app code."""

    path: str
    line: int
    name: str  # last part of the qualified name
    call: ast.Call


@dataclass(slots=True)
class SessionUsage:
    """Engines and session factories app code creates."""

    uses_sqlalchemy: bool = False
    sync: list[Evidence] = field(default_factory=list)
    async_engine: list[CallSite] = field(default_factory=list)
    async_session: bool = False


def _sqla_calls(ctx: RepoContext) -> list[CallSite]:
    """Calls in app code whose qualified name starts with `sqlalchemy.`."""
    out = []
    for mod in ctx.app_files:
        if mod.tree is None or "sqlalchemy" not in (mod.source or ""):
            continue
        aliases = ctx.import_graph.aliases(mod.path)
        for call in iter_calls(mod.tree):
            name = call_name(call, aliases)
            if name is not None and name.startswith("sqlalchemy."):
                out.append(CallSite(mod.path, call.lineno, name.rsplit(".", 1)[-1], call))
    return out


def session_usage(ctx: RepoContext) -> SessionUsage:
    """Sync and async engines/sessions created in app code."""
    usage = SessionUsage()
    for mod in ctx.app_files:
        aliases = ctx.import_graph.aliases(mod.path)
        if any(v.startswith("sqlalchemy") for v in aliases.values()):
            usage.uses_sqlalchemy = True
        if any(
            v.startswith("sqlalchemy.ext.asyncio") and v.rsplit(".", 1)[-1] in ASYNC_SESSIONS
            for v in aliases.values()
        ):
            usage.async_session = True
    for site in _sqla_calls(ctx):
        class_ = keyword(site.call, "class_")
        is_async_factory = class_ is not None and "Async" in ast.unparse(class_)
        if site.name in SYNC_FACTORIES and not is_async_factory:
            usage.sync.append(Evidence(site.path, site.line, f"sync {site.name}(...)"))
        elif site.name in ASYNC_ENGINES:
            usage.async_engine.append(site)
        elif site.name in ASYNC_SESSIONS or is_async_factory:
            usage.async_session = True
    return usage


def engine_calls(ctx: RepoContext) -> list[CallSite]:
    """Every engine factory call in app code."""
    return [site for site in _sqla_calls(ctx) if site.name in ENGINE_FACTORIES]


def eager_loading_calls(ctx: RepoContext, modules: Sequence[PyModule]) -> list[tuple[str, int]]:
    """(path, line) of eager-loading option calls in `modules`."""
    out = []
    for mod in modules:
        source = mod.source or ""
        if mod.tree is None or not any(name in source for name in EAGER_LOADERS):
            continue
        aliases = ctx.import_graph.aliases(mod.path)
        for call in iter_calls(mod.tree):
            func = call.func
            chained = isinstance(func, ast.Attribute) and func.attr in EAGER_LOADERS
            if chained or sqla_name(func, aliases) in EAGER_LOADERS:
                out.append((mod.path, call.lineno))
    return out


# ----- datetime columns -----------------------------------------------------------------
def _aware(call: ast.Call) -> bool:
    value = keyword(call, "timezone")
    if value is None and call.args:
        value = call.args[0]
    return isinstance(value, ast.Constant) and value.value is True


def _annotates_datetime(annotation: ast.expr | None) -> bool:
    if annotation is None:
        return False
    text = annotation.value if isinstance(annotation, ast.Constant) else ast.unparse(annotation)
    return isinstance(text, str) and "datetime" in text.replace("datetime.date]", "")


def _aware_type_map(scan: ModelScan, ctx: RepoContext) -> bool:
    """Whether a declarative root maps `datetime` to `DateTime(timezone=True)`."""
    for root in scan.roots:
        value = root.assigned("type_annotation_map")
        aliases = ctx.import_graph.aliases(root.path)
        if value is not None and any(
            _aware(c) for c in calls_named(value, aliases, _DATETIME_TYPES)
        ):
            return True
    return False


def naive_datetime_columns(ctx: RepoContext, scan: ModelScan) -> list[Evidence]:
    """Naive datetime column types in the modules of models, mixins and roots."""
    out: list[Evidence] = []
    for mod in scan.modules():
        if mod.tree is None:
            continue
        aliases = ctx.import_graph.aliases(mod.path)
        for call in calls_named(mod.tree, aliases, _DATETIME_TYPES):
            if not _aware(call):
                out.append(Evidence(mod.path, call.lineno, "DateTime without timezone=True"))
        for call in calls_named(mod.tree, aliases, {"mapped_column", "Column"}):
            for arg in call.args:
                if isinstance(arg, ast.Name | ast.Attribute) and (
                    sqla_name(arg, aliases) in _DATETIME_TYPES
                ):
                    out.append(Evidence(mod.path, arg.lineno, "naive DateTime type (no timezone)"))
    if not _aware_type_map(scan, ctx):
        out += _untyped_datetime_columns(ctx, scan)
    return sorted(set(out), key=lambda e: (e.path or "", e.line or 0))


def _untyped_datetime_columns(ctx: RepoContext, scan: ModelScan) -> list[Evidence]:
    """`Mapped[datetime]` columns without a column type: SQLAlchemy makes them naive."""
    out = []
    for cls in scan.mapped:
        aliases = ctx.import_graph.aliases(cls.path)
        for col in column_defs(cls, aliases):
            if col.kind == "mapped_column" and _annotates_datetime(col.annotation):
                typed = [a for a in col.call.args if not _is_foreign_key(a, aliases)]
                if not typed:
                    message = f"{cls.name}.{col.name}: Mapped[datetime] maps to naive DateTime"
                    out.append(Evidence(cls.path, col.line, message))
    return out


def _is_foreign_key(node: ast.expr, aliases: dict[str, str]) -> bool:
    return isinstance(node, ast.Call) and sqla_name(node.func, aliases) == "ForeignKey"


# ----- foreign keys ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ForeignKeyColumn:
    """A foreign-key column and whether something indexes it."""

    path: str
    line: int
    label: str
    indexed: bool


def _flag(call: ast.Call, *names: str) -> bool:
    return any(
        isinstance(v, ast.Constant) and v.value is True for v in (keyword(call, n) for n in names)
    )


def _fk_constraint_columns(cls: AppClass, aliases: dict[str, str]) -> list[tuple[str, int]]:
    table_args = cls.assigned("__table_args__")
    if table_args is None:
        return []
    out = []
    for call in calls_named(table_args, aliases, {"ForeignKeyConstraint"}):
        first = call.args[0] if call.args else None
        if isinstance(first, ast.List | ast.Tuple):
            out += [(t, call.lineno) for e in first.elts if (t := const_str(e)) is not None]
    return out


def _module_index_names(mod: PyModule, aliases: dict[str, str]) -> set[str]:
    """Columns named by module-level `Index(...)` calls (`Index("ix", Model.col)`)."""
    names: set[str] = set()
    # `sqla_name` gives "Index" only for a callee spelled with "Index" in this module.
    if mod.tree is None or "Index" not in (mod.source or ""):
        return names
    for stmt in mod.tree.body:
        for call in calls_named(stmt, aliases, {"Index"}):
            for arg in call.args[1:]:
                if isinstance(arg, ast.Attribute):
                    names.add(arg.attr)
                elif (text := const_str(arg)) is not None:
                    names.add(text)
    return names


def fk_columns(
    ctx: RepoContext, scan: ModelScan, index_names: IndexNames
) -> list[ForeignKeyColumn]:
    """Foreign-key columns of mapped classes and Core tables, with whether they are indexed."""
    out: list[ForeignKeyColumn] = []
    graph = ctx.import_graph
    covered: dict[int, set[str]] = {}
    for cls in scan.mapped:
        names = index_names(cls, graph.aliases(cls.path))
        names |= _module_index_names(cls.module, graph.aliases(cls.path))
        for other in (cls, *cls.ancestors()):
            covered.setdefault(id(other), set()).update(names)
    for cls in scan.mapped:
        aliases = graph.aliases(cls.path)
        names = covered.get(id(cls), set())
        cols = {c.name: c for c in column_defs(cls, aliases) if c.kind != "relationship"}
        for col in cols.values():
            if any(_is_foreign_key(a, aliases) for a in col.call.args):
                indexed = _flag(col.call, "index", "unique", "primary_key") or col.name in names
                out.append(ForeignKeyColumn(cls.path, col.line, f"{cls.name}.{col.name}", indexed))
        for name, line in _fk_constraint_columns(cls, aliases):
            own = cols.get(name)
            indexed = name in names or (
                own is not None and _flag(own.call, "index", "unique", "primary_key")
            )
            out.append(ForeignKeyColumn(cls.path, line, f"{cls.name}.{name}", indexed))
    for mod in scan.modules():
        out += _table_fk_columns(mod, graph.aliases(mod.path))
    return out


def _table_fk_columns(mod: PyModule, aliases: dict[str, str]) -> list[ForeignKeyColumn]:
    """Foreign-key `Column`s of module-level Core `Table(...)` calls."""
    out: list[ForeignKeyColumn] = []
    if mod.tree is None or "Table" not in (mod.source or ""):  # as for "Index" above
        return out
    for stmt in mod.tree.body:
        for table in calls_named(stmt, aliases, {"Table"}):
            table_name = const_str(table.args[0]) if table.args else None
            indexed_names: set[str] = set()
            for index in calls_named(table, aliases, {"Index", "UniqueConstraint"}):
                indexed_names.update(t for a in index.args if (t := const_str(a)) is not None)
            for col in calls_named(table, aliases, {"Column"}):
                name = const_str(col.args[0]) if col.args else None
                if name is None or not any(_is_foreign_key(a, aliases) for a in col.args):
                    continue
                indexed = _flag(col, "index", "unique", "primary_key") or name in indexed_names
                label = f"{table_name or 'table'}.{name}"
                out.append(ForeignKeyColumn(mod.path, col.lineno, label, indexed))
    return out
