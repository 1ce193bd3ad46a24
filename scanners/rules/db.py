"""DB: typed async SQLAlchemy models and sessions, reversible migrations, UTC, indexes, pooling."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from scanners.analysis.astutil import const_str, keyword
from scanners.analysis.findings import (
    MAX_EVIDENCE,
    app_findings,
    finding_evidence,
    lint_unavailable,
)
from scanners.analysis.migrations import downgrade_problem, migration_files
from scanners.analysis.sqla_models import (
    AppClass,
    ModelScan,
    calls_named,
    column_defs,
    find_models,
    sqla_name,
)
from scanners.analysis.sqla_usage import (
    eager_loading_calls,
    engine_calls,
    fk_columns,
    naive_datetime_columns,
    session_usage,
)
from scanners.results import Evidence, RuleResult
from scanners.rules import Rule, register

if TYPE_CHECKING:
    from scanners.context import RepoContext

NO_MODELS = "no SQLAlchemy models in app code"
POOL_OPTIONS = ("pool_size", "max_overflow", "pool_pre_ping")
EAGER_LAZY = frozenset({"selectin", "joined", "subquery", "immediate"})


def _is_mapped(annotation: ast.expr | None, aliases: dict[str, str]) -> bool:
    """Whether an annotation is `Mapped[...]` (also quoted, or `sa_orm.Mapped[...]`)."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value.strip(), mode="eval").body
        except SyntaxError:
            return False
    return (
        isinstance(annotation, ast.Subscript) and sqla_name(annotation.value, aliases) == "Mapped"
    )


def _models(ctx: RepoContext) -> ModelScan:
    return find_models(ctx)  # cached on the context


