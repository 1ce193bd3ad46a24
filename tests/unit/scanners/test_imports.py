"""The import graph: module names, resolution, type-checking and conditional imports, layers."""

from __future__ import annotations

from pathlib import Path

from scanners.analysis.imports import ImportEdge, ImportGraph
from scanners.analysis.layering import forbidden_edges
from scanners.context import RepoContext
from tests.gitrepo import make_repo

PYPROJECT = '[project]\nname = "svc"\nversion = "0"\n'


def context_of(
    tmp_path: Path, files: dict[str, str], project_dir: str | None = None
) -> RepoContext:
    repo = make_repo(tmp_path / "repo", {"pyproject.toml": PYPROJECT, **files})
    return RepoContext(repo, project_dir=project_dir)


def graph_of(tmp_path: Path, files: dict[str, str], project_dir: str | None = None) -> ImportGraph:
    return context_of(tmp_path, files, project_dir).import_graph


def importers(graph: ImportGraph, path: str) -> list[ImportEdge]:
    """Every import, anywhere in the project, that resolves to the file or folder `path`."""
    return [e for e in graph.edges if e.resolved_path == path]


def edge(graph: ImportGraph, path: str, target: str) -> ImportEdge:
    found = [e for e in graph.edges_from(path) if e.target_module == target]
    assert len(found) == 1, [e.target_module for e in graph.edges_from(path)]
    return found[0]


SRC_ROOTED = {
    "src/__init__.py": "",
    "src/main.py": "from src.api.routes import users\nfrom src.core import config\n",
    "src/api/__init__.py": "",
    "src/api/routes/__init__.py": "from . import users\nfrom .users import router\n",
    "src/api/routes/users.py": (
        "from ...services.user_service import UserService\n"
        "from ..dependencies import get_db\n"
        "from .. import dependencies\n"
        "from ... import models\n"
        "router = 1\n"
    ),
    "src/api/dependencies.py": "get_db = 1\n",
    "src/services/__init__.py": "",
    "src/services/user_service.py": "import src.repositories.user_repository as repo\n",
    "src/repositories/__init__.py": "",
    "src/repositories/user_repository.py": "from sqlalchemy import select\n",
    "src/models/__init__.py": "from src.models.user import User\n",
    "src/models/user.py": "class User: ...\n",
    "src/core/__init__.py": "",
    "src/core/config.py": "SETTINGS = 1\n",
    "tests/test_users.py": "from src.services.user_service import UserService\n",
}


def test_relative_imports_resolve_at_several_depths(tmp_path: Path) -> None:
    graph = graph_of(tmp_path, SRC_ROOTED)
    users = "src/api/routes/users.py"
    deep = edge(graph, users, "src.services.user_service")
    assert (deep.resolved_path, deep.level, deep.names) == (
        "src/services/user_service.py",
        3,
        ("UserService",),
    )
    attrs = [e for e in graph.edges_from(users) if e.target_module == "src.api.dependencies"]
    assert {e.resolved_path for e in attrs} == {"src/api/dependencies.py"}
    assert sorted(n for e in attrs for n in e.names) == ["dependencies", "get_db"]
    models = edge(graph, users, "src.models")
    assert models.resolved_path == "src/models/__init__.py"
    assert models.names == ("models",)


def test_from_dot_import_submodule_vs_attribute(tmp_path: Path) -> None:
    graph = graph_of(tmp_path, SRC_ROOTED)
    init = "src/api/routes/__init__.py"
    # `from . import users` loads the submodule; `from .users import router` an attribute.
    targets = sorted((e.target_module, e.resolved_path, e.names) for e in graph.edges_from(init))
    assert targets == [
        ("src.api.routes.users", "src/api/routes/users.py", ("router",)),
        ("src.api.routes.users", "src/api/routes/users.py", ("users",)),
    ]
    # `from src.core import config`: config is a submodule; `from src.models.user import User`
    # takes an attribute of a plain module.
    assert edge(graph, "src/main.py", "src.core.config").resolved_path == "src/core/config.py"
    user = edge(graph, "src/models/__init__.py", "src.models.user")
    assert (user.resolved_path, user.names) == ("src/models/user.py", ("User",))


def test_attribute_import_from_package_points_at_its_init(tmp_path: Path) -> None:
    graph = graph_of(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/models/__init__.py": "from app.models.user import User\n",
            "app/models/user.py": "class User: ...\n",
            "app/main.py": "from app.models import User, user\n",
        },
    )
    edges = sorted(
        (e.target_module, e.resolved_path, e.names) for e in graph.edges_from("app/main.py")
    )
    assert edges == [
        ("app.models", "app/models/__init__.py", ("User",)),
        ("app.models.user", "app/models/user.py", ("user",)),
    ]


