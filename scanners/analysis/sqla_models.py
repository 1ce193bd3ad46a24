"""SQLAlchemy declarative models of the app code, found from the cached ASTs.

A *declarative root* is a class deriving from `DeclarativeBase`/`DeclarativeBaseNoMeta`
(also aliased or through `sqlalchemy.orm.decl_api`); a module-level name assigned from
`declarative_base()` or `<registry>.generate_base()` plays the same part. A *model* is a
class of the app code that derives from a root (through any number of app classes, resolved
across modules with the import graph, re-exports included) and is not `__abstract__`; a class
with a `__tablename__` counts as a model even when its base cannot be resolved. *Mixins* are
the app-code ancestors of models that are neither: their columns belong to the models too.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scanners.analysis.astutil import call_name, dotted_name, iter_calls, qualified_name

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from scanners.analysis.imports import ImportGraph
    from scanners.context import PyModule, RepoContext

DECLARATIVE_BASES = frozenset(
    {
        "sqlalchemy.orm.DeclarativeBase",
        "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlalchemy.orm.decl_api.DeclarativeBase",
        "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta",
    }
)
_BASE_FACTORIES = frozenset({"declarative_base", "generate_base"})
_MAX_DEPTH = 12
_CACHE_KEY = "_sqla_model_scan"
ClassKey = tuple[str, str]  # (module path, class name)


@dataclass(slots=True)
class AppClass:
    """One top-level class of the app code."""

    module: PyModule
    node: ast.ClassDef
    parents: list[AppClass] = field(default_factory=list)  # bases defined in app code
    external: list[str] = field(default_factory=list)  # qualified names of other bases

    @property
    def path(self) -> str:
        """Repository-relative path of its module."""
        return self.module.path

    @property
    def name(self) -> str:
        """The class name."""
        return self.node.name

    @property
    def line(self) -> int:
        """Line of the `class` statement."""
        return self.node.lineno

    def assigned(self, name: str) -> ast.expr | None:
        """Value of a class-level `name = ...` / `name: T = ...`, if any."""
        for stmt in self.node.body:
            if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in stmt.targets
            ):
                return stmt.value
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and stmt.target.id == name
            ):
                return stmt.value
        return None

    def defines(self, method: str) -> bool:
        """Whether the class body defines a method (or assigns the name)."""
        return any(
            isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef) and s.name == method
            for s in self.node.body
        ) or (self.assigned(method) is not None)

    def ancestors(self) -> list[AppClass]:
        """App-code ancestors, nearest first, each once."""
        out: list[AppClass] = []
        stack = list(reversed(self.parents))
        while stack and len(out) < _MAX_DEPTH * 4:
            cls = stack.pop()
            if cls is not self and cls not in out:
                out.append(cls)
                stack.extend(reversed(cls.parents))
        return out


@dataclass(frozen=True, slots=True)
class ColumnDef:
    """A class-level attribute assigned from `mapped_column`, `Column` or `relationship`."""

    owner: AppClass
    name: str
    line: int
    kind: str  # "mapped_column", "Column", "relationship"
    call: ast.Call
    annotation: ast.expr | None


@dataclass(slots=True)
class ModelScan:
    """Declarative roots, models and mixins of the app code."""

    roots: list[AppClass] = field(default_factory=list)
    models: list[AppClass] = field(default_factory=list)
    mixins: list[AppClass] = field(default_factory=list)

    @property
    def mapped(self) -> list[AppClass]:
        """Every class whose columns end up in a table: models, mixins and roots."""
        return [*self.models, *self.mixins, *self.roots]

    def modules(self) -> list[PyModule]:
        """Modules holding model-related classes, in path order."""
        found = {cls.path: cls.module for cls in self.mapped}
        return [found[p] for p in sorted(found)]


def sqla_name(node: ast.AST, aliases: Mapping[str, str]) -> str | None:
    """Last part of a SQLAlchemy name (`sa.Column` -> `Column`), else None.

    A bare or locally bound name (`Column` from a star import, `db.Column` of a
    Flask-SQLAlchemy object) counts too; a name imported from another package does not.
    """
    qualified = qualified_name(node, aliases)
    if qualified is None:
        return None
    head = (dotted_name(node) or "").split(".", 1)[0]
    if qualified.startswith("sqlalchemy.") or "." not in qualified or head not in aliases:
        return qualified.rsplit(".", 1)[-1]
    return None


def column_defs(cls: AppClass, aliases: Mapping[str, str]) -> list[ColumnDef]:
    """The class body's column and relationship attributes, in source order."""
    out: list[ColumnDef] = []
    for stmt in cls.node.body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        annotation: ast.expr | None = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            target, value, annotation = stmt.target, stmt.value, stmt.annotation
        else:
            continue
        if not isinstance(target, ast.Name) or not isinstance(value, ast.Call):
            continue
        kind = sqla_name(value.func, aliases)
        if kind in ("mapped_column", "Column", "relationship"):
            out.append(ColumnDef(cls, target.id, stmt.lineno, kind, value, annotation))
    return out


