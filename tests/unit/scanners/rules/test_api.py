"""API rules: /api/v1, plural resources, status codes, pagination, gzip, snake_case, docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.scanners.rules.harness import (
    FAIL,
    NOT_APPLICABLE,
    WARN,
    Case,
    case_ids,
    check,
    golden_files,
    line_number,
    replace_once,
)

G = {k: str(v) for k, v in golden_files().items() if isinstance(v, str)}
MAIN = G["src/main.py"]
NOTES = G["src/api/routes/notes.py"]
NOTE_SCHEMA = G["src/schemas/note.py"]
PAGINATION = G["src/schemas/pagination.py"]
NOTES_ROUTER = "src/api/routes/notes.py"

SETTINGS = (
    "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n"
    '    API_V1_STR: str = "/api/v1"\n\n\nsettings = Settings()\n'
)
MAIN_APP = (
    "from fastapi import FastAPI\nfrom fastapi.middleware import Middleware\n"
    "from starlette.middleware.gzip import GZipMiddleware as GZip\n\n"
    "from app.api.router import api_router\nfrom app.core.config import settings\n\n"
    "app = FastAPI(middleware=[Middleware(GZip, minimum_size=500)])\n"
    "app.include_router(api_router, prefix=settings.API_V1_STR)\n"
)
API_ROUTER = (
    "from fastapi import APIRouter\n\nfrom app.api.routers import orders, people\n\n"
    "api_router = APIRouter()\napi_router.include_router(orders.router, prefix='/orders')\n"
    "api_router.include_router(people.router)\n"
)
SCHEMAS = """from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

DEFAULT_SIZE = 20
MAX_SIZE = 100


class Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class PageParams(Schema):
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=DEFAULT_SIZE, ge=1, le=MAX_SIZE)


class PageMeta(Schema):
    total: int
    page: int
    per_page: int
    total_pages: int


class OrderRead(Schema):
    order_id: int
    created_at: str


class OrderPage(PageMeta):
    data: list[OrderRead]
"""
ORDERS = '''"""Orders."""
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.schemas import DEFAULT_SIZE, OrderPage, OrderRead, PageParams

router = APIRouter()


def traced(func):
    return func


@router.get("", response_model=OrderPage)
@traced
async def list_orders(params: Annotated[PageParams, Depends()]) -> OrderPage:
    """List orders."""
    raise NotImplementedError


@router.get("/recent", response_model=OrderPage)
async def recent_orders(
    offset: int = 0, limit: int = Query(DEFAULT_SIZE, ge=1, lt=101)
) -> OrderPage:
    """Recent orders."""
    raise NotImplementedError


@router.post("", status_code=HTTPStatus.CREATED)
async def create_order() -> OrderRead:
    """Create."""
    raise NotImplementedError


@router.post("/{order_id}/cancel")
async def cancel_order(order_id: int) -> OrderRead:
    """Cancel."""
    raise NotImplementedError


@router.post("/exports", status_code=202, summary="Start an export")
async def create_export() -> OrderRead:
    raise NotImplementedError


@router.delete("/{order_id}", status_code=204)
async def delete_order(order_id: int) -> None:
    """Delete."""


async def archived(params: Annotated[PageParams, Depends()]) -> OrderPage:
    raise NotImplementedError


router.add_api_route(
    "/archived", archived, description="Archived orders.", response_model=OrderPage
)
'''
PEOPLE = """from fastapi import APIRouter

router = APIRouter(prefix="/people")


@router.get("/{person_id}/addresses/{address_id}", description="One address.")
async def address(person_id: int, address_id: int) -> dict:
    return {}


@router.get("/me/refresh-tokens", summary="Tokens")
async def tokens() -> dict:
    return {}
