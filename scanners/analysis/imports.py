"""The project's module import graph, computed once per scan from the cached ASTs.

Every tracked Python file under the project root gets a dotted module name relative to an
import root. Candidate roots are the project root, its `src/` folder, the app package folder
and the repository root; an absolute import resolves against the first root that holds it, so
`src.api.x` (code run from the project root) and `api.x` (code run from `src/`) both resolve.
A file's own module name uses the root its project's imports use most.

Each import statement becomes `ImportEdge`s: `from pkg import a, b` gives one edge per
imported submodule and one edge to `pkg` for the imported attributes. Imports inside
`if TYPE_CHECKING:` (also `typing.TYPE_CHECKING`, aliased `typing`, and `if False:`) are
flagged `is_type_checking_only`: they are not runtime dependencies, and the layering rules
ignore them. Imports inside functions are runtime dependencies (`in_function`, and
`is_conditional` like those under `if`/`try`/`with`/loops).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from scanners.analysis.astutil import ImportStatement, import_statements
from scanners.context import PyModule, RepoContext
from scanners.layers import LayerMap

_STDLIB = frozenset(sys.stdlib_module_names)


@dataclass(frozen=True, slots=True)
class ImportEdge:
    """One module imported by one file.

    `resolved_path` is the repository-relative file the import loads (a package's
    `__init__.py`), the folder of a namespace package, or None for third-party, standard
    library and unresolvable imports.
    """

    src_path: str
    line: int
    target_module: str  # absolute dotted name (relative imports resolved)
    resolved_path: str | None
    names: tuple[str, ...] = ()  # names taken by `from ... import`; empty for `import x`
    is_type_checking_only: bool = False
    is_conditional: bool = False
    in_function: bool = False
    level: int = 0  # dots of a relative import

    @property
    def top(self) -> str:
        """The first part of the target (`sqlalchemy` for `sqlalchemy.ext.asyncio`)."""
        return self.target_module.split(".", 1)[0]

    @property
    def is_local(self) -> bool:
        """Whether the import resolves to the project's own code."""
        return self.resolved_path is not None

    @property
    def is_runtime(self) -> bool:
        """Whether the import happens when the program runs (not only for type checkers)."""
        return not self.is_type_checking_only


@dataclass(slots=True)
class _Index:
    """Dotted names of the files (and package folders) below one import root."""

    root: str
    modules: dict[str, str] = field(default_factory=dict)
    packages: dict[str, str] = field(default_factory=dict)  # dotted -> folder

    def find(self, dotted: str) -> str | None:
        return self.modules.get(dotted) or self.packages.get(dotted)


