"""Pydantic model classes of the app code, their fields and their configuration.

A class is a model when one of its bases is `pydantic.BaseModel` (or `RootModel`,
`sqlmodel.SQLModel`), reached through the module's import aliases, or another model class
of the app code: a project base class in another module (`class Schema(BaseModel)` in
`schemas/base.py`, then `class UserRead(Schema)`), a generic base (`Page[T]`) or a local one.
pydantic-settings classes are not models here: their fields are environment variables.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scanners.analysis.astutil import dotted_name, keyword, qualified_name
from scanners.analysis.nodes import of_type

if TYPE_CHECKING:
    from scanners.analysis.imports import ImportGraph
    from scanners.context import PyModule, RepoContext

MODEL_ROOTS = frozenset(
    {
        "pydantic.BaseModel",
        "pydantic.main.BaseModel",
        "pydantic.RootModel",
        "pydantic.root_model.RootModel",
        "pydantic.v1.BaseModel",
        "pydantic.v1.main.BaseModel",
        "sqlmodel.SQLModel",
        "sqlmodel.main.SQLModel",
    }
)
ClassKey = tuple[str, str]  # (module path, class name)


@dataclass(frozen=True, slots=True)
class ModelField:
    """One field: a class-level annotated assignment that is not a ClassVar or private."""

    name: str
    line: int
    annotation: ast.expr
    value: ast.expr | None

    def field_call(self) -> ast.Call | None:
        """The `Field(...)` call giving the field's metadata (default or `Annotated` part)."""
        candidates: list[ast.expr] = [self.value] if self.value is not None else []
        if isinstance(self.annotation, ast.Subscript):
            head = dotted_name(self.annotation.value) or ""
            inner = self.annotation.slice
            if head.rsplit(".", 1)[-1] == "Annotated" and isinstance(inner, ast.Tuple):
                candidates.extend(inner.elts[1:])
        for node in candidates:
            if isinstance(node, ast.Call) and _last(node.func) == "Field":
                return node
        return None


@dataclass(slots=True)
class ModelClass:
    """A Pydantic model class of the app code."""

    module: PyModule
    node: ast.ClassDef
    parents: list[ModelClass] = field(default_factory=list)  # app-code model bases

    @property
    def key(self) -> ClassKey:
        """(module path, class name)."""
        return self.module.path, self.node.name

    @property
    def name(self) -> str:
        """The class name."""
        return self.node.name

    @property
    def path(self) -> str:
        """Repository-relative path of the module."""
        return self.module.path

    @property
    def line(self) -> int:
        """Line of the `class` statement."""
        return self.node.lineno

    @property
    def type_params(self) -> set[str]:
        """Names of the class's type parameters (`class Page[T](BaseModel)`)."""
        return {p.name for p in self.node.type_params if isinstance(p, ast.TypeVar)}

    def own_fields(self) -> list[ModelField]:
        """Fields declared in the class body itself."""
        out = []
        for stmt in self.node.body:
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            name = stmt.target.id
            annotation = stmt.annotation
            head = _last(annotation.value if isinstance(annotation, ast.Subscript) else annotation)
            if name.startswith("_") or name == "model_config" or head == "ClassVar":
                continue
            out.append(ModelField(name, stmt.lineno, stmt.annotation, stmt.value))
        return out

    def all_fields(self) -> dict[str, ModelField]:
        """Own and inherited fields by name (the subclass wins)."""
        out: dict[str, ModelField] = {}
        for cls in reversed(list(self.lineage())):
            out.update({f.name: f for f in cls.own_fields()})
        return out

    def lineage(self) -> Iterator[ModelClass]:
        """This class, then its app-code model ancestors, each once."""
        seen: set[ClassKey] = set()
        stack: list[ModelClass] = [self]
        while stack:
            cls = stack.pop(0)
            if cls.key in seen:
                continue
            seen.add(cls.key)
            yield cls
            stack.extend(cls.parents)

    def config_value(self, name: str) -> ast.expr | None:
        """A `model_config` entry (`ConfigDict(x=...)` or `{"x": ...}`), inherited too."""
        for cls in self.lineage():
            for stmt in cls.node.body:
                value = _config_assignment(stmt)
                if value is None:
                    continue
                if isinstance(value, ast.Call) and (found := keyword(value, name)) is not None:
                    return found
                if isinstance(value, ast.Dict):
                    for k, v in zip(value.keys, value.values, strict=True):
                        if isinstance(k, ast.Constant) and k.value == name:
                            return v
        return None


