"""Layers by role (issue 18, item 6): singular layer folders, `*_service.py` modules,
package-by-feature (`<domain>/{router,service,repository,models,schemas}.py`) and every
naming of a repository, through the LAY rules and `scanners.layers` directly.

Each fixture is a small project of its own, not the golden one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from scanners.layers import LayerMap, file_role
from tests.unit.scanners.rules.harness import FAIL, NOT_APPLICABLE, WARN, Case, case_ids, check

PYPROJECT = (
    '[project]\nname = "depot"\nversion = "1"\n'
    'dependencies = ["fastapi>=0.115", "sqlalchemy>=2", "pydantic>=2"]\n'
)
HTTP_SERVICE = (
    '"""Stock levels."""\n\nfrom fastapi import HTTPException\n\n\n'
    "class StockService:\n    def level(self, sku: str) -> int:\n"
    "        if not sku:\n            raise HTTPException(404)\n        return 1\n"
)
PLAIN_SERVICE = (
    '"""Stock levels."""\n\n\nclass StockService:\n'
    "    def level(self, sku: str) -> int:\n        return len(sku)\n"
)


def project(files: dict[str, str]) -> dict[str, str | bytes | None]:
    """A tiny FastAPI project under `depot/` with the given extra modules."""
    return {
        "pyproject.toml": PYPROJECT,
        "depot/__init__.py": "",
        "depot/main.py": '"""App."""\n\nfrom fastapi import FastAPI\n\napp = FastAPI()\n',
        **files,
    }


# ----- LAY-004 on services found by folder name and by module name --------------------------
LAY004 = [
    Case(
        "service/ singular folder importing fastapi fails",
        files=project({"depot/service/__init__.py": "", "depot/service/stock.py": HTTP_SERVICE}),
        status=FAIL,
        path="depot/service/stock.py",
        line=3,
    ),
    Case(
        "service/ singular folder without HTTP passes",
        files=project({"depot/service/__init__.py": "", "depot/service/stock.py": PLAIN_SERVICE}),
    ),
    Case(
        "a *_service.py module importing fastapi fails",
        files=project(
            {"depot/logic/__init__.py": "", "depot/logic/stock_service.py": HTTP_SERVICE}
        ),
        status=FAIL,
        path="depot/logic/stock_service.py",
    ),
    Case(
        "a *_service.py module without HTTP passes",
        files=project(
            {"depot/logic/__init__.py": "", "depot/logic/stock_service.py": PLAIN_SERVICE}
        ),
    ),
    Case(
        "services.py beside main passes",
        files=project({"depot/services.py": PLAIN_SERVICE}),
    ),
    Case(
        "a module merely mentioning service is no service",
        files=project({"depot/servicedesk.py": HTTP_SERVICE}),
        status=NOT_APPLICABLE,
    ),
]


@pytest.mark.parametrize("case", LAY004, ids=case_ids(LAY004))
def test_lay004_services_by_role(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "LAY-004", case)


# ----- package-by-feature -------------------------------------------------------------------
FEATURE_ROUTER = (
    '"""Shelves endpoints."""\n\nfrom fastapi import APIRouter\n\n'
    "from depot.shelves.service import ShelfService\n\nrouter = APIRouter()\n\n\n"
    '@router.get("/shelves")\nasync def list_shelves() -> list[str]:\n'
    "    return ShelfService().names()\n"
)
FEATURE_SERVICE = (
    '"""Shelves logic."""\n\nfrom depot.shelves.repository import ShelfRepository\n\n\n'
    "class ShelfService:\n    def names(self) -> list[str]:\n"
    "        return ShelfRepository().names()\n"
)
FEATURE_REPOSITORY = (
    '"""Shelves storage."""\n\nfrom depot.shelves.models import Shelf\n\n\n'
    "class ShelfRepository:\n    def names(self) -> list[str]:\n"
    "        return [Shelf.__name__]\n"
)
FEATURE_MODELS = '"""Shelves tables."""\n\n\nclass Shelf:\n    name = "shelf"\n'
FEATURE_SCHEMAS = (
    '"""Shelves payloads."""\n\nfrom pydantic import BaseModel\n\n\n'
    "class ShelfRead(BaseModel):\n    name: str\n"
)


def feature(**overrides: str) -> dict[str, str | bytes | None]:
    """`depot/shelves/{router,service,repository,models,schemas}.py`, some replaced."""
    modules = {
        "router": FEATURE_ROUTER,
        "service": FEATURE_SERVICE,
        "repository": FEATURE_REPOSITORY,
        "models": FEATURE_MODELS,
        "schemas": FEATURE_SCHEMAS,
    }
    modules.update(overrides)
    files = {f"depot/shelves/{name}.py": text for name, text in modules.items()}
    return project({"depot/shelves/__init__.py": "", **files})


def with_import(text: str, line: str) -> str:
    """`text` with an import line added after its docstring."""
    head, _, rest = text.partition("\n\n")
    return f"{head}\n\n{line}\n{rest}"


FEATURE_CASES = [
    ("LAY-001", Case("feature router using its own service passes", files=feature())),
    (
        "LAY-001",
        Case(
            "feature router importing its repository fails",
            files=feature(
                router=with_import(
                    FEATURE_ROUTER, "from depot.shelves.repository import ShelfRepository"
                )
            ),
            status=FAIL,
            path="depot/shelves/router.py",
        ),
    ),
    ("LAY-003", Case("feature router uses its service", files=feature())),
    ("LAY-004", Case("feature service without HTTP passes", files=feature())),
    (
        "LAY-004",
        Case(
            "feature service importing fastapi fails",
            files=feature(
                service=with_import(FEATURE_SERVICE, "from fastapi import HTTPException")
            ),
            status=FAIL,
            path="depot/shelves/service.py",
            line=3,
        ),
    ),
    (
        "LAY-004",
        Case(
            "feature service importing the feature router fails",
            files=feature(service=with_import(FEATURE_SERVICE, "from depot.shelves import router")),
            status=FAIL,
            path="depot/shelves/service.py",
        ),
    ),
    ("LAY-006", Case("feature repository importing its models passes", files=feature())),
    (
        "LAY-006",
        Case(
            "feature repository importing its service fails",
            files=feature(
                repository=with_import(
                    FEATURE_REPOSITORY, "from depot.shelves.service import ShelfService"
                )
            ),
            status=FAIL,
            path="depot/shelves/repository.py",
        ),
    ),
    ("LAY-007", Case("feature models and schemas import nothing above", files=feature())),
    (
        "LAY-007",
        Case(
            "feature schemas importing the service fail",
            files=feature(
                schemas=with_import(
                    FEATURE_SCHEMAS, "from depot.shelves.service import ShelfService"
                )
            ),
            status=FAIL,
            path="depot/shelves/schemas.py",
        ),
    ),
    ("LAY-009", Case("feature service is a class", files=feature())),
    ("SCH-001", Case("feature schemas define Pydantic models", files=feature())),
]


@pytest.mark.parametrize(
    ("rule_id", "case"), FEATURE_CASES, ids=[f"{r}-{c.name}" for r, c in FEATURE_CASES]
)
def test_package_by_feature(tmp_path: Path, rule_id: str, case: Case) -> None:
    check(tmp_path, rule_id, case)


# ----- route modules: an aggregating router.py and endpoints in resource files ---------------
AGGREGATOR = project(
    {
        "depot/api/__init__.py": "",
        "depot/api/router.py": '"""All routers."""\n\nfrom fastapi import APIRouter\n\n'
        "from depot.api.v1 import stock\n\nrouter = APIRouter()\n"
        "router.include_router(stock.router)\n",
        "depot/api/v1/__init__.py": "",
        "depot/api/v1/stock.py": '"""Stock endpoints."""\n\nfrom fastapi import APIRouter\n\n'
        'router = APIRouter()\n\n\n@router.get("/stock")\nasync def stock() -> int:\n'
        "    return 1\n",
    }
)
DJANGO_APP = {
    "pyproject.toml": '[project]\nname = "desk"\nversion = "1"\ndependencies = ["django>=5"]\n',
    "desk/__init__.py": "",
    "desk/api/__init__.py": "",
    "desk/api/transports.py": '"""Outgoing messages."""\n\n\ndef send(text):\n    return text\n',
    "desk/api/models.py": '"""Tickets."""\n\nfrom django.db import models\n\n'
    "from desk.api import transports\n\n\n"
    "class Ticket(models.Model):\n    title = models.TextField()\n",
    "desk/api/views.py": '"""Ticket pages."""\n\nfrom django.http import HttpResponse\n\n'
    "from desk.api.models import Ticket\n\n\ndef index(request):\n"
    "    return HttpResponse(Ticket.objects.count())\n",
    "desk/accounts/__init__.py": "",
    "desk/accounts/models.py": '"""Profiles."""\n\nfrom django.db import models\n\n'
    "from desk.api.models import Ticket\n\n\nclass Profile(models.Model):\n"
    "    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)\n",
}
ROUTE_CASES = [
    (
        "LAY-003",
        Case(
            "endpoints beside an aggregating router.py are judged",
            files=AGGREGATOR,
            status=FAIL,
            path="depot/api/v1/stock.py",
        ),
    ),
    (
        "LAY-001",
        Case(
            "a Django views.py is no FastAPI route module", files=DJANGO_APP, status=NOT_APPLICABLE
        ),
    ),
    ("LAY-007", Case("models of a Django app named api are models, not api", files=DJANGO_APP)),
]


@pytest.mark.parametrize(
    ("rule_id", "case"), ROUTE_CASES, ids=[f"{r}-{c.name}" for r, c in ROUTE_CASES]
)
def test_route_modules_by_role(tmp_path: Path, rule_id: str, case: Case) -> None:
    check(tmp_path, rule_id, case)


# ----- repositories under every name --------------------------------------------------------
UPWARD_REPO = (
    '"""Bins storage."""\n\nfrom depot.bins_service import BinService\n\n\n'
    "class BinRepository:\n    service = BinService\n"
)
CLEAN_REPO = '"""Bins storage."""\n\n\nclass BinRepository:\n    table = "bins"\n'
REPO_PATHS = [
    "depot/repository/bins.py",
    "depot/repositories/bins.py",
    "depot/repos/bins.py",
    "depot/crud/bins.py",
    "depot/storage/repository.py",
    "depot/storage/bins_repository.py",
    "depot/storage/bins_repo.py",
    "depot/storage/crud.py",
    "depot/storage/crud_bins.py",
]


def repo_project(path: str, text: str) -> dict[str, str | bytes | None]:
    folder = path.rsplit("/", 1)[0]
    return project(
        {
            f"{folder}/__init__.py": "",
            path: text,
            "depot/bins_service.py": '"""Bins."""\n\n\nclass BinService:\n    pass\n',
        }
    )


LAY006 = [
    case
    for path in REPO_PATHS
    for case in (
        Case(
            f"{path} importing a service fails",
            files=repo_project(path, UPWARD_REPO),
            status=FAIL,
            path=path,
            line=3,
        ),
        Case(f"{path} importing nothing above passes", files=repo_project(path, CLEAN_REPO)),
    )
]


@pytest.mark.parametrize("case", LAY006, ids=case_ids(LAY006))
def test_lay006_repositories_by_every_name(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "LAY-006", case)


# ----- scanners.layers directly -------------------------------------------------------------
@pytest.mark.parametrize(
    ("stem", "role"),
    [
        ("service", "services"),
        ("services", "services"),
        ("order_service", "services"),
        ("servicedesk", None),
        ("router", None),  # routes only with FastAPI imports
        ("routes", None),
        ("repository", "repositories"),
        ("user_repo", "repositories"),
        ("crud", "repositories"),
        ("crud_user", "repositories"),
        ("user_crud", "repositories"),
        ("models", "models"),
        ("schemas", "schemas"),
        ("schema", None),  # a GraphQL schema module is not the schemas layer
        ("views", None),  # only with FastAPI imports
        ("repositories_test", None),
        ("repo", None),  # a git helper as often as a repository
    ],
)
def test_file_role(stem: str, role: str | None) -> None:
    assert file_role(stem) == role


FASTAPI = ast.parse("from fastapi import APIRouter\n")
DJANGO = ast.parse("from django.http import HttpResponse\n")


@pytest.mark.parametrize(
    ("modules", "path", "role"),
    [
        # a file's name beats its folder; the folder names the rest
        ({"app/services/models.py": None}, "app/services/models.py", "models"),
        ({"app/services/base.py": None}, "app/services/base.py", "services"),
        ({"app/models/schemas/user.py": None}, "app/models/schemas/user.py", "schemas"),
        ({"app/schema/user.py": None}, "app/schema/user.py", "schemas"),
        ({"app/model/user.py": None}, "app/model/user.py", "models"),
        ({"app/routes/users.py": None}, "app/routes/users.py", "routes"),
        ({"app/routes/users/crud.py": FASTAPI}, "app/routes/users/crud.py", "routes"),
        ({"app/routes/users/crud.py": None}, "app/routes/users/crud.py", "repositories"),
        # router.py, views.py, api.py, views/ are routes in FastAPI code only
        ({"shop/router.py": FASTAPI}, "shop/router.py", "routes"),
        ({"shop/orders_router.py": FASTAPI}, "shop/orders_router.py", "routes"),
        ({"shop/routes.py": None}, "shop/routes.py", None),
        ({"shop/db_router.py": DJANGO}, "shop/db_router.py", None),
        ({"shop/views.py": FASTAPI}, "shop/views.py", "routes"),
        ({"shop/views.py": DJANGO}, "shop/views.py", None),
        ({"shop/api.py": FASTAPI}, "shop/api.py", "routes"),
        ({"shop/views/orders.py": FASTAPI}, "shop/views/orders.py", "routes"),
        ({"shop/views/orders.py": DJANGO}, "shop/views/orders.py", None),
        # a feature package named like a layer ("service" as the subject) is no layer
        (
            {
                "app/service/models.py": None,
                "app/service/views.py": FASTAPI,
                "app/service/service.py": None,
                "app/service/flows.py": None,
            },
            "app/service/flows.py",
            None,
        ),
        (
            {"app/service/models.py": None, "app/service/views.py": FASTAPI},
            "app/service/views.py",
            "routes",
        ),
        # a real services layer keeps its name with one helper module named otherwise
        (
            {"app/services/models.py": None, "app/services/orders.py": None},
            "app/services/orders.py",
            "services",
        ),
    ],
)
def test_layer_map_roles(
    modules: dict[str, ast.Module | None], path: str, role: str | None
) -> None:
    assert LayerMap(modules.items()).role(path) == role


def test_folder_role_skips_feature_packages() -> None:
    layers = LayerMap(
        [("app/service/models.py", None), ("app/service/views.py", FASTAPI), ("app/x.py", None)]
    )
    assert layers.folder_role("app/service") is None
    assert layers.folder_role("app/service/reminder") is None
    assert layers.folder_role("app/repos/sql") == "repositories"
    assert layers.folder_role("") is None


# ----- TST-005: a module named only for its layer is matched by its feature -----------------
def with_tests(tests: dict[str, str]) -> dict[str, str | bytes | None]:
    return {**feature(), **tests}


TEST_BODY = "def test_names_known_shelf_listed():\n    assert 1\n"
TST005 = [
    Case(
        "test_<feature>_service.py and test_<feature>_repository.py match",
        files=with_tests(
            {
                "tests/test_shelves_service.py": TEST_BODY,
                "tests/test_shelves_repository.py": TEST_BODY,
            }
        ),
    ),
    Case(
        "tests in a folder named for the feature and the layer match",
        files=with_tests(
            {
                "tests/shelves/test_service.py": TEST_BODY,
                "tests/shelves/test_repository_queries.py": TEST_BODY,
            }
        ),
    ),
    Case(
        "a feature folder's test of something else does not test the service",
        files=with_tests(
            {
                "tests/shelves/test_flows.py": TEST_BODY,
                "tests/shelves/test_repository.py": TEST_BODY,
            }
        ),
        status=WARN,
        path="depot/shelves/service.py",
    ),
    Case(
        "another feature's test_service.py does not test this one",
        files=with_tests(
            {
                "tests/bins/test_service.py": TEST_BODY,
                "tests/test_shelves_repository.py": TEST_BODY,
            }
        ),
        status=WARN,
        path="depot/shelves/service.py",
        message="1 of 2",
    ),
    Case(
        "a tests/service/ folder tests the service feature, not every service.py",
        files=with_tests(
            {
                "depot/bins/__init__.py": "",
                "depot/bins/service.py": PLAIN_SERVICE,
                "tests/test_bins_service.py": TEST_BODY,
                "tests/service/test_flows.py": TEST_BODY,
                "tests/test_shelves_repository.py": TEST_BODY,
            }
        ),
        status=WARN,
        path="depot/shelves/service.py",
    ),
    Case(
        "a feature of two folders is matched by both names",
        files=project(
            {
                "depot/case/__init__.py": "",
                "depot/case/priority/__init__.py": "",
                "depot/case/priority/service.py": PLAIN_SERVICE,
                "tests/test_case_priority_service.py": TEST_BODY,
            }
        ),
    ),
    Case(
        "crud.py is matched by a tests/crud/ folder",
        files=project(
            {
                "depot/crud.py": "def get_bin():\n    return 1\n",
                "tests/crud/test_bins.py": TEST_BODY,
            }
        ),
    ),
]


@pytest.mark.parametrize("case", TST005, ids=case_ids(TST005))
def test_tst005_role_named_modules(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "TST-005", case)