class ImportGraph:
    """Imports of every project Python file, indexed both ways (see the module docstring)."""

    def __init__(
        self,
        modules: Sequence[PyModule],
        roots: Sequence[str],
        project_rel: str = "",
        app_paths: Collection[str] = (),
        external: Collection[str] = (),
        role_of: Callable[[str], str | None] | None = None,
    ) -> None:
        """Index `modules` under the candidate `roots` and resolve every import.

        `external` lists top-level names of declared third-party packages: they never
        resolve to a local file (an `app/redis.py` does not make `import redis` local).
        `role_of` gives the layer of an app file or folder (`RepoContext.layer_of`).
        """
        self._role_of = role_of or _roles(modules, project_rel, frozenset(app_paths))
        self._project_root = project_rel
        self._external = frozenset(_normalise(n) for n in external)
        self._counting = True
        self._app_paths = frozenset(app_paths)
        self._app_dirs = frozenset(str(PurePosixPath(p).parent) for p in self._app_paths)
        self._indexes = [_build_index(root, [m.path for m in modules]) for root in roots]
        self._files = frozenset(m.path for m in modules)
        self._hits: Counter[str] = Counter()
        self._layer_cache: dict[str, str | None] = {}
        self._aliases: dict[str, dict[str, str]] = {}
        raw = {m.path: import_statements(m.tree) for m in modules if m.tree is not None}
        for items in raw.values():  # first pass: which roots do absolute imports use?
            for item in items:
                targets = [item.module] if item.is_from else [n for n, _ in item.names]
                for target in targets:
                    if item.level == 0 and target:
                        self._resolve_absolute(target, count=True)
        self._counting = False
        self.edges: list[ImportEdge] = []
        self._from: dict[str, list[ImportEdge]] = {}
        for path, items in raw.items():
            aliases: dict[str, str] = {}
            for item in items:
                for edge in self._edges(path, item, aliases):
                    self.edges.append(edge)
                    self._from.setdefault(path, []).append(edge)
            self._aliases[path] = aliases

    # ----- queries ----------------------------------------------------------------------
    def edges_from(self, path: str, *, runtime_only: bool = False) -> list[ImportEdge]:
        """Imports made by the file at `path` (repository-relative), in source order."""
        edges = self._from.get(path, [])
        return [e for e in edges if e.is_runtime] if runtime_only else list(edges)

    def aliases(self, path: str) -> dict[str, str]:
        """Local name -> absolute qualified name bound by the imports of the file at `path`."""
        return self._aliases.get(path, {})

    def imports_external(
        self, path: str, top_names: Iterable[str], *, runtime_only: bool = True
    ) -> list[ImportEdge]:
        """Runtime imports of third-party packages whose top-level name is in `top_names`."""
        wanted = {name.lower().replace("-", "_") for name in top_names}
        return [
            e
            for e in self.edges_from(path, runtime_only=runtime_only)
            if not e.is_local and e.level == 0 and e.top.lower() in wanted
        ]

    def layer_of(self, path: str) -> str | None:
        """The layer (routes, services, ...) of an app file or folder, innermost folder wins."""
        if path in self._layer_cache:
            return self._layer_cache[path]
        layer = None
        is_file = path.endswith(".py")
        if (path in self._app_paths) if is_file else self._holds_app_code(path):
            layer = self._role_of(path)
        self._layer_cache[path] = layer
        return layer

    def module_name(self, path: str) -> str | None:
        """Dotted module name of a project file under the import root its project uses most."""
        best: tuple[int, int, str] | None = None
        for order, index in enumerate(self._indexes):
            name = _dotted_under(index.root, path)
            if name is not None and (index.find(name) == path):
                key = (-self._hits[index.root], order, name)
                best = key if best is None or key < best else best
        return best[2] if best else None

    def path_of(self, module: str) -> str | None:
        """The file (or namespace folder) an absolute dotted module name loads, if local."""
        found = self._resolve_absolute(module)
        return found[1] if found else None

    # ----- building ---------------------------------------------------------------------
    def _holds_app_code(self, folder: str) -> bool:
        prefix = folder.rstrip("/") + "/"
        return folder in self._app_dirs or any(d.startswith(prefix) for d in self._app_dirs)

    def _active(self, root: str) -> bool:
        if root == self._project_root:
            return True
        hits = self._hits[root]
        return hits > 0 and hits >= self._hits[self._project_root]

    def _resolve_absolute(self, module: str, *, count: bool = False) -> tuple[str, str] | None:
        """(root, path) of the first candidate root holding `module`.

        Another root takes part when the first pass saw it used at least as often as the
        project root: a lone `import jwt` next to an `app/jwt.py` in a project that imports
        `app.*` everywhere stays third-party.
        """
        top = module.split(".", 1)[0]
        if top in _STDLIB or _normalise(top) in self._external:
            return None
        for index in self._indexes:
            if not (self._counting or self._active(index.root)):
                continue
            found = index.find(module)
            if found is not None:
                if count:
                    self._hits[index.root] += 1
                return index.root, found
        return None

    def _edges(self, path: str, item: ImportStatement, aliases: dict[str, str]) -> list[ImportEdge]:
        if not item.is_from:
            out = []
            for name, asname in item.names:
                head = name.split(".", 1)[0]
                aliases[asname or head] = name if asname else head
                out.append(_edge(path, item, name, self.path_of(name)))
            return out
        base, base_path = self._from_base(path, item)
        edges: list[ImportEdge] = []
        attributes: list[str] = []
        for name, asname in item.names:
            full = f"{base}.{name}" if base else name
            aliases[asname or name] = full
            sub_path = self._submodule(base, base_path, name, item.level) if name != "*" else None
            if sub_path is not None:
                edges.append(_edge(path, item, full, sub_path, (name,)))
            else:
                attributes.append(name)
        if attributes:
            edges.insert(0, _edge(path, item, base, base_path, tuple(attributes)))
        return edges

    def _from_base(self, path: str, item: ImportStatement) -> tuple[str, str | None]:
        """(absolute dotted name, local file or folder) of the `from X` part."""
        if item.level == 0:
            module = item.module or ""
            return module, self.path_of(module)
        folder = PurePosixPath(path).parent
        for _ in range(item.level - 1):
            if folder == PurePosixPath("."):
                dots = "." * item.level
                return f"{dots}{item.module or ''}", None
            folder = folder.parent
        parts = item.module.split(".") if item.module else []
        target = folder.joinpath(*parts).as_posix() if parts else folder.as_posix()
        target = "" if target == "." else target
        local = _file_or_package(target, self._files, self._app_dirs)
        dotted = self._folder_name(target) if local else None
        if dotted is None:
            package = self._folder_name(folder.as_posix())
            suffix = item.module or ""
            dotted = ".".join(p for p in (package or "", suffix) if p) or "." * item.level
        return dotted, local

    def _submodule(self, base: str, base_path: str | None, name: str, level: int) -> str | None:
        """The file of `base.name` when it is a submodule rather than an attribute."""
        if level == 0:
            return self.path_of(f"{base}.{name}") if base else self.path_of(name)
        if base_path is None:
            return None
        folder = (
            base_path[: -len("/__init__.py")] if base_path.endswith("__init__.py") else base_path
        )
        if base_path.endswith(".py") and not base_path.endswith("__init__.py"):
            return None  # `from .module import name`: name is an attribute of a plain module
        return _file_or_package(f"{folder}/{name}" if folder else name, self._files, self._app_dirs)

    def _folder_name(self, target: str) -> str | None:
        """Dotted name of a repository-relative module path without `.py` (or a folder)."""
        for candidate in (f"{target}.py", f"{target}/__init__.py"):
            if candidate in self._files:
                return self.module_name(candidate)
        best: tuple[int, int, str] | None = None
        for order, index in enumerate(self._indexes):
            name = _dotted_under(index.root, f"{target}/__init__.py")
            if name is not None and index.find(name) is not None:
                key = (-self._hits[index.root], order, name)
                best = key if best is None or key < best else best
        return best[2] if best else None


