"""Find a project's pydantic-settings `Settings` class and the environment variables it reads.

Only the AST is read: imports are resolved per module (`from pydantic_settings import
BaseSettings as B`, `import pydantic_settings as ps`), and a class counts as a settings class
when it derives from `BaseSettings` directly or through other classes of the app code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from scanners.context import PyModule, RepoContext

# Field names that hold the deployment environment (compared lower-cased).
ENVIRONMENT_FIELD_NAMES = frozenset({"environment", "env", "app_env", "app_environment"})
_NESTED_DEPTH = 3


@dataclass(slots=True)
class ClassInfo:
    """One top-level class of the app code with its bases resolved to dotted names."""

    module: PyModule
    node: ast.ClassDef
    bases: list[str]
    origin: str | None = None  # module BaseSettings comes from, when a settings class
    parents: list[ClassInfo] = field(default_factory=list)  # bases defined in app code

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
    def is_pydantic_v1(self) -> bool:
        """Whether `BaseSettings` comes from pydantic itself (the removed v1 API)."""
        return (
            self.origin is not None
            and self.origin.startswith("pydantic")
            and not (self.origin.startswith("pydantic_settings"))
        )


@dataclass(frozen=True, slots=True)
class EnvVar:
    """An environment variable a settings field reads; nested models may list leaves."""

    name: str
    line: int
    children: tuple[EnvVar, ...] = ()

    def satisfied(self, present: set[str]) -> bool:
        """Whether `present` documents this variable (itself, or every nested leaf)."""
        if self.name in present:
            return True
        return bool(self.children) and all(c.satisfied(present) for c in self.children)

    def missing(self, present: set[str]) -> list[str]:
        """Names to add to `present`; leaves once some leaf of a nested model is there."""
        if self.satisfied(present):
            return []
        if self.children and any(c.satisfied(present) for c in self.children):
            return [name for c in self.children for name in c.missing(present)]
        return [self.name]


@dataclass(slots=True)
class SettingsScan:
    """Every settings class of the app code and the one that is *the* `Settings`."""

    classes: list[ClassInfo]
    all_classes: dict[str, ClassInfo]
    named: list[ClassInfo] = field(default_factory=list)  # settings classes named `Settings`
    aliases: dict[str, ast.expr] = field(default_factory=dict)  # module-level type aliases

    def resolve(self, annotation: ast.expr) -> ast.expr:
        """An annotation with wrappers stripped and type aliases (`Env = Literal[...]`) followed."""
        node = unwrap_annotation(annotation)
        for _ in range(5):
            if not (isinstance(node, ast.Name) and node.id in self.aliases):
                break
            node = unwrap_annotation(self.aliases[node.id])
        return node

    @property
    def main(self) -> ClassInfo | None:
        """The `Settings` class (the first one named so, else the first settings class)."""
        if self.named:
            return self.named[0]
        return self.classes[0] if self.classes else None


def find_settings(ctx: RepoContext) -> SettingsScan:
    """Collect the settings classes of the app code, the expected location first.

    Computed once per context: the scan is shared, do not mutate it.
    """
    return ctx.memo("settings.find_settings", _find_settings)


def _find_settings(ctx: RepoContext) -> SettingsScan:
    infos: list[ClassInfo] = []
    aliases: dict[str, ast.expr] = {}
    for mod in ctx.app_files:
        if mod.tree is None:
            continue
        imports = _imports(mod.tree)
        for stmt in mod.tree.body:
            if isinstance(stmt, ast.ClassDef):
                bases = [_dotted(b, imports) for b in stmt.bases]
                infos.append(ClassInfo(mod, stmt, [b for b in bases if b]))
            else:
                aliases.update(_type_alias(stmt))
    classes: dict[str, ClassInfo] = {}
    for info in infos:
        classes.setdefault(info.name, info)
    roots = _app_roots(ctx)
    for info in infos:
        info.parents = [
            parent
            for base in info.bases
            if (parent := _app_class(base, classes, roots)) is not None and parent is not info
        ]
    _resolve_origins(infos)
    found = [c for c in infos if c.origin is not None]
    found.sort(key=lambda c: (not is_settings_location(ctx, c.path), c.path, c.line))
    named = [c for c in found if c.name == "Settings"]
    return SettingsScan(found, classes, named, aliases)


def _type_alias(stmt: ast.stmt) -> dict[str, ast.expr]:
    """`X = Literal[...]`, `X: TypeAlias = ...` and `type X = ...` at module level."""
    if isinstance(stmt, ast.TypeAlias) and isinstance(stmt.name, ast.Name):
        return {stmt.name.id: stmt.value}
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target, value = stmt.targets[0], stmt.value
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        target, value = stmt.target, stmt.value
    else:
        return {}
    if isinstance(target, ast.Name) and isinstance(value, ast.Subscript | ast.Name | ast.BinOp):
        return {target.id: value}
    return {}


def _app_roots(ctx: RepoContext) -> set[str]:
    """Top-level package names of the app code (`src`, `app`, and packages under `src/`)."""
    prefix_len = len(ctx.project_rel) + 1 if ctx.project_rel else 0
    roots: set[str] = set()
    for mod in ctx.app_files:
        parts = PurePosixPath(mod.path[prefix_len:]).parts
        roots.add(parts[0].removesuffix(".py"))
        if parts[0] == "src" and len(parts) > 1:
            roots.add(parts[1].removesuffix(".py"))
    return roots


def _app_class(base: str, classes: dict[str, ClassInfo], roots: set[str]) -> ClassInfo | None:
    """The app-code class a base names: a local name, a relative or an app-package import."""
    if "." in base and not base.startswith(".") and base.split(".", 1)[0] not in roots:
        return None  # imported from a third-party package (`django.apps.AppConfig`)
    return classes.get(base.rsplit(".", 1)[-1])


def _resolve_origins(infos: list[ClassInfo]) -> None:
    """Mark classes deriving from BaseSettings, directly or through app classes (fixpoint)."""
    changed = True
    while changed:
        changed = False
        for info in infos:
            if info.origin is not None:
                continue
            origins = [_base_settings_origin(base) for base in info.bases]
            origins += [parent.origin for parent in info.parents]
            origin = next((o for o in origins if o is not None), None)
            if origin is not None:
                info.origin = origin
                changed = True


def _base_settings_origin(dotted: str) -> str | None:
    if dotted.rsplit(".", 1)[-1] != "BaseSettings" or "." not in dotted or dotted[0] == ".":
        return None
    return dotted.rsplit(".", 1)[0]


def _imports(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted origin for the module's top-level imports."""
    names: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom):
            module = "." * stmt.level + (stmt.module or "")
            for alias in stmt.names:
                names[alias.asname or alias.name] = f"{module}.{alias.name}"
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    head = alias.name.split(".", 1)[0]
                    names[head] = head
    return names