"""


def shop(changes: dict[str, str | None] | None = None) -> dict[str, str | bytes | None]:
    """An `app/` project (not the golden one): settings prefix, nested includes, gzip."""
    files: dict[str, str | bytes | None] = {
        "pyproject.toml": '[project]\nname = "shop"\nversion = "1"\ndependencies = '
        '["fastapi>=0.115", "pydantic>=2", "pydantic-settings>=2"]\n',
        "app/__init__.py": "",
        "app/main.py": MAIN_APP,
        "app/core/__init__.py": "",
        "app/core/config.py": SETTINGS,
        "app/api/__init__.py": "",
        "app/api/router.py": API_ROUTER,
        "app/api/routers/__init__.py": "",
        "app/api/routers/orders.py": ORDERS,
        "app/api/routers/people.py": PEOPLE,
        "app/schemas/__init__.py": SCHEMAS,
    }
    files.update(changes or {})
    return files


NO_APP: dict[str, str | bytes | None] = {
    "pyproject.toml": '[project]\nname = "tool"\nversion = "1"\n',
    "tool/__init__.py": "",
    "tool/main.py": "print('no app')\n",
}
LIST_NOTES = line_number(NOTES, "async def list_notes")

API001 = [
    Case("golden passes: health is served at the root"),
    Case("settings prefix composed across files", files=shop()),
    Case("no endpoints", files=NO_APP, status=NOT_APPLICABLE),
    Case(
        "api router mounted without a prefix",
        {
            "src/main.py": replace_once(
                MAIN,
                'app.include_router(api_router, prefix="/api/v1")',
                "app.include_router(api_router)",
            )
        },
        FAIL,
        path=NOTES_ROUTER,
        line=LIST_NOTES,
        message="outside /api/v1",
    ),
    Case(
        "router mounted nowhere warns",
        files=shop({"app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n"}),
        status=WARN,
        path="app/api/routers/people.py",
    ),
]

SINGULAR = replace_once(NOTES, 'prefix="/notes"', 'prefix="/note"')
API002 = [
    Case("golden passes"),
    Case("irregular plurals, me, hyphens and actions pass", files=shop()),
    Case("no routes", files=NO_APP, status=NOT_APPLICABLE),
    Case("singular resource", {NOTES_ROUTER: SINGULAR}, WARN, path=NOTES_ROUTER, line=LIST_NOTES),
    Case(
        "singular nested resource",
        files=shop({"app/api/routers/people.py": PEOPLE.replace("/addresses/", "/address/")}),
        status=WARN,
        path="app/api/routers/people.py",
        line=7,
        message="singular",
    ),
]

NO_201 = replace_once(
    NOTES,
    '@router.post("", response_model=NoteResponse, status_code=status.HTTP_201_CREATED)',
    '@router.post("", response_model=NoteResponse)',
)
DELETE_200 = replace_once(NOTES, "    status_code=status.HTTP_204_NO_CONTENT,\n", "")
API003 = [
    Case("golden passes"),
    Case("HTTPStatus, actions and 202 pass", files=shop()),
    Case("no create or delete", files=NO_APP, status=NOT_APPLICABLE),
    Case(
        "create returns 200",
        {NOTES_ROUTER: NO_201},
        FAIL,
        path=NOTES_ROUTER,
        line=line_number(NO_201, "async def create_note"),
        message="wrong status",
    ),
    Case(
        "delete returns 200",
        {NOTES_ROUTER: DELETE_200},
        FAIL,
        path=NOTES_ROUTER,
        line=line_number(DELETE_200, "async def delete_note"),
    ),
]

UNPAGINATED = NOTES + (
    "\n\n@router.get('/tags', response_model=list[str])\n"
    'async def list_tags(user: CurrentUser) -> list[str]:\n    """Tags."""\n    return []\n'
)
UNRESOLVED = NOTES + (
    "\n\ndef size() -> int:\n    return 20\n\n\n@router.get('/tags', response_model=list[str])\n"
    "async def list_tags(per_page: int = Query(size(), le=100)) -> list[str]:\n"
    '    """Tags."""\n    return []\n'
)
FUNCTION_DEPENDENCY = NOTES + (
    "\n\ndef paging(page: int = 1, page_size: int = Query(20, le=100)) -> int:\n"
    "    return page\n\n\n"
    "@router.get('/tags', response_model=list[str])\n"
    "async def list_tags(p: int = Depends(paging)) -> list[str]:\n"
    '    """Tags."""\n    return []\n'
)
API004 = [
    Case("golden passes"),
    Case("dependency class, imported constants, limit/offset", files=shop()),
    Case("function dependency", {NOTES_ROUTER: FUNCTION_DEPENDENCY}),
    Case(
        "imported maximum above 100 in a dependency class",
        files=shop(
            {"app/schemas/__init__.py": SCHEMAS.replace("MAX_SIZE = 100", "MAX_SIZE = 500")}
        ),
        status=FAIL,
        path="app/api/routers/orders.py",
        line=line_number(ORDERS, "async def list_orders"),
        message="not paginated",
    ),
    Case("no list endpoints", files=NO_APP, status=NOT_APPLICABLE),
    Case(
        "list without pagination",
        {NOTES_ROUTER: UNPAGINATED},
        FAIL,
        path=NOTES_ROUTER,
        line=len(NOTES.splitlines()) + 4,
        absent=(),
    ),
    Case(
        "maximum above 100",
        {NOTES_ROUTER: replace_once(NOTES, "le=100", "le=500")},
        FAIL,
        path=NOTES_ROUTER,
        line=LIST_NOTES,
    ),
    Case(
        "default 50",
        {NOTES_ROUTER: replace_once(NOTES, "] = 20", "] = 50")},
        FAIL,
        path=NOTES_ROUTER,
        line=LIST_NOTES,
    ),
    Case(
        "no maximum",
        {NOTES_ROUTER: replace_once(NOTES, "ge=1, le=100, ", "ge=1, ")},
        FAIL,
        path=NOTES_ROUTER,
        message="not paginated",
    ),
    Case(
        "default computed at run time warns",
        {NOTES_ROUTER: UNRESOLVED},
        WARN,
        path=NOTES_ROUTER,
        line=len(NOTES.splitlines()) + 8,
    ),
]

NO_TOTAL_PAGES = replace_once(PAGINATION, "    total_pages: int = Field(ge=0, examples=[3])\n", "")
BARE_LIST = ORDERS.replace(
    '@router.get("", response_model=OrderPage)\n@traced\nasync def list_orders(params: '
    "Annotated[PageParams, Depends()]) -> OrderPage:",
    '@router.get("")\nasync def list_orders(params: Annotated[PageParams, Depends()])'
    " -> list[OrderRead]:",
)
API005 = [
    Case("golden passes"),
    Case("fields inherited from a project base", files=shop()),
    Case("no list endpoints", files=NO_APP, status=NOT_APPLICABLE),
    Case(
        "page model without total_pages",
        {"src/schemas/pagination.py": NO_TOTAL_PAGES},
        FAIL,
        path="src/schemas/pagination.py",
        line=line_number(NO_TOTAL_PAGES, "class PaginatedResponse"),
        message="envelope",
    ),
    Case(
        "bare list",
        files=shop({"app/api/routers/orders.py": BARE_LIST}),
        status=FAIL,
        path="app/api/routers/orders.py",
        line=line_number(BARE_LIST, "async def list_orders"),
    ),
]

NO_GZIP = replace_once(MAIN, "    app.add_middleware(GZipMiddleware, minimum_size=1000)\n", "")
API006 = [
    Case("golden passes"),
    Case("Middleware(...) with an aliased starlette class", files=shop()),
    Case("no app", files=NO_APP, status=NOT_APPLICABLE),
    Case(
        "imported but not installed",
        {"src/main.py": NO_GZIP},
        FAIL,
        path="src/main.py",
        line=line_number(NO_GZIP, "app = FastAPI("),
    ),
]

CAMEL = replace_once(
    NOTE_SCHEMA, "    owner_id: int = Field(examples=[1])", "    ownerId: int = Field(examples=[1])"
)
CAMEL_ALIAS = replace_once(
    NOTE_SCHEMA, "owner_id: int = Field(examples=[1])", 'owner_id: int = Field(alias="ownerId")'
)
API007 = [
    Case("golden passes"),
    Case("alias generator in a project base class", files=shop()),
    Case("no models", files=NO_APP, status=NOT_APPLICABLE),
    Case(
        "camelCase field",
        {"src/schemas/note.py": CAMEL},
        FAIL,
        path="src/schemas/note.py",
        line=line_number(CAMEL, "ownerId"),
    ),
    Case(
        "camelCase alias",
        {"src/schemas/note.py": CAMEL_ALIAS},
        FAIL,
        path="src/schemas/note.py",
        line=line_number(CAMEL_ALIAS, "ownerId"),
    ),
]

UNDOCUMENTED = replace_once(NOTES, '    """Return one of the caller\'s notes."""\n', "")
API008 = [
    Case("golden passes"),
    Case("summary, description and add_api_route", files=shop()),
    Case("no endpoints", files=NO_APP, status=NOT_APPLICABLE),
    Case(
        "handler without docstring",
        {NOTES_ROUTER: UNDOCUMENTED},
        FAIL,
        path=NOTES_ROUTER,
        line=line_number(UNDOCUMENTED, "async def read_note"),
        absent=("src/main.py",),
    ),
]

TABLE = [
    ("API-001", API001),
    ("API-002", API002),
    ("API-003", API003),
    ("API-004", API004),
    ("API-005", API005),
    ("API-006", API006),
    ("API-007", API007),
    ("API-008", API008),
]
PARAMS = [(rule, case) for rule, cases in TABLE for case in cases]


@pytest.mark.parametrize(
    ("rule_id", "case"), PARAMS, ids=[f"{r}-{i}" for r, c in PARAMS for i in case_ids([c])]
)
def test_api_rules(tmp_path: Path, rule_id: str, case: Case) -> None:
    check(tmp_path, rule_id, case)


def test_route_module_with_syntax_error_does_not_crash(tmp_path: Path) -> None:
    case = Case("broken", {"src/api/routes/broken.py": "@router.get('/x'\ndef x(:\n"})
    for rule_id, _ in TABLE:
        check(tmp_path / rule_id, rule_id, case)