def find_models(ctx: RepoContext) -> ModelScan:
    """Declarative roots, models and mixins of the app code (computed once per context)."""
    cached = ctx.__dict__.get(_CACHE_KEY)
    if not isinstance(cached, ModelScan):
        cached = ctx.__dict__[_CACHE_KEY] = _find_models(ctx)
    return cached


def _find_models(ctx: RepoContext) -> ModelScan:
    graph = ctx.import_graph
    classes: dict[ClassKey, AppClass] = {}
    symbols: set[ClassKey] = set()  # names assigned from declarative_base()
    for mod in ctx.app_files:
        if mod.tree is None or "class " not in (mod.source or ""):
            continue
        aliases = graph.aliases(mod.path)
        for stmt in mod.tree.body:
            if isinstance(stmt, ast.ClassDef):
                classes[(mod.path, stmt.name)] = AppClass(mod, stmt)
            elif isinstance(stmt, ast.Assign) and _is_base_factory(stmt, aliases):
                symbols.update((mod.path, t.id) for t in stmt.targets if isinstance(t, ast.Name))
    for cls in classes.values():
        _link(cls, classes, graph)
    return _classify(classes, symbols, graph)


def _is_base_factory(stmt: ast.Assign, aliases: Mapping[str, str]) -> bool:
    """`Base = declarative_base()` or `Base = registry.generate_base()`."""
    if not isinstance(stmt.value, ast.Call):
        return False
    return (call_name(stmt.value, aliases) or "").rsplit(".", 1)[-1] in _BASE_FACTORIES


def _link(cls: AppClass, classes: dict[ClassKey, AppClass], graph: ImportGraph) -> None:
    aliases = graph.aliases(cls.path)
    for base in cls.node.bases:
        local = _resolve_class(base, cls.path, classes, graph)
        if isinstance(local, AppClass):
            cls.parents.append(local)
        elif local is not None:
            cls.external.append(local)
        else:
            cls.external.append(qualified_name(base, aliases) or "")


def _resolve_class(
    node: ast.expr, path: str, classes: dict[ClassKey, AppClass], graph: ImportGraph
) -> AppClass | str | None:
    """The app class a base expression names, else a `path:name` symbol key or a qualified name."""
    if isinstance(node, ast.Name) and (path, node.id) in classes:
        return classes[(path, node.id)]
    qualified = qualified_name(node, graph.aliases(path))
    for _ in range(_MAX_DEPTH):
        if qualified is None or "." not in qualified:
            return qualified
        module, _, attr = qualified.rpartition(".")
        found = graph.path_of(module)
        if found is None or not found.endswith(".py"):
            return qualified
        if (found, attr) in classes:
            return classes[(found, attr)]
        reexport = graph.aliases(found).get(attr)
        if reexport is None:
            return f"{found}:{attr}"
        qualified = reexport
    return qualified


def _classify(
    classes: dict[ClassKey, AppClass], symbols: set[ClassKey], graph: ImportGraph
) -> ModelScan:
    scan = ModelScan()
    symbol_names = {f"{p}:{n}" for p, n in symbols}

    def is_root(cls: AppClass) -> bool:
        return any(e in DECLARATIVE_BASES for e in cls.external)

    def derives(cls: AppClass) -> bool:
        chain = [cls, *cls.ancestors()]
        return any(is_root(c) or _names_symbol(c, symbol_names, graph) for c in chain)

    for cls in classes.values():
        abstract = _is_true(cls.assigned("__abstract__"))
        if is_root(cls):
            scan.roots.append(cls)
        elif not abstract and (derives(cls) or cls.assigned("__tablename__") is not None):
            scan.models.append(cls)
    taken = {id(c) for c in scan.models + scan.roots}
    for model in scan.models:
        for parent in model.ancestors():
            if id(parent) not in taken:
                taken.add(id(parent))
                scan.mixins.append(parent)
    for group in (scan.roots, scan.models, scan.mixins):
        group.sort(key=lambda c: (c.path, c.line))
    return scan


def _names_symbol(cls: AppClass, symbol_names: set[str], graph: ImportGraph) -> bool:
    """Whether a direct base is a `declarative_base()` name (same module or imported)."""
    for base in cls.node.bases:
        if isinstance(base, ast.Name) and f"{cls.path}:{base.id}" in symbol_names:
            return True
    return any(e in symbol_names for e in cls.external)


def _is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def calls_named(tree: ast.AST, aliases: Mapping[str, str], names: set[str]) -> Iterator[ast.Call]:
    """Calls whose SQLAlchemy name (see `sqla_name`) is one of `names`."""
    for call in iter_calls(tree):
        if sqla_name(call.func, aliases) in names:
            yield call