def _dotted(node: ast.expr, imports: dict[str, str]) -> str:
    """`a.b.C` of a base expression with its head resolved through the imports."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    parts.append(imports.get(node.id, node.id))
    return ".".join(reversed(parts))


_LOCATION = re.compile(r"^(?:src|app)/(?:[A-Za-z_]\w*/)?core/config\.py$")


def expected_settings_path(ctx: RepoContext) -> str:
    """Repository-relative path where the standard wants the `Settings` class."""
    package = ctx.app_package_rel or ctx.path("src")
    return f"{package}/core/config.py"


def is_settings_location(ctx: RepoContext, path: str) -> bool:
    """Whether `path` is `core/config.py` of the app package (`src/`, `app/`, `src/<pkg>/`)."""
    prefix = f"{ctx.project_rel}/" if ctx.project_rel else ""
    if not path.startswith(prefix):
        return False
    if _LOCATION.match(path[len(prefix) :]):
        return True
    package = ctx.app_package_rel
    if package is None or not path.startswith(f"{package}/"):
        return False
    parts = PurePosixPath(path[len(package) + 1 :]).parts
    return parts[-2:] == ("core", "config.py") and len(parts) <= 3


# ----- fields ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SettingsField:
    """An annotated attribute of a settings (or nested) model."""

    name: str
    line: int
    annotation: ast.expr
    aliases: tuple[str, ...] = ()


def class_fields(info: ClassInfo, _seen: frozenset[str] = frozenset()) -> list[SettingsField]:
    """Fields of a model class, inherited fields of app-code bases first."""
    if info.name in _seen:
        return []
    seen = _seen | {info.name}
    out: dict[str, SettingsField] = {}
    for parent in info.parents:
        out.update((f.name, f) for f in class_fields(parent, seen))
    for stmt in info.node.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        name = stmt.target.id
        if name.startswith("_") or name == "model_config" or _is_classvar(stmt.annotation):
            continue
        out[name] = SettingsField(name, stmt.lineno, stmt.annotation, _aliases(stmt.value))
    return list(out.values())


def _is_classvar(annotation: ast.expr) -> bool:
    target = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    return (isinstance(target, ast.Name) and target.id == "ClassVar") or (
        isinstance(target, ast.Attribute) and target.attr == "ClassVar"
    )


def _aliases(value: ast.expr | None) -> tuple[str, ...]:
    """`Field(alias=...)` / `validation_alias=` string or `AliasChoices(...)` names."""
    if not isinstance(value, ast.Call):
        return ()
    for kw in value.keywords:
        if kw.arg not in {"alias", "validation_alias"}:
            continue
        if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
            return (kw.value.value,)
        if isinstance(kw.value, ast.Call):
            return tuple(
                a.value
                for a in kw.value.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            )
    return ()


def config_entries(info: ClassInfo) -> dict[str, ast.expr]:
    """Keys of `model_config = SettingsConfigDict(...)` (or a dict literal) of a class."""
    for stmt in info.node.body:
        value = assigned_value(stmt, "model_config")
        if isinstance(value, ast.Call):
            return {kw.arg: kw.value for kw in value.keywords if kw.arg}
        if isinstance(value, ast.Dict):
            return {
                k.value: v
                for k, v in zip(value.keys, value.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            }
    return {}


def assigned_value(stmt: ast.stmt, name: str) -> ast.expr | None:
    """The value `stmt` assigns to the plain name `name` (`x = v` or `x: T = v`), if any."""
    if isinstance(stmt, ast.Assign):
        if any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
            return stmt.value
    elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.value if stmt.target.id == name else None
    return None


def config_string(info: ClassInfo, key: str) -> str | None:
    """A string-valued `model_config` entry, or None."""
    node = config_entries(info).get(key)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def env_vars(scan: SettingsScan, info: ClassInfo) -> list[EnvVar]:
    """Environment variables the settings class reads, upper-cased, nested models expanded.

    A nested model field `db: Database` reads `DB` (as JSON); with `env_nested_delimiter`
    "__" it may instead be given leaf by leaf (`DB__HOST`, ...), so either form satisfies it.
    """
    prefix = (config_string(info, "env_prefix") or "").upper()
    delimiter = config_string(info, "env_nested_delimiter")
    out = []
    for fld in class_fields(info):
        if fld.aliases:
            out.append(EnvVar(fld.aliases[0].upper(), fld.line))
            continue
        name = f"{prefix}{fld.name}".upper()
        out.append(EnvVar(name, fld.line, _nested(scan, fld, name, delimiter, 1)))
    return out


def _nested(
    scan: SettingsScan, fld: SettingsField, name: str, delimiter: str | None, depth: int
) -> tuple[EnvVar, ...]:
    if not delimiter or depth > _NESTED_DEPTH:
        return ()
    model = _model_of(fld.annotation, scan.all_classes)
    if model is None:
        return ()
    return tuple(
        EnvVar(
            f"{name}{delimiter}{child.name.upper()}",
            fld.line,
            _nested(scan, child, f"{name}{delimiter}{child.name.upper()}", delimiter, depth + 1),
        )
        for child in class_fields(model)
    )


def _model_of(annotation: ast.expr, classes: dict[str, ClassInfo]) -> ClassInfo | None:
    """The app-code class an annotation names (through `Optional`/`X | None`/`Annotated`)."""
    node = unwrap_annotation(annotation)
    name = node.id if isinstance(node, ast.Name) else None
    if isinstance(node, ast.Attribute):
        name = node.attr
    info = classes.get(name) if name else None
    return info if info is not None and class_fields(info) else None


def unwrap_annotation(annotation: ast.expr) -> ast.expr:
    """Strip `Annotated[X, ...]`, `Optional[X]` and `X | None` down to `X`."""
    node = annotation
    for _ in range(5):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            node = node.right if _is_none(node.left) else node.left
        elif isinstance(node, ast.Subscript) and _subscript_name(node) in {"Annotated", "Optional"}:
            inner = node.slice
            node = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
        else:
            break
    return node


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _subscript_name(node: ast.Subscript) -> str:
    target = node.value
    if isinstance(target, ast.Name):
        return target.id
    return target.attr if isinstance(target, ast.Attribute) else ""
