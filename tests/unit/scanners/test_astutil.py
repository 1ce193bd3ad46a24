"""AST helpers (qualified names, functions, literals) and FastAPI route extraction."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from scanners.analysis import astutil
from scanners.analysis.astutil import (
    call_name,
    iter_functions,
    iter_statements,
    module_constants,
    status_code_value,
)
from scanners.analysis.routes import Route
from scanners.context import RepoContext
from tests.gitrepo import make_repo

PYPROJECT = '[project]\nname = "svc"\nversion = "0"\n'


def routes_of(tmp_path: Path, files: dict[str, str]) -> list[Route]:
    repo = make_repo(tmp_path / "repo", {"pyproject.toml": PYPROJECT, **files})
    return RepoContext(repo).routes


def table(routes: list[Route]) -> list[tuple[str, str, str | None]]:
    return [(r.func_name, r.method, r.full_path) for r in routes]


# ----- qualified names ----------------------------------------------------------------------
def test_calls_resolve_through_import_aliases(tmp_path: Path) -> None:
    source = (
        "import sqlalchemy as sa\n"
        "from sqlalchemy import select as s\n"
        "from sqlalchemy.ext import asyncio\n"
        "def f(session):\n"
        "    sa.select(1)\n"
        "    s(2)\n"
        "    asyncio.create_async_engine('x')\n"
        "    session.execute(3)\n"
        "    (lambda: 1)()\n"
    )
    repo = make_repo(tmp_path / "repo", {"pyproject.toml": PYPROJECT, "src/x.py": source})
    ctx = RepoContext(repo)
    tree = ctx.python_files[0].tree
    assert tree is not None
    aliases = ctx.import_graph.aliases("src/x.py")
    names = [call_name(c, aliases) for c in ast.walk(tree) if isinstance(c, ast.Call)]
    assert names == [
        "sqlalchemy.select",
        "sqlalchemy.select",
        "sqlalchemy.ext.asyncio.create_async_engine",
        "session.execute",
        None,
    ]


def test_iter_functions_gives_qualified_names_and_nesting() -> None:
    tree = ast.parse(
        "def a():\n"
        "    def inner(): ...\n"
        "class C:\n"
        "    async def m(self): ...\n"
        "    class D:\n"
        "        def n(self): ...\n"
        "if True:\n"
        "    def b(): ...\n"
    )
    found = [(f.qualname, f.class_name, f.nested, f.is_async) for f in iter_functions(tree)]
    assert found == [
        ("a", None, False, False),
        ("a.<locals>.inner", None, True, False),
        ("C.m", "C", False, True),
        ("C.D.n", "D", False, False),
        ("b", None, False, False),
    ]
    assert [f.length for f in iter_functions(tree)][:2] == [2, 1]


def test_iter_statements_walks_every_block_in_source_order() -> None:
    tree = ast.parse(
        "try:\n    a = 1\nexcept E:\n    b = 2\nfinally:\n    c = 3\n"
        "match x:\n    case 1:\n        d = 4\n"
    )
    targets = [
        s.targets[0].id
        for s in iter_statements(tree)
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
    ]
    assert targets == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("201", 201),
        ("status.HTTP_204_NO_CONTENT", 204),
        ("HTTPStatus.CREATED", 201),
        ("http.HTTPStatus.NOT_FOUND", 404),
        ("True", None),
        ("code", None),
        ("'201'", None),
    ],
)
def test_status_code_value(source: str, expected: int | None) -> None:
    assert status_code_value(ast.parse(source, mode="eval").body) == expected


def test_module_constants_keeps_the_last_assignment() -> None:
    tree = ast.parse("A = '/x'\nB: str = '/y'\nA = '/z'\nif x:\n    C = 1\n")
    constants = module_constants(tree)
    assert {k: ast.literal_eval(v) for k, v in constants.items()} == {"A": "/z", "B": "/y"}


# ----- routes ---------------------------------------------------------------------------------
THREE_FILES = {
    "src/core/config.py": (
        "from pydantic import Field\n"
        "from pydantic_settings import BaseSettings\n"
        "class Settings(BaseSettings):\n"
        '    API_V1_STR: str = "/api/v1"\n'
        '    ADMIN_PREFIX: str = Field(default="/admin")\n'
        "    SECRET: str\n"
        "settings = Settings()\n"
    ),
    "src/main.py": (
        "from fastapi import FastAPI\n"
        "from src.core.config import settings\n"
        "from src.api.routes import api_router\n"
        "def create_app() -> FastAPI:\n"
        "    app = FastAPI()\n"
        "    app.include_router(api_router, prefix=settings.API_V1_STR)\n"
        "    return app\n"
    ),
    "src/api/routes/__init__.py": (
        "from fastapi import APIRouter\n"
        "from src.api.routes import items, admin\n"
        "from src.core.config import settings\n"
        "api_router = APIRouter()\n"
        'api_router.include_router(items.router, prefix="/items", tags=["items"])\n'
        "api_router.include_router(admin.router, prefix=f'{settings.ADMIN_PREFIX}/v2')\n"
    ),
    "src/api/routes/items.py": (
        "from fastapi import APIRouter, status\n"
        "from src.schemas import Item\n"
        "router = APIRouter(prefix='/shop')\n"
        "@router.get('/', response_model=list[Item])\n"
        "@router.get('')\n"
        "async def list_items(): ...\n"
        "@router.post('/', status_code=status.HTTP_201_CREATED, response_model=Item)\n"
        "def create_item(): ...\n"
        "@router.api_route('/{id}', methods=['PUT', 'patch'])\n"
        "async def replace(id: int): ...\n"
    ),
    "src/api/routes/admin.py": (
        "import fastapi\n"
        "router = fastapi.APIRouter()\n"
        "@router.delete('/{id}', status_code=204)\n"
        "async def purge(id: int): ...\n"
    ),
}


def test_prefixes_compose_across_three_files_with_a_settings_prefix(tmp_path: Path) -> None:
    routes = routes_of(tmp_path, THREE_FILES)
    assert table(routes) == [
        ("purge", "DELETE", "/api/v1/admin/v2/{id}"),
        ("list_items", "GET", "/api/v1/items/shop/"),
        ("list_items", "GET", "/api/v1/items/shop"),
        ("create_item", "POST", "/api/v1/items/shop/"),
        ("replace", "PATCH", "/api/v1/items/shop/{id}"),
        ("replace", "PUT", "/api/v1/items/shop/{id}"),
    ]
    create = routes[3]
    assert (create.path_rel, create.line, create.status_code, create.is_async) == (
        "src/api/routes/items.py",
        8,
        201,
        False,
    )
    assert create.router == "router"
    assert create.router_prefix == "/shop"
    assert create.response_model is not None
    assert ast.unparse(create.response_model) == "Item"
    assert set(create.decorator_kwargs) == {"status_code", "response_model"}
    assert isinstance(create.node, ast.FunctionDef)
    assert create.node.name == "create_item"
    stacked = [r for r in routes if r.func_name == "list_items"]
    assert [r.path for r in stacked] == ["/", ""]
    assert stacked[0].response_model is not None
    assert stacked[1].response_model is None


def test_unknown_prefix_or_unmounted_router_gives_no_full_path(tmp_path: Path) -> None:
    files = {
        **THREE_FILES,
        "src/main.py": (
            "from fastapi import FastAPI\n"
            "from src.api.routes import api_router\n"
            "app = FastAPI()\n"
            "app.include_router(api_router, prefix=compute_prefix())\n"
        ),
        "src/api/routes/orphan.py": (
            "from fastapi import APIRouter\n"
            "router = APIRouter(prefix='/orphans')\n"
            "@router.get('/x')\n"
            "async def orphan(): ...\n"
        ),
    }
    routes = routes_of(tmp_path, files)
    assert {r.full_path for r in routes} == {None}
    orphan = next(r for r in routes if r.func_name == "orphan")
    assert (orphan.path, orphan.router_prefix, orphan.full_paths) == ("/x", "/orphans", ())


def test_module_constants_and_annotated_app_parameters(tmp_path: Path) -> None:
    files = {
        "src/constants.py": "API = '/api'\nV1 = API + '/v1'\n",
        "src/main.py": (
            "from fastapi import FastAPI\n"
            "from src.constants import V1\n"
            "from src import users\n"
            "def register(app: FastAPI) -> None:\n"
            "    app.include_router(users.router, prefix=V1)\n"
        ),
        "src/users.py": (
            "from fastapi import APIRouter\n"
            "router = APIRouter(prefix='/users')\n"
            "async def list_users(): ...\n"
            "async def make(): ...\n"
            "router.add_api_route('', list_users, response_model=list)\n"
            "router.add_api_route('', endpoint=make, methods=['POST'], status_code=201)\n"
            "router.add_api_route('/gone', missing)\n"
        ),
    }
    routes = routes_of(tmp_path, files)
    assert table(routes) == [
        ("list_users", "GET", "/api/v1/users"),
        ("make", "POST", "/api/v1/users"),
        ("missing", "GET", "/api/v1/users/gone"),
    ]
    assert routes[0].is_async
    assert routes[0].line == 5
    assert routes[1].status_code == 201
    assert routes[2].node is None


def test_app_routes_cycles_and_routers_included_twice(tmp_path: Path) -> None:
    files = {
        "src/main.py": (
            "from fastapi import APIRouter, FastAPI\n"
            "app = FastAPI()\n"
            "a = APIRouter()\n"
            "b = APIRouter()\n"
            "a.include_router(b)\n"
            "b.include_router(a)\n"
            "app.include_router(b, prefix='/v1')\n"
            "app.include_router(b, prefix='/v2')\n"
            "@app.get('/health')\n"
            "def health(): ...\n"
            "@b.get('/x')\n"
            "async def x(): ...\n"
            "@cache.get('/not-a-route')\n"
            "def helper(): ...\n"
        ),
        "src/other.py": "@thing.get('/no-fastapi-here')\ndef nothing(): ...\n",
    }
    routes = routes_of(tmp_path, files)
    assert [(r.func_name, r.full_paths) for r in routes] == [
        ("health", ("/health",)),
        ("x", ("/v1/x", "/v2/x")),
        ("helper", ()),
    ]
    assert routes[1].full_path == "/v1/x"
    # `cache` is no router, but the module uses FastAPI: kept with an unknown router.
    assert (routes[2].router, routes[2].router_prefix) == (None, None)


def test_golden_project_routes_are_served_under_api_v1(tmp_path: Path) -> None:
    from tests.gitrepo import golden_repo

    ctx = RepoContext(golden_repo(tmp_path / "golden"))
    paths = {(r.method, r.full_path) for r in ctx.routes}
    assert ("GET", "/health") in paths
    assert ("GET", "/api/v1/notes") in paths
    resource = [r for r in ctx.routes if r.full_path and r.full_path.startswith("/api/")]
    assert resource
    assert all(r.is_async for r in ctx.routes)


# ----- import statements: the shortcut for modules whose imports are all at the top ---------
def _walked(tree: ast.Module) -> list[astutil.ImportStatement]:
    out: list[astutil.ImportStatement] = []
    astutil._walk_imports(tree.body, out, tc_only=False, conditional=False, in_function=False)
    return out


@pytest.mark.parametrize(
    "source",
    [
        "import os\nfrom . import a as b\nfrom ..pkg.mod import x, y\nX = 1\n",
        "import os\nif TYPE_CHECKING:\n    from app import Model\n",
        "import os\ndef f():\n    import json\n",
        "try:\n    import ujson as json\nexcept ImportError:\n    import json\n",
        "class C:\n    import os\nmatch x:\n    case 1:\n        import sys\n",
        "X = 1\n",
    ],
)
def test_import_statements_equal_the_walk_through_every_block(source: str) -> None:
    tree = ast.parse(source)
    found = astutil.import_statements(tree)
    assert found == _walked(tree)
    assert len(found) == source.count("import ")
