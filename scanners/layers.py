"""The role of a module: the layer (routes, services, repositories, models, schemas, core) it is.

One definition, used by every rule that looks for a layer (`RepoContext.layer_files`, the
import graph's `layer_of`). A module's role comes from, in order:

1. its file name, when the name says it (`service.py`, `user_service.py`, `crud_user.py`,
   `models.py`, ...): the package-by-feature layout (`src/<domain>/service.py`)
   and layer modules outside a layer folder;
2. otherwise the innermost layer folder above it (`services/`, `service/`, `repos/`,
   `crud/`, ...).

Except that a module in a routes folder that imports FastAPI is a route module whatever its
name (`routes/users/crud.py` holds CRUD endpoints).

A folder named like a layer that directly holds modules named for two other roles
(`dispatch/service/{models,views,service}.py`) is a feature package about that subject,
not a layer: its name gives its files no role. Modules named like routes (`router.py`,
`routes.py`, `views.py`, `api.py`, `orders_router.py`) and files in a `views/` folder are
route modules only when they import FastAPI or Starlette: a Django `views.py` or database
router and a Flask `routes.py` are not the standard's routes layer.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import PurePosixPath

#: The layer folders of the standard's layout, as STR-002 asks for them (with the aliases it
#: accepts).
LAYER_ALIASES: dict[str, tuple[str, ...]] = {
    "routes": ("api/routes", "routes", "routers", "endpoints"),
    "services": ("services",),
    "repositories": ("repositories", "crud"),
    "models": ("models",),
    "schemas": ("schemas",),
    "core": ("core",),
}
#: Folder names that give a module its role: the standard's, plus the other names real
#: projects use for the same layer (singular names, `repos/`).
ROLE_FOLDERS: dict[str, tuple[str, ...]] = {
    "routes": (*LAYER_ALIASES["routes"], "router"),
    "services": (*LAYER_ALIASES["services"], "service"),
    "repositories": (*LAYER_ALIASES["repositories"], "repository", "repos"),
    "models": (*LAYER_ALIASES["models"], "model"),
    "schemas": (*LAYER_ALIASES["schemas"], "schema"),
    "core": LAYER_ALIASES["core"],
}

#: Module names that say the role whatever folder they sit in.
_FILE_ROLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("services", re.compile(r"(service|services|\w+_(service|services))")),
    (
        "repositories",
        re.compile(r"(repository|repositories|crud|\w+_(repository|repo|crud)|crud_\w+)"),
    ),
    ("models", re.compile(r"(models|\w+_models)")),
    ("schemas", re.compile(r"(schemas|\w+_schemas)")),
)
#: Module names (and a folder) of route modules, in FastAPI code only: a Django `views.py`
#: or database router (`db_router.py`) and a Flask `routes.py` are not the standard's routes.
_WEAK_ROUTE_FILES = re.compile(
    r"(router|routers|routes|endpoints|views|api|\w+_(router|routes|endpoints|views))"
)
_WEAK_ROUTE_FOLDER = "views"
_WEB_IMPORTS = frozenset({"fastapi", "starlette"})
_FEATURE_MIN_ROLES = 2


def file_role(stem: str) -> str | None:
    """The role a module's name (without `.py`) says whatever it imports (not routes)."""
    for role, pattern in _FILE_ROLES:
        if pattern.fullmatch(stem):
            return role
    return None


def imports_web(tree: ast.Module | None) -> bool:
    """Whether a module imports FastAPI or Starlette anywhere."""
    if tree is None:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(n.split(".")[0] in _WEB_IMPORTS for n in names):
            return True
    return False


class LayerMap:
    """Roles of a project's app modules, from project-relative paths (see the module doc)."""

    def __init__(self, modules: Iterable[tuple[str, ast.Module | None]]) -> None:
        """`modules`: (project-relative path, parsed tree) of every app module."""
        self._trees = dict(modules)
        by_folder: dict[tuple[str, ...], set[str]] = {}
        for rel in self._trees:
            pure = PurePosixPath(rel)
            role = file_role(pure.stem)
            if role is None and _WEAK_ROUTE_FILES.fullmatch(pure.stem):
                role = "routes" if imports_web(self._trees[rel]) else None
            if role is not None:
                by_folder.setdefault(pure.parent.parts, set()).add(role)
        self._named_roles = by_folder
        self._cache: dict[str, str | None] = {}

    def is_feature_package(self, parts: tuple[str, ...]) -> bool:
        """A layer-named folder that holds modules named for two other roles."""
        own = _folder_alias_role(parts)
        others = self._named_roles.get(parts, set()) - {own}
        return len(others) >= _FEATURE_MIN_ROLES

    def folder_role(self, rel: str) -> str | None:
        """The role of a project-relative folder: its innermost layer folder's."""
        parts = PurePosixPath(rel).parts if rel not in ("", ".") else ()
        for end in range(len(parts), 0, -1):
            sub = parts[:end]
            role = _folder_alias_role(sub)
            if role is not None and not self.is_feature_package(sub):
                return role
        return None

    def role(self, rel: str) -> str | None:
        """The role of the app module at a project-relative path."""
        if rel in self._cache:
            return self._cache[rel]
        pure = PurePosixPath(rel)
        role, folder = file_role(pure.stem), self.folder_role(str(pure.parent))
        if role is None and self._weak_route(pure):
            role = "routes"
        elif role is not None and folder == "routes" and imports_web(self._trees.get(rel)):
            role = "routes"  # `routes/users/crud.py`: CRUD endpoints, not a repository
        role = role or folder
        self._cache[rel] = role
        return role

    def _weak_route(self, pure: PurePosixPath) -> bool:
        named = _WEAK_ROUTE_FILES.fullmatch(pure.stem) is not None
        if not named and _WEAK_ROUTE_FOLDER not in pure.parent.parts:
            return False
        return imports_web(self._trees.get(str(pure)))


def _folder_alias_role(parts: tuple[str, ...]) -> str | None:
    """The layer a folder's own name (or its last two names, `api/routes`) says."""
    for layer, aliases in ROLE_FOLDERS.items():
        for alias in aliases:
            seg = tuple(alias.split("/"))
            if len(parts) >= len(seg) and parts[-len(seg) :] == seg:
                return layer
    return None