def build_import_graph(ctx: RepoContext) -> ImportGraph:
    """The import graph of the project's Python files (see the module docstring)."""
    roots: list[str] = []
    for root in (ctx.project_rel, ctx.path("src"), ctx.app_package_rel, ""):
        if root is None or root in roots:
            continue
        if root in ("", ctx.project_rel) or ctx.dir_exists(root):
            roots.append(root)
    external = {r.name for r in (*ctx.runtime_requirements, *ctx.dev_requirements)}
    return ImportGraph(
        ctx.python_files,
        roots,
        ctx.project_rel,
        frozenset(m.path for m in ctx.app_files),
        external,
        ctx.layer_of,
    )


def _normalise(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def _edge(
    path: str, item: ImportStatement, target: str, resolved: str | None, names: tuple[str, ...] = ()
) -> ImportEdge:
    return ImportEdge(
        path,
        item.line,
        target,
        resolved,
        names,
        is_type_checking_only=item.tc_only,
        is_conditional=item.conditional,
        in_function=item.in_function,
        level=item.level,
    )


def _build_index(root: str, paths: Iterable[str]) -> _Index:
    index = _Index(root)
    for path in paths:
        name = _dotted_under(root, path)
        if name is None:
            continue
        index.modules[name] = path
        parts = name.split(".")
        folder = _parent(path)
        if not (path == "__init__.py" or path.endswith("/__init__.py")):
            parts = parts[:-1]
        for depth in range(len(parts), 0, -1):
            index.packages.setdefault(".".join(parts[:depth]), folder)
            folder = _parent(folder)
    return index


def _parent(path: str) -> str:
    """`PurePosixPath(path).parent.as_posix()` for a relative git path, without the objects."""
    head, slash, _ = path.rpartition("/")
    return head if slash else "."


def _dotted_under(root: str, path: str) -> str | None:
    """`a.b` for `<root>/a/b.py` or `<root>/a/b/__init__.py`; None outside root or invalid."""
    prefix = f"{root}/" if root else ""
    if not path.startswith(prefix) or not path.endswith(".py"):
        return None
    parts = path[len(prefix) : -3].split("/")
    if parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


def _file_or_package(target: str, files: frozenset[str], dirs: frozenset[str]) -> str | None:
    for candidate in (f"{target}.py", f"{target}/__init__.py"):
        if candidate in files:
            return candidate
    prefix = f"{target}/"
    if target in dirs or any(d.startswith(prefix) for d in dirs):
        return target  # a namespace package
    return None


def _roles(
    modules: Sequence[PyModule], project_rel: str, app_paths: frozenset[str]
) -> Callable[[str], str | None]:
    """`RepoContext.layer_of` for a graph built without a context."""
    prefix = f"{project_rel}/" if project_rel else ""
    layers = LayerMap(
        (m.path[len(prefix) :], m.tree)
        for m in modules
        if m.path in app_paths and m.path.startswith(prefix)
    )

    def role_of(path: str) -> str | None:
        local = path[len(prefix) :] if path.startswith(prefix) else path
        return layers.role(local) if local.endswith(".py") else layers.folder_role(local)

    return role_of