def test_aliased_imports_resolve_and_bind_qualified_names(tmp_path: Path) -> None:
    graph = graph_of(
        tmp_path,
        {
            **SRC_ROOTED,
            "src/api/routes/items.py": (
                "import sqlalchemy as sa\n"
                "import sqlalchemy.orm\n"
                "from sqlalchemy import select as s\n"
                "import src.services.user_service as svc\n"
                "from ..dependencies import get_db as db\n"
            ),
        },
    )
    path = "src/api/routes/items.py"
    aliases = graph.aliases(path)
    assert aliases["sa"] == "sqlalchemy"
    assert aliases["sqlalchemy"] == "sqlalchemy"
    assert aliases["s"] == "sqlalchemy.select"
    assert aliases["svc"] == "src.services.user_service"
    assert aliases["db"] == "src.api.dependencies.get_db"
    assert edge(graph, path, "src.services.user_service").resolved_path == (
        "src/services/user_service.py"
    )
    assert edge(graph, path, "sqlalchemy.orm").resolved_path is None


def test_type_checking_imports_are_flagged(tmp_path: Path) -> None:
    source = (
        "import typing\n"
        "import typing as t\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from src.models.user import User\n"
        "if typing.TYPE_CHECKING:\n"
        "    import src.repositories.user_repository\n"
        "if t.TYPE_CHECKING:\n"
        "    from src.core import config\n"
        "else:\n"
        "    from src.api import dependencies\n"
        "if not TYPE_CHECKING:\n"
        "    import json\n"
        "else:\n"
        "    import decimal\n"
    )
    ctx = context_of(tmp_path, {**SRC_ROOTED, "src/services/x.py": source})
    graph = ctx.import_graph
    path = "src/services/x.py"
    flagged = {e.target_module for e in graph.edges_from(path) if e.is_type_checking_only}
    assert flagged == {
        "src.models.user",
        "src.repositories.user_repository",
        "src.core.config",
        "decimal",
    }
    runtime = {e.target_module for e in graph.edges_from(path, runtime_only=True)}
    assert runtime == {"typing", "src.api.dependencies", "json"}
    assert forbidden_edges(ctx, path, {"models", "repositories"}) == []
    assert [e for e in importers(graph, "src/models/user.py") if e.is_runtime] == [
        edge(graph, "src/models/__init__.py", "src.models.user")
    ]


def test_conditional_and_function_level_imports_are_runtime(tmp_path: Path) -> None:
    source = (
        "try:\n"
        "    import orjson\n"
        "except ImportError:\n"
        "    import json as orjson\n"
        "import os\n"
        "def load():\n"
        "    from src.repositories.user_repository import select\n"
        "    return select\n"
        "class Service:\n"
        "    import re\n"
        "    async def run(self):\n"
        "        with open('x'):\n"
        "            import csv\n"
    )
    ctx = context_of(tmp_path, {**SRC_ROOTED, "src/services/x.py": source})
    graph = ctx.import_graph
    path = "src/services/x.py"
    flags = {
        e.target_module: (e.is_conditional, e.in_function, e.is_type_checking_only)
        for e in graph.edges_from(path)
    }
    assert flags == {
        "orjson": (True, False, False),
        "json": (True, False, False),
        "os": (False, False, False),
        "src.repositories.user_repository": (True, True, False),
        "re": (False, False, False),
        "csv": (True, True, False),
    }
    layered = forbidden_edges(ctx, path, {"repositories"})
    assert [(e.line, e.resolved_path) for e in layered] == [
        (7, "src/repositories/user_repository.py")
    ]


def test_src_rooted_imports_resolve_against_the_src_folder(tmp_path: Path) -> None:
    graph = graph_of(
        tmp_path,
        {
            "src/main.py": "from api.routes import users\nimport logging\n",
            "src/logging.py": "# shadows nothing: stdlib names never resolve locally\n",
            "src/api/__init__.py": "",
            "src/api/routes/__init__.py": "",
            "src/api/routes/users.py": "from services.user_service import UserService\n",
            "src/services/__init__.py": "",
            "src/services/user_service.py": "class UserService: ...\n",
        },
    )
    main = "src/main.py"
    assert edge(graph, main, "api.routes.users").resolved_path == "src/api/routes/users.py"
    assert edge(graph, main, "logging").resolved_path is None
    assert graph.module_name("src/api/routes/users.py") == "api.routes.users"
    assert graph.path_of("services.user_service") == "src/services/user_service.py"
    assert graph.layer_of("src/api/routes/users.py") == "routes"


def test_package_rooted_imports_in_a_subfolder_project(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "backend/pyproject.toml": PYPROJECT,
            "backend/app/__init__.py": "",
            "backend/app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
            "backend/app/api/__init__.py": "",
            "backend/app/api/endpoints/items.py": "from app.crud import items\nimport fastapi\n",
            "backend/app/crud/__init__.py": "",
            "backend/app/crud/items.py": "ITEMS = []\n",
            "tools/script.py": "import app.crud\n",
        },
    )
    ctx = RepoContext(repo)
    graph = ctx.import_graph
    items = "backend/app/api/endpoints/items.py"
    crud = edge(graph, items, "app.crud.items")
    assert crud.resolved_path == "backend/app/crud/items.py"
    assert graph.module_name(items) == "app.api.endpoints.items"
    assert graph.layer_of(items) == "routes"
    assert graph.layer_of("backend/app/crud/items.py") == "repositories"
    assert graph.layer_of("backend/app/main.py") is None
    assert [e.target_module for e in graph.imports_external(items, ["FastAPI", "starlette"])] == [
        "fastapi"
    ]
    assert graph.imports_external(items, ["app"]) == []  # local code is not third-party
    assert graph.edges_from("tools/script.py") == []  # outside the project


