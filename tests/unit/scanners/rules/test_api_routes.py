"""Route prefixes (issue 18, item 4): each way a mount path is written, resolved statically.

Every layout is a small `svc/` project written for these tests: settings-field defaults
(also through `get_settings()` and a class not named `Settings`), module constants (local,
imported, a module attribute, a class attribute), f-strings and `+`, include chains across
three modules, sub-applications mounted with `app.mount`, routers returned by a factory or
passed to a registering function, cycles, and prefixes no reading of the source can know.
Documentation, health, readiness, liveness and metrics routes are not business routes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from scanners.analysis.routes import Route, is_operational
from scanners.context import RepoContext
from tests.gitrepo import make_repo
from tests.unit.scanners.rules.harness import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    WARN,
    Case,
    case_ids,
    check,
    line_number,
)

PYPROJECT = (
    '[project]\nname = "svc"\nversion = "1"\n'
    'dependencies = ["fastapi>=0.115", "pydantic-settings>=2"]\n'
)
ITEMS = '''from fastapi import APIRouter

router = APIRouter(prefix="/items")


@router.get("")
async def list_items() -> list[str]:
    """Items."""
    return []


@router.post("", status_code=201)
async def create_item() -> str:
    """Create."""
    return ""
'''
CONFIG = """from pydantic import Field
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    PROJECT_NAME: str = "svc"
    API_V1_STR: str = "/api/v1"
    ADMIN_PREFIX: str = Field(default="/admin")


settings = Settings()
"""
SETTINGS_MAIN = """from fastapi import FastAPI

from svc.api import items
from svc.core.config import settings

app = FastAPI(title=settings.PROJECT_NAME)
app.include_router(items.router, prefix=settings.API_V1_STR)
"""


def project(**files: str) -> dict[str, str | bytes | None]:
    """A `svc/` FastAPI project: the items router plus the given modules (`svc/x.py` keys)."""
    out: dict[str, str | bytes | None] = {
        "pyproject.toml": PYPROJECT,
        "svc/__init__.py": "",
        "svc/api/__init__.py": "",
        "svc/api/items.py": ITEMS,
        "svc/core/__init__.py": "",
        "svc/core/config.py": CONFIG,
    }
    out.update({name.replace("__", "/") + ".py": text for name, text in files.items()})
    return out


ITEMS_LINE = line_number(ITEMS, "async def list_items")

# ----- settings-field defaults ------------------------------------------------------------
GET_SETTINGS = """from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class AppSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SVC_")
    api_prefix: str = "/api/v2"


@lru_cache
def get_settings() -> AppSettings:
    return AppSettings()
"""
GET_SETTINGS_MAIN = """from fastapi import FastAPI

from svc.api import items
from svc.core.settings import get_settings


def create_app() -> FastAPI:
    application = FastAPI()
    application.include_router(items.router, prefix=get_settings().api_prefix)
    return application
"""
# ----- module constants, f-strings, concatenation -----------------------------------------
CONSTANTS = 'API = "/api"\nVERSION = 1\nV1 = f"{API}/v{VERSION}"\n'
CONSTANT_MAIN = """from fastapi import FastAPI

from svc import constants
from svc.api import items
from svc.constants import V1

LOCAL = V1 + "/shop"

app = FastAPI()
app.include_router(items.router, prefix=LOCAL)
app.include_router(items.router, prefix=constants.V1)
"""
CLASS_CONSTANT_MAIN = """from fastapi import FastAPI

from svc.api import items


class Paths:
    API = "/api"
    CURRENT: str = API + "/v1"


app = FastAPI()
app.include_router(items.router, prefix=f"{Paths.API}/v{3}")
"""
# ----- include chains across three modules, cycles ----------------------------------------
CHAIN_TOP = """from fastapi import APIRouter

from svc.api.v1 import v1_router

api_router = APIRouter(prefix="/api")
api_router.include_router(v1_router)
"""
CHAIN_MIDDLE = """from fastapi import APIRouter