def _config_assignment(stmt: ast.stmt) -> ast.expr | None:
    if isinstance(stmt, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "model_config" for t in stmt.targets
    ):
        return stmt.value
    if (
        isinstance(stmt, ast.AnnAssign)
        and isinstance(stmt.target, ast.Name)
        and stmt.target.id == "model_config"
    ):
        return stmt.value
    return None


def _last(node: ast.AST | None) -> str | None:
    name = dotted_name(node) if node is not None else None
    return name.rsplit(".", 1)[-1] if name else None


@dataclass(slots=True)
class ModelIndex:
    """Every model class of the app code, by key and by bare name."""

    models: list[ModelClass]
    by_key: dict[ClassKey, ModelClass]
    _by_name: dict[str, list[ModelClass]] | None = None  # built on first use, from `models`

    def named(self, name: str) -> list[ModelClass]:
        """Model classes with this bare name."""
        if self._by_name is None:
            self._by_name = {}
            for model in self.models:
                self._by_name.setdefault(model.name, []).append(model)
        return list(self._by_name.get(name, ()))

    def resolve(self, node: ast.expr | None, path: str, graph: ImportGraph) -> ModelClass | None:
        """The model an expression names in the module at `path` (`UserRead`, `s.UserRead`)."""
        if node is None:
            return None
        key = class_key(node, path, graph)
        if key is not None and key in self.by_key:
            return self.by_key[key]
        name = _last(node)
        found = self.named(name) if name else []
        return found[0] if len(found) == 1 else None

    def in_paths(self, paths: set[str]) -> list[ModelClass]:
        """Models defined in the given files."""
        return [m for m in self.models if m.path in paths]


def class_key(node: ast.expr, path: str, graph: ImportGraph) -> ClassKey | None:
    """(module path, class name) of a class an expression names, when it is app code."""
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Name) and node.id not in graph.aliases(path):
        return path, node.id
    qualified = qualified_name(node, graph.aliases(path))
    if not qualified or "." not in qualified:
        return None
    module, _, name = qualified.rpartition(".")
    target = graph.path_of(module)
    return (target, name) if target is not None and target.endswith(".py") else None


def _parent_key(
    base: ast.expr, path: str, graph: ImportGraph, classes: Mapping[ClassKey, object]
) -> ClassKey | None:
    """The app-code class a base names; a unique bare name when imports hide it (re-exports)."""
    target = base.value if isinstance(base, ast.Subscript) else base
    key = class_key(target, path, graph)
    if key is not None and key in classes:
        return key
    qualified = qualified_name(target, graph.aliases(path)) or ""
    if "." in qualified and graph.path_of(qualified.rpartition(".")[0]) is None:
        return None  # imported from a third-party package
    name = _last(target)
    found = [k for k in classes if k[1] == name]
    return found[0] if len(found) == 1 else None


def _app_classes(ctx: RepoContext) -> dict[ClassKey, tuple[PyModule, ast.ClassDef]]:
    classes: dict[ClassKey, tuple[PyModule, ast.ClassDef]] = {}
    for mod in ctx.app_files:
        if mod.tree is None or "class " not in (mod.source or ""):
            continue
        for node in of_type(mod.tree, ast.ClassDef):
            classes.setdefault((mod.path, node.name), (mod, node))
    return classes


def find_models(ctx: RepoContext) -> ModelIndex:
    """Every Pydantic model class of the app code (see the module docstring)."""
    graph = ctx.import_graph
    classes = _app_classes(ctx)
    is_model: dict[ClassKey, ModelClass] = {}
    parents: dict[ClassKey, list[ClassKey]] = {}
    for key, (mod, node) in classes.items():
        aliases = graph.aliases(mod.path)
        for base in node.bases:
            target = base.value if isinstance(base, ast.Subscript) else base
            parent = _parent_key(base, mod.path, graph, classes)
            if qualified_name(target, aliases) in MODEL_ROOTS:
                is_model[key] = ModelClass(mod, node)
            elif parent is not None and parent != key:
                parents.setdefault(key, []).append(parent)
    changed = True
    while changed:  # a class is a model when an app-code base is one
        changed = False
        for key, bases_keys in parents.items():
            if key not in is_model and any(b in is_model for b in bases_keys):
                is_model[key] = ModelClass(*classes[key])
                changed = True
    for key, model in is_model.items():
        model.parents = [is_model[b] for b in parents.get(key, []) if b in is_model]
    models = sorted(is_model.values(), key=lambda m: (m.path, m.line))
    return ModelIndex(models, {m.key: m for m in models})