def test_namespace_packages_and_escaping_relative_imports(tmp_path: Path) -> None:
    ctx = context_of(
        tmp_path,
        {
            "src/services/user_service.py": "from src import repositories\nfrom .... import x\n",
            "src/repositories/user_repository.py": "X = 1\n",
        },
    )
    graph = ctx.import_graph
    path = "src/services/user_service.py"
    namespace = edge(graph, path, "src.repositories")
    assert namespace.resolved_path == "src/repositories"
    assert graph.layer_of("src/repositories") == "repositories"
    assert forbidden_edges(ctx, path, {"repositories"}) == [namespace]
    escaping = edge(graph, path, "....")
    assert (escaping.resolved_path, escaping.level) == (None, 4)


def test_layers_follow_the_innermost_folder_and_skip_tests(tmp_path: Path) -> None:
    graph = graph_of(
        tmp_path,
        {
            "src/api/routes/v1/users.py": "",
            "src/services/models/dto.py": "",
            "src/routers/x.py": "",
            "src/api/dependencies.py": "",
            "tests/services/test_x.py": "",
        },
    )
    assert graph.layer_of("src/api/routes/v1/users.py") == "routes"
    assert graph.layer_of("src/services/models/dto.py") == "models"
    assert graph.layer_of("src/routers/x.py") == "routes"
    assert graph.layer_of("src/api/dependencies.py") is None
    assert graph.layer_of("tests/services/test_x.py") is None
    assert graph.layer_of("src/nowhere") is None


def test_unparsable_files_have_no_edges_and_break_nothing(tmp_path: Path) -> None:
    graph = graph_of(
        tmp_path,
        {
            "src/broken.py": "def f(:\n",
            "src/ok.py": "from src import broken\n",
            "src/bin.py": "\0\0binary",
        },
    )
    assert graph.edges_from("src/broken.py") == []
    assert edge(graph, "src/ok.py", "src.broken").resolved_path == "src/broken.py"
    assert [e.src_path for e in importers(graph, "src/broken.py")] == ["src/ok.py"]


def test_star_imports_and_tests_importing_app_code(tmp_path: Path) -> None:
    graph = graph_of(
        tmp_path, {**SRC_ROOTED, "src/api/routes/more.py": "from ..dependencies import *\n"}
    )
    star = edge(graph, "src/api/routes/more.py", "src.api.dependencies")
    assert (star.names, star.resolved_path) == (("*",), "src/api/dependencies.py")
    found = {e.src_path for e in importers(graph, "src/services/user_service.py")}
    assert found == {"src/api/routes/users.py", "tests/test_users.py"}


def test_declared_dependencies_and_rarely_used_roots_stay_third_party(tmp_path: Path) -> None:
    pyproject = PYPROJECT.replace(
        'version = "0"', 'version = "0"\ndependencies = ["Redis>=5", "pyjwt"]'
    )
    repo = make_repo(
        tmp_path / "repo",
        {
            "pyproject.toml": pyproject,
            "app/__init__.py": "",
            "app/redis.py": "import redis\nfrom app.models import user\n",
            "app/jwt.py": "import jwt\nfrom app.models import user\nimport app.redis\n",
            "app/models/__init__.py": "",
            "app/models/user.py": "",
        },
    )
    graph = RepoContext(repo).import_graph
    assert edge(graph, "app/redis.py", "redis").resolved_path is None  # declared: third-party
    # `import jwt` alone would resolve to app/jwt.py from `app/`, but this project imports
    # `app.*` (from the project root) far more often, so `app/` is no import root here.
    assert edge(graph, "app/jwt.py", "jwt").resolved_path is None
    assert edge(graph, "app/jwt.py", "app.redis").resolved_path == "app/redis.py"
    assert edge(graph, "app/redis.py", "app.models.user").resolved_path == "app/models/user.py"
    assert graph.module_name("app/jwt.py") == "app.jwt"
    assert graph.imports_external("app/redis.py", ["redis"]) == [
        edge(graph, "app/redis.py", "redis")
    ]


def test_plain_imports_count_towards_the_import_root(tmp_path: Path) -> None:
    graph = graph_of(
        tmp_path,
        {
            "app/main.py": "import models.user\nimport services\n",
            "app/models/__init__.py": "",
            "app/models/user.py": "",
            "app/services.py": "",
        },
    )
    assert edge(graph, "app/main.py", "models.user").resolved_path == "app/models/user.py"
    assert edge(graph, "app/main.py", "services").resolved_path == "app/services.py"
    assert graph.module_name("app/models/user.py") == "models.user"