@register
class TypedModels(Rule):
    """Models declare columns as `Mapped[...]` with `mapped_column`, never legacy `Column(`."""

    id = "DB-001"
    heuristic = (
        "Models are classes deriving from a DeclarativeBase (or declarative_base()) through "
        "app classes, or with a __tablename__; their mixins count too. Column(...) attributes "
        "fail; mapped_column(...) without a Mapped[...] annotation warns. Column(...) inside "
        "a Core Table(...) (association tables) is allowed."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail on legacy columns, warn on untyped mapped_column attributes."""
        scan = _models(ctx)
        if not scan.models:
            return self.not_applicable(NO_MODELS)
        legacy: list[Evidence] = []
        untyped: list[Evidence] = []
        for cls in scan.mapped:
            aliases = ctx.import_graph.aliases(cls.path)
            for col in column_defs(cls, aliases):
                where = f"{cls.name}.{col.name}"
                if col.kind == "Column":
                    legacy.append(Evidence(cls.path, col.line, f"{where} uses legacy Column(...)"))
                elif col.kind == "mapped_column" and not _is_mapped(col.annotation, aliases):
                    untyped.append(Evidence(cls.path, col.line, f"{where} lacks Mapped[...]"))
        if legacy:
            return self.failed(
                f"{len(legacy)} legacy Column(...) attributes", legacy[:MAX_EVIDENCE]
            )
        if untyped:
            return self.warned(f"{len(untyped)} mapped_column without Mapped[...]", untyped)
        return self.passed(f"{len(scan.models)} models use Mapped[...] with mapped_column")


@register
class AsyncSessions(Rule):
    """The engine and sessions are async; app code never creates a sync engine or session."""

    id = "DB-002"
    heuristic = (
        "Calls resolved to SQLAlchemy through imports: create_engine/engine_from_config/"
        "sessionmaker/Session/scoped_session are sync (sessionmaker(class_=AsyncSession) is "
        "async); create_async_engine plus async_sessionmaker or AsyncSession is required."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail on sync engines/sessions or a missing async engine; warn without async sessions."""
        usage = session_usage(ctx)
        if not usage.uses_sqlalchemy and not _models(ctx).models:
            return self.not_applicable("app code does not use SQLAlchemy")
        if usage.sync:
            return self.failed("sync SQLAlchemy engine or session in app code", usage.sync)
        if not usage.async_engine:
            where = ctx.app_package_rel or ctx.path("src")
            evidence = [Evidence(where, None, "no create_async_engine(...) call in app code")]
            return self.failed("no async engine in app code", evidence)
        if not usage.async_session:
            first = usage.async_engine[0]
            message = "async engine without async_sessionmaker/AsyncSession"
            return self.warned(message, [Evidence(first.path, first.line, message)])
        return self.passed("async engine and sessions")


@register
class ReversibleMigrations(Rule):
    """Every Alembic revision has a `downgrade()` that does something (not only `pass`)."""

    id = "DB-003"
    heuristic = (
        "Revisions are Python files in a versions/ folder defining `revision` or upgrade(). "
        "A downgrade() whose body is only a docstring, pass, ... or a raise is empty."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail per revision with a missing or empty downgrade; warn on unparsable ones."""
        files = migration_files(ctx)
        if not files:
            return self.not_applicable("no Alembic revisions (no */versions/*.py)")
        problems = [p for p in (downgrade_problem(mod) for mod in files) if p is not None]
        broken = [e for e in problems if e.message.startswith("not parsed")]
        empty = [e for e in problems if not e.message.startswith("not parsed")]
        if empty:
            return self.failed(f"{len(empty)} of {len(files)} revisions cannot downgrade", problems)
        if broken:
            return self.warned(f"{len(broken)} revisions could not be parsed", broken)
        return self.passed(f"{len(files)} revisions have a working downgrade()")


@register
class ModelRepr(Rule):
    """Every model class defines `__repr__` (itself or through a project base class)."""

    id = "DB-005"

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail with the `class` line of each model without `__repr__`."""
        scan = _models(ctx)
        if not scan.models:
            return self.not_applicable(NO_MODELS)
        missing = [
            Evidence(cls.path, cls.line, f"{cls.name} has no __repr__")
            for cls in scan.models
            if not any(c.defines("__repr__") for c in (cls, *cls.ancestors()))
        ]
        if missing:
            return self.failed(f"{len(missing)} models without __repr__", missing[:MAX_EVIDENCE])
        return self.passed(f"{len(scan.models)} models define __repr__")


@register
class UtcTimestamps(Rule):
    """Timestamps are UTC-aware: `DateTime(timezone=True)` columns, no naive datetimes (DTZ)."""

    id = "DB-006"
    heuristic = (
        "Model modules: DateTime/TIMESTAMP types without timezone=True, and Mapped[datetime] "
        "columns with no explicit type (SQLAlchemy maps them to a naive DateTime) unless the "
        "declarative base's type_annotation_map maps datetime to DateTime(timezone=True). "
        "App code: ruff DTZ001-DTZ012 (utcnow, now() without tz, ...)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail on naive columns or DTZ findings; warn when ruff could not run."""
        scan = _models(ctx)
        evidence = naive_datetime_columns(ctx, scan)
        evidence += finding_evidence(app_findings(ctx, "DTZ0"))
        if evidence:
            return self.failed(f"{len(evidence)} naive datetimes", evidence[:MAX_EVIDENCE])
        if (problem := lint_unavailable(ctx)) is not None:
            return self.warned("naive datetime calls not checked: ruff did not run", [problem])
        if not scan.models and not any("datetime" in (m.source or "") for m in ctx.app_files):
            return self.not_applicable("no models and no datetime use in app code")
        return self.passed("timestamps are timezone-aware")


def _index_names(cls: AppClass, aliases: dict[str, str]) -> set[str]:
    """Column names covered by an Index/unique/primary-key constraint in `__table_args__`."""
    table_args: ast.AST | None = cls.assigned("__table_args__")
    for stmt in cls.node.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "__table_args__":
            table_args = stmt
    if table_args is None:
        return set()
    names: set[str] = set()
    wanted = {"Index", "UniqueConstraint", "PrimaryKeyConstraint"}
    for call in calls_named(table_args, aliases, wanted):
        for arg in call.args:
            if (text := const_str(arg)) is not None:
                names.add(text)
            elif isinstance(arg, ast.Attribute | ast.Name):
                names.add(arg.attr if isinstance(arg, ast.Attribute) else arg.id)
    return names


@register
class IndexedForeignKeys(Rule):
    """Foreign-key columns are indexed (`index=True`, or an `Index` in `__table_args__`)."""

    id = "DB-007"
    heuristic = (
        "A ForeignKey(...) column (also ForeignKeyConstraint columns and Core Table(...) "
        "columns) is indexed by index=True, unique=True, primary_key=True, or by an "
        "Index/UniqueConstraint/PrimaryKeyConstraint naming it in __table_args__ (of the class, "
        "an ancestor or, for a mixin, a model using it) or in module-level Index(...) calls."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail with the line of each unindexed foreign-key column."""
        scan = _models(ctx)
        if not scan.models:
            return self.not_applicable(NO_MODELS)
        columns = fk_columns(ctx, scan, _index_names)
        unindexed = [
            Evidence(c.path, c.line, f"foreign key {c.label} is not indexed")
            for c in columns
            if not c.indexed
        ]
        if unindexed:
            return self.failed(f"{len(unindexed)} unindexed foreign keys", unindexed)
        if not columns:
            return self.passed("no foreign-key columns")
        return self.passed(f"{len(columns)} foreign-key columns are indexed")


@register
class EnginePoolOptions(Rule):
    """The engine sets pool options (`pool_size`, `max_overflow` or `pool_pre_ping`)."""

    id = "DB-008"
    heuristic = (
        "Every create_async_engine/create_engine call in app code must pass one of the pool "
        "options. `**kwargs`, poolclass=... or *_engine_from_config(...) warn: the options "
        "cannot be seen or pooling is replaced on purpose."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail on engines without pool options; warn where they cannot be seen."""
        calls = engine_calls(ctx)
        if not calls:
            return self.not_applicable("app code creates no SQLAlchemy engine")
        bare: list[Evidence] = []
        unsure: list[Evidence] = []
        for site in calls:
            given = {kw.arg for kw in site.call.keywords}
            if site.name.endswith("_from_config") or None in given or "poolclass" in given:
                unsure.append(Evidence(site.path, site.line, f"{site.name}: pool options unseen"))
            elif not given.intersection(POOL_OPTIONS):
                message = f"{site.name}(...) sets none of {', '.join(POOL_OPTIONS)}"
                bare.append(Evidence(site.path, site.line, message))
        if bare:
            return self.failed("engine without pool options", bare + unsure)
        if unsure:
            return self.warned("engine pool options cannot be seen", unsure)
        return self.passed("the engine sets pool options")


@register
class EagerLoading(Rule):
    """Where models declare `relationship()`, repositories use eager loading."""

    id = "DB-009"
    heuristic = (
        "Eager loading is a call to selectinload/joinedload/subqueryload/immediateload/"
        "contains_eager in repositories/ (or crud/), or lazy='selectin'/'joined'/... on every "
        "relationship(). Eager loading seen only outside repositories warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail with the relationships when nothing loads them eagerly."""
        scan = _models(ctx)
        relations = [
            col
            for cls in scan.mapped
            for col in column_defs(cls, ctx.import_graph.aliases(cls.path))
            if col.kind == "relationship"
        ]
        if not relations:
            return self.not_applicable("models declare no relationship()")
        if eager_loading_calls(ctx, ctx.layer_files("repositories")):
            return self.passed("repositories load relationships eagerly")
        lazy = [c for c in relations if const_str(keyword(c.call, "lazy")) not in EAGER_LAZY]
        if not lazy:
            return self.passed("every relationship() is eager (lazy=...)")
        evidence = [
            Evidence(c.owner.path, c.line, f"{c.owner.name}.{c.name} is loaded lazily")
            for c in lazy
        ][:MAX_EVIDENCE]
        elsewhere = eager_loading_calls(ctx, ctx.app_files)
        if elsewhere:
            first = elsewhere[0]
            evidence.insert(0, Evidence(first[0], first[1], "eager loading outside repositories"))
            return self.warned("eager loading only outside repositories", evidence)
        return self.failed("relationships are never loaded eagerly", evidence)