from svc.api import items

v1_router = APIRouter(prefix="/v1")
v1_router.include_router(items.router, prefix="/catalog")
"""
CHAIN_MAIN = """from fastapi import FastAPI

from svc.api.router import api_router

app = FastAPI()
app.include_router(api_router)
"""
CYCLE_A = """from fastapi import APIRouter

from svc.api import cycle_b

router_a = APIRouter(prefix="/a")
router_a.include_router(cycle_b.router_b)
"""
CYCLE_B = '''from fastapi import APIRouter

from svc.api import cycle_a

router_b = APIRouter(prefix="/b")
router_b.include_router(cycle_a.router_a)


@router_b.get("/things")
async def things() -> list[str]:
    """Things."""
    return []
'''
CYCLE_MAIN = """from fastapi import FastAPI

from svc.api import items
from svc.api.cycle_a import router_a

app = FastAPI()
app.include_router(router_a, prefix="/api/v1")
app.include_router(items.router, prefix="/api/v1")
"""
# ----- sub-applications, factories, registering functions ---------------------------------
MOUNT_API = """from fastapi import FastAPI

from svc.api import items

api = FastAPI()
api.include_router(items.router)


@api.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
"""
MOUNT_MAIN = """from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from svc.subapi import api

app = FastAPI(openapi_url="")
app.mount("/api/v1", app=api)
app.mount("/", StaticFiles(directory="static"), name="static")
"""
FACTORY_API = """from fastapi import APIRouter, FastAPI

from svc.api import items


def build_router() -> APIRouter:
    from svc.api.items import router as items_router

    router = APIRouter()
    router.include_router(items_router)
    return router


def create_api() -> FastAPI:
    api = FastAPI()
    api.include_router(build_router())
    return api
"""
FACTORY_MAIN = """from fastapi import FastAPI

from svc.factory import create_api

app = FastAPI()
app.mount("/api/v1/", create_api())
"""
REGISTER = """from svc.api import items
from svc.core.config import settings


def register_routes(application, *, version="v1"):
    application.include_router(items.router, prefix=settings.API_V1_STR)
"""
REGISTER_MAIN = """from fastapi import FastAPI

from svc.routing import register_routes

app = FastAPI()
register_routes(app)
"""
ROUTING = """from typing import Any

from fastapi import APIRouter as _APIRouter


class AuditedRouter(_APIRouter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


def router_class(audited: bool) -> type[_APIRouter]:
    class _Router(AuditedRouter):
        pass

    return _Router


Router = router_class(audited=True)
"""
CUSTOM_ITEMS = ITEMS.replace(
    "from fastapi import APIRouter\n\nrouter = APIRouter(",
    "from svc.routing import Router\n\nrouter = Router(",
)
CUSTOM_MAIN = """from fastapi import FastAPI

from svc.api import items
from svc.routing import AuditedRouter

api = AuditedRouter(prefix="/api/v1")
api.include_router(items.router)
app = FastAPI()
app.include_router(api)
"""
TWO_NAMES = ITEMS.replace('router = APIRouter(prefix="/items")', "items_router = r = APIRouter()")
TWO_NAMES = TWO_NAMES.replace("@router.", "@r.")
TWO_NAMES_MAIN = """from fastapi import FastAPI

from svc.api.items import items_router

app = FastAPI()
api = items_router
app.include_router(api, prefix="/api/v1/items")
"""
# ----- documentation, probes --------------------------------------------------------------
DOCS = """from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html


def add_docs(app: FastAPI) -> None:
    docs = APIRouter(include_in_schema=False)

    @docs.get("/docs")
    async def swagger():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="svc")

    @docs.get("/redoc")
    async def redoc():
        return get_redoc_html(openapi_url="/openapi.json", title="svc")

    @docs.get("/openapi.json")
    async def openapi() -> dict:
        return app.openapi()

    @docs.get("/docs/oauth2-redirect")
    async def redirect():
        return None

    app.include_router(docs)
"""
PROBES = """from fastapi import APIRouter

router = APIRouter()


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready")
async def ready() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/livez")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/metrics")
async def metrics() -> str:
    return ""
"""
OPS_MAIN = """from fastapi import FastAPI

from svc.api import items
from svc.docs import add_docs
from svc.probes import router as probes

app = FastAPI(docs_url=None, redoc_url=None)
app.include_router(items.router, prefix="/api/v1")
app.include_router(probes)
add_docs(app)
"""
REPORTS = '''

@app.get("/reports")
async def reports() -> list[str]:
    """A business route served at the root."""
    return []
'''
DOCS_URL_MAIN = """from fastapi import FastAPI

from svc.api import items

MANUAL = "/manual"

app = FastAPI(docs_url="/manual", openapi_url=f"{MANUAL}/schema")
app.include_router(items.router, prefix="/api/v1")


@app.get(MANUAL, include_in_schema=False)
async def manual() -> str:
    return "<html></html>"


@app.get("/manual/schema", include_in_schema=False)
async def schema() -> dict:
    return {}
"""
# ----- prefixes nothing in the source determines ------------------------------------------
ENV_MAIN = """import os

from fastapi import FastAPI

from svc.api import items

app = FastAPI()
app.include_router(items.router, prefix=os.environ["SVC_PREFIX"])
"""
ORPHAN = '''from fastapi import APIRouter

orphans = APIRouter(prefix="/orphans")


@orphans.get("")
async def list_orphans() -> list[str]:
    """Orphans."""
    return []
'''

API001 = [
    Case("settings field default, settings imported", files=project(svc__main=SETTINGS_MAIN)),
    Case(
        "settings field default outside /api/v1 fails",
        files=project(
            svc__main=SETTINGS_MAIN,
            svc__core__config=CONFIG.replace('"/api/v1"', '"/api"'),
        ),
        status=FAIL,
        path="svc/api/items.py",
        line=ITEMS_LINE,
        message="2 route(s) outside /api/v1",
    ),
    Case(
        "get_settings() of a settings class not named Settings",
        files=project(svc__main=GET_SETTINGS_MAIN, svc__core__settings=GET_SETTINGS),
    ),
    Case(
        "get_settings() default without a version fails",
        files=project(
            svc__main=GET_SETTINGS_MAIN,
            svc__core__settings=GET_SETTINGS.replace('"/api/v2"', '"/v2"'),
        ),
        status=FAIL,
        path="svc/api/items.py",
    ),
    Case(
        "imported constants, f-string with an int, concatenation, module attribute",
        files=project(svc__main=CONSTANT_MAIN, svc__constants=CONSTANTS),
    ),
    Case(
        "imported constant outside /api/v1 fails",
        files=project(
            svc__main=CONSTANT_MAIN, svc__constants=CONSTANTS.replace("/v{VERSION}", "/latest")
        ),
        status=FAIL,
        path="svc/api/items.py",
        message="4 route(s)",
    ),
    Case("class attribute in an f-string", files=project(svc__main=CLASS_CONSTANT_MAIN)),
    Case(
        "class attribute without a version fails",
        files=project(svc__main=CLASS_CONSTANT_MAIN.replace("/v{3}", "")),
        status=FAIL,
        path="svc/api/items.py",
    ),
    Case(
        "include chain across three modules",
        files=project(svc__main=CHAIN_MAIN, svc__api__router=CHAIN_TOP, svc__api__v1=CHAIN_MIDDLE),
    ),
    Case(
        "include chain missing its /api level fails",
        files=project(
            svc__main=CHAIN_MAIN,
            svc__api__router=CHAIN_TOP.replace('prefix="/api"', 'prefix="/rest"'),
            svc__api__v1=CHAIN_MIDDLE,
        ),
        status=FAIL,
        path="svc/api/items.py",
        message="2 route(s)",
    ),
    Case(
        "sub-application mounted at /api/v1",
        files=project(svc__main=MOUNT_MAIN, svc__subapi=MOUNT_API),
        message="2 route(s) served under /api/v1",
    ),
    Case(
        "sub-application mounted at /v1 fails",
        files=project(svc__main=MOUNT_MAIN.replace('"/api/v1"', '"/v1"'), svc__subapi=MOUNT_API),
        status=FAIL,
        path="svc/api/items.py",
        line=ITEMS_LINE,
        absent=("svc/subapi.py",),  # its /v1/health is a probe, not a business route
    ),
    Case(
        "sub-application from a factory, router from a factory",
        files=project(svc__main=FACTORY_MAIN, svc__factory=FACTORY_API),
    ),
    Case(
        "sub-application from a factory mounted outside /api/v1 fails",
        files=project(
            svc__main=FACTORY_MAIN.replace("/api/v1/", "/internal/"), svc__factory=FACTORY_API
        ),
        status=FAIL,
        path="svc/api/items.py",
    ),
    Case(
        "app passed to an unannotated registering function",
        files=project(svc__main=REGISTER_MAIN, svc__routing=REGISTER),
    ),
    Case(
        "registering function with a settings prefix outside /api/v1 fails",
        files=project(
            svc__main=REGISTER_MAIN,
            svc__routing=REGISTER,
            svc__core__config=CONFIG.replace('"/api/v1"', '"/rest"'),
        ),
        status=FAIL,
        path="svc/api/items.py",
    ),
    Case(
        "project router classes: a subclass and a typed class factory's result",
        files={
            **project(svc__main=CUSTOM_MAIN, svc__routing=ROUTING),
            "svc/api/items.py": CUSTOM_ITEMS,
        },
        message="2 route(s) served under /api/v1",
    ),
    Case(
        "project router classes under an unversioned prefix fail",
        files={
            **project(svc__main=CUSTOM_MAIN.replace("/api/v1", "/api"), svc__routing=ROUTING),
            "svc/api/items.py": CUSTOM_ITEMS,
        },
        status=FAIL,
        path="svc/api/items.py",
    ),
    Case(
        "one router under two names",
        files={
            **project(svc__main=TWO_NAMES_MAIN),
            "svc/api/items.py": TWO_NAMES,
        },
        message="2 route(s) served under /api/v1",
    ),
    Case(
        "one router under two names, mounted outside /api/v1",
        files={
            **project(svc__main=TWO_NAMES_MAIN.replace("/api/v1", "/api")),
            "svc/api/items.py": TWO_NAMES,
        },
        status=FAIL,
        path="svc/api/items.py",
    ),
    Case(
        "include cycle is cut and the app's own mount still counts",
        files=project(svc__main=CYCLE_MAIN, svc__api__cycle_a=CYCLE_A, svc__api__cycle_b=CYCLE_B),
    ),
    Case(
        "include cycle under an unversioned prefix fails",
        files=project(
            svc__main=CYCLE_MAIN.replace(
                'include_router(router_a, prefix="/api/v1")', "include_router(router_a)"
            ),
            svc__api__cycle_a=CYCLE_A,
            svc__api__cycle_b=CYCLE_B,
        ),
        status=FAIL,
        path="svc/api/cycle_b.py",
    ),
    Case(
        "docs, health, readiness, liveness and metrics at the root are not business routes",
        files=project(svc__main=OPS_MAIN, svc__docs=DOCS, svc__probes=PROBES),
    ),
    Case(
        "a business route at the root still fails beside them",
        files=project(svc__main=OPS_MAIN + REPORTS, svc__docs=DOCS, svc__probes=PROBES),
        status=FAIL,
        path="svc/main.py",
        line=line_number(OPS_MAIN + REPORTS, "async def reports"),
        message="1 route(s) outside /api/v1",
        absent=("svc/docs.py", "svc/probes.py"),
    ),
    Case(
        "a hand-served docs_url path is documentation",
        files=project(svc__main=DOCS_URL_MAIN),
    ),
    Case(
        "the same handler at another path is a business route",
        files=project(svc__main=DOCS_URL_MAIN.replace('docs_url="/manual"', "docs_url=None")),
        status=FAIL,
        path="svc/main.py",
        line=line_number(DOCS_URL_MAIN, "async def manual"),
    ),
    Case(
        "only docs and probes: nothing to judge",
        files={
            **project(svc__main=OPS_MAIN, svc__docs=DOCS, svc__probes=PROBES),
            "svc/api/items.py": "",
        },
        status=NOT_APPLICABLE,
    ),
    Case(
        "prefix read from the environment warns with the expression",
        files=project(svc__main=ENV_MAIN),
        status=WARN,
        path="svc/main.py",
        line=line_number(ENV_MAIN, "app.include_router"),
    ),
    Case(
        "unknown prefix beside known routes: the known ones are judged",
        files=project(svc__main=ENV_MAIN + 'app.include_router(items.router, prefix="/api/v1")\n'),
        status=PASS,
        path="svc/main.py",
        line=line_number(ENV_MAIN, "app.include_router"),
        message="behind 1 unresolved expression(s) skipped",
    ),
    Case(
        "router included nowhere is named",
        files=project(svc__main=SETTINGS_MAIN, svc__api__orphans=ORPHAN),
        status=PASS,
        path="svc/api/orphans.py",
        line=line_number(ORPHAN, "orphans = APIRouter"),
    ),
]


@pytest.mark.parametrize("case", API001, ids=case_ids(API001))
def test_api001_route_prefixes(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "API-001", case)


def test_unresolved_evidence_quotes_the_expression(tmp_path: Path) -> None:
    result = check(tmp_path, "API-001", API001[-3])
    assert [e.message for e in result.evidence] == [
        "prefix `os.environ['SVC_PREFIX']` cannot be resolved"
    ]
    orphan = check(tmp_path / "orphan", "API-001", API001[-1])
    assert [e.message for e in orphan.evidence] == [
        "router `orphans` is not included in any app the analysis found"
    ]


MON = [
    Case(
        "health of a mounted sub-application",
        files=project(svc__main=MOUNT_MAIN, svc__subapi=MOUNT_API),
        message="GET /api/v1/health (svc/subapi.py",
    ),
    Case(
        "root probes beside docs",
        files=project(svc__main=OPS_MAIN, svc__docs=DOCS, svc__probes=PROBES),
        message="GET /health (svc/probes.py",
    ),
    Case(
        "a /healthcheck the API rules exempt is a liveness route not at /health",
        files=project(
            svc__main=MOUNT_MAIN, svc__subapi=MOUNT_API.replace('"/health"', '"/healthcheck"')
        ),
        status=WARN,
        path="svc/subapi.py",
    ),
    Case(
        "a /ping the API rules exempt warns too",
        files=project(svc__main=MOUNT_MAIN, svc__subapi=MOUNT_API.replace('"/health"', '"/ping"')),
        status=WARN,
        path="svc/subapi.py",
    ),
    Case(
        "no health route in the sub-application",
        files=project(
            svc__main=MOUNT_MAIN, svc__subapi=MOUNT_API.replace('"/health"', '"/status"')
        ),
        status=FAIL,
    ),
]


@pytest.mark.parametrize("case", MON, ids=case_ids(MON))
def test_mon001_sees_the_same_routes(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "MON-001", case)


def test_api002_and_api008_skip_documentation(tmp_path: Path) -> None:
    files = project(svc__main=OPS_MAIN, svc__docs=DOCS, svc__probes=PROBES)
    plural = check(tmp_path / "a", "API-002", Case("docs", files=files))
    assert plural.status is PASS
    documented = check(tmp_path / "b", "API-008", Case("docs", files=files, status=FAIL))
    assert {e.path for e in documented.evidence} == {"svc/probes.py"}


# ----- the route table itself -------------------------------------------------------------
def routes_of(tmp_path: Path, files: dict[str, str | bytes | None]) -> list[Route]:
    return RepoContext(make_repo(tmp_path / "repo", files)).routes


def test_mounted_sub_application_and_static_mount(tmp_path: Path) -> None:
    routes = routes_of(tmp_path, project(svc__main=MOUNT_MAIN, svc__subapi=MOUNT_API))
    table = {(r.func_name, r.method): r.full_paths for r in routes}
    assert table == {
        ("list_items", "GET"): ("/api/v1/items",),
        ("create_item", "POST"): ("/api/v1/items",),
        ("health", "GET"): ("/api/v1/health",),
    }
    assert [r.func_name for r in routes if is_operational(r)] == ["health"]


def test_three_module_chain_and_cycle_terminate(tmp_path: Path) -> None:
    chain = routes_of(
        tmp_path / "chain",
        project(svc__main=CHAIN_MAIN, svc__api__router=CHAIN_TOP, svc__api__v1=CHAIN_MIDDLE),
    )
    assert {r.full_path for r in chain} == {"/api/v1/catalog/items"}
    cycle = routes_of(
        tmp_path / "cycle",
        project(svc__main=CYCLE_MAIN, svc__api__cycle_a=CYCLE_A, svc__api__cycle_b=CYCLE_B),
    )
    things = next(r for r in cycle if r.func_name == "things")
    assert things.full_paths == ("/api/v1/a/b/things",)


def test_cycle_without_an_app_is_named_not_looped(tmp_path: Path) -> None:
    files = project(svc__api__cycle_a=CYCLE_A, svc__api__cycle_b=CYCLE_B)
    things = next(r for r in routes_of(tmp_path, files) if r.func_name == "things")
    assert things.full_paths == ()
    assert [(u.path, u.expression) for u in things.unresolved] == [
        ("svc/api/cycle_b.py", "router_b")
    ]


def test_unresolved_route_path_and_receiver(tmp_path: Path) -> None:
    main = (
        "from fastapi import FastAPI\n\nfrom svc import paths\n\napp = FastAPI()\n\n\n"
        "@app.get(paths.dynamic())\nasync def dynamic() -> None: ...\n\n\n"
        "@make_router().get('/x')\nasync def elsewhere() -> None: ...\n"
    )
    routes = routes_of(tmp_path, project(svc__main=main, svc__paths="def dynamic(): ...\n"))
    by_name = {r.func_name: r for r in routes}
    assert [u.message for u in by_name["dynamic"].unresolved] == [
        "path `paths.dynamic()` cannot be resolved"
    ]
    assert by_name["dynamic"].unresolved[0].line == line_number(main, "@app.get")
    assert "elsewhere" not in by_name  # a call's attribute is no router the analysis knows


def test_settings_default_through_field_and_base_class(tmp_path: Path) -> None:
    config = (
        "from pydantic import Field\nfrom pydantic_settings import BaseSettings\n\n\n"
        "class Base(BaseSettings):\n    API_V1_STR: str = Field('/api/v1', alias='X')\n\n\n"
        "class Settings(Base):\n    NAME: str = 'svc'\n\n\nsettings = Settings()\n"
    )
    routes = routes_of(tmp_path, project(svc__main=SETTINGS_MAIN, svc__core__config=config))
    assert {r.full_path for r in routes} == {"/api/v1/items"}
    assert isinstance(routes[0].node, ast.AsyncFunctionDef)


def test_failure_under_a_mount_names_the_mounted_path(tmp_path: Path) -> None:
    case = next(c for c in API001 if c.name == "sub-application mounted at /v1 fails")
    result = check(tmp_path, "API-001", case)
    assert [e.message for e in result.evidence] == [
        "GET /v1/items is not under /api/v1",
        "POST /v1/items is not under /api/v1",
    ]
