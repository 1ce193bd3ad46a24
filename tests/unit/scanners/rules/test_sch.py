"""SCH rules: Pydantic schemas, separate roles, typed routes, from_attributes, v2 API, examples."""

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
NOTES = G["src/api/routes/notes.py"]
NOTE_SCHEMA = G["src/schemas/note.py"]
NOTE_SERVICE = G["src/services/note_service.py"]

PYPROJECT = (
    '[project]\nname = "shop"\nversion = "1"\n'
    'dependencies = ["fastapi>=0.115", "sqlalchemy>=2", "pydantic>=2"]\n'
)
SCHEMA_BASE = (
    "import pydantic as pd\n\n\nclass Schema(pd.BaseModel):\n"
    "    model_config = pd.ConfigDict(from_attributes=True)\n"
)
ORDER_SCHEMAS = """from typing import Annotated

from pydantic import Field

from app.schemas.base import Schema


class OrderCreate(Schema):
    sku: Annotated[str, Field(examples=["A-1"])]


class OrderRead(Schema):
    model_config = {"json_schema_extra": {"examples": [{"id": 1, "sku": "A-1"}]}}

    id: int
    sku: str


class OrderList(Schema):
    items: list[OrderRead]
    total: int = Field(examples=[1])
"""
ORDERS_ROUTER = '''"""Orders."""
from typing import Annotated

from fastapi import APIRouter, Body, Depends
from fastapi.responses import StreamingResponse

from app.schemas.order import OrderCreate, OrderList, OrderRead
from app.services.order_service import OrderService

router = APIRouter(prefix="/orders")


def parse_filters() -> dict:
    return {}


@router.post("", status_code=201)
async def create_order(payload: Annotated[OrderCreate, Body(embed=True)]) -> OrderRead:
    """Create."""
    return OrderRead(id=1, sku=payload.sku)


@router.get("/search")
async def search(filters: Annotated[dict, Depends(parse_filters)]) -> OrderList:
    """Search."""
    return OrderList(items=[], total=0)


@router.get("/recent")
async def recent() -> list[OrderRead]:
    """Recent."""
    return []


@router.delete("/{order_id}", status_code=204)
async def delete_order(order_id: int):
    """Delete."""


@router.get("/export")
async def export() -> StreamingResponse:
    """Export."""
    return StreamingResponse(iter([b""]))
'''
TRICKY: dict[str, str | bytes | None] = {
    "pyproject.toml": PYPROJECT,
    "app/__init__.py": "",
    "app/main.py": "from fastapi import FastAPI\n\nfrom app.api.routers.orders import router\n\n"
    "app = FastAPI()\napp.include_router(router, prefix='/api/v1')\n",
    "app/api/__init__.py": "",
    "app/api/routers/__init__.py": "",
    "app/api/routers/orders.py": ORDERS_ROUTER,
    "app/schemas/__init__.py": "",
    "app/schemas/base.py": SCHEMA_BASE,
    "app/schemas/order.py": ORDER_SCHEMAS,
    "app/services/__init__.py": "",
    "app/services/order_service.py": "class OrderService:\n    def get(self) -> None:\n"
    "        return None\n",
    "app/models/__init__.py": "",
    "app/models/base.py": "from sqlalchemy.orm import DeclarativeBase\n\n\n"
    "class Base(DeclarativeBase):\n    pass\n",
    "app/models/order.py": "from app.models.base import Base\n\n\nclass Order(Base):\n"
    "    __tablename__ = 'orders'\n",
}
NO_APP: dict[str, str | bytes | None] = {
    "pyproject.toml": '[project]\nname = "tool"\nversion = "1"\n',
    "tool/__init__.py": "",
    "tool/main.py": "print('no app')\n",
}
DATACLASS_SCHEMAS = {
    **TRICKY,
    "app/schemas/base.py": None,
    "app/schemas/order.py": "from dataclasses import dataclass\n\n\n@dataclass\n"
    "class OrderRead:\n    id: int\n",
}
NO_SCHEMAS = {**DATACLASS_SCHEMAS, "app/schemas/__init__.py": None, "app/schemas/order.py": None}
IN_ROUTE_MODEL = "\n\nclass NoteFilter(BaseModel):\n    q: str\n"

SCH001 = [
    Case("golden passes"),
    Case("project base class and module alias pass", files=TRICKY),
    Case("no schemas and no endpoints", files=NO_APP, status=NOT_APPLICABLE),
    Case(
        "schemas folder of dataclasses",
        files=DATACLASS_SCHEMAS,
        status=FAIL,
        path="app/schemas/__init__.py",
    ),
    Case("no schemas folder", files=NO_SCHEMAS, status=FAIL, path="app", message="no pydantic"),
    Case(
        "model defined in a route module warns",
        {"src/api/routes/notes.py": "from pydantic import BaseModel\n" + NOTES + IN_ROUTE_MODEL},
        WARN,
        path="src/api/routes/notes.py",
        line=len(NOTES.splitlines()) + 4,
    ),
]

SCH002 = [
    Case("golden passes"),
    Case("Annotated body with Body() passes", files=TRICKY),
    Case("no bodies", files=NO_APP, status=NOT_APPLICABLE),
    Case(
        "create body returned as the response",
        {
            "src/api/routes/notes.py": replace_once(
                NOTES,
                '@router.post("", response_model=NoteResponse',
                '@router.post("", response_model=NoteCreate',
            )
        },
        FAIL,
        path="src/api/routes/notes.py",
        line=line_number(NOTES, "async def create_note"),
        message="split",
    ),
    Case(
        "update takes the create schema",
        {
            "src/api/routes/notes.py": replace_once(
                NOTES, "payload: NoteUpdate", "payload: NoteCreate"
            )
        },
        FAIL,
        path="src/api/routes/notes.py",
        line=line_number(NOTES, "async def update_note"),
    ),
]

UNTYPED_READ = replace_once(
    replace_once(
        NOTES,
        '@router.get("/{note_id}", response_model=NoteResponse, ',
        '@router.get("/{note_id}", ',
    ),
    'service: NoteServiceDep) -> NoteResponse:\n    """Return one',
    'service: NoteServiceDep) -> dict:\n    """Return one',
)
DICT_BODY = (
    "\n\n@router.post('/bulk', response_model=NoteResponse)\n"
    "async def bulk(payload: dict[str, str], user: CurrentUser) -> NoteResponse:\n"
    '    """Bulk."""\n    raise NotImplementedError\n'
)
RAW_JSON = (
    "\n\n@router.post('/raw', response_model=NoteResponse)\n"
    "async def raw(request: Request, user: CurrentUser) -> NoteResponse:\n"
    '    """Raw."""\n    data = await request.json()\n    raise ValueError(data)\n'
)
SCH003 = [
    Case("golden passes"),
    Case("annotations, 204, streams and dict dependencies pass", files=TRICKY),
    Case("no endpoints", files=NO_APP, status=NOT_APPLICABLE),
    Case(
        "no response model",
        {"src/api/routes/notes.py": UNTYPED_READ},
        FAIL,
        path="src/api/routes/notes.py",
        line=line_number(UNTYPED_READ, "async def read_note"),
        message="untyped",
    ),
    Case(
        "dict body",
        {"src/api/routes/notes.py": NOTES + DICT_BODY},
        FAIL,
        path="src/api/routes/notes.py",
        line=len(NOTES.splitlines()) + 4,
    ),
    Case(
        "request.json()",
        {"src/api/routes/notes.py": "from fastapi import Request\n" + NOTES + RAW_JSON},
        FAIL,
        path="src/api/routes/notes.py",
        line=len(NOTES.splitlines()) + 7,
    ),
]

CONFIG_LINE = "    model_config = ConfigDict(from_attributes=True)\n"
NO_FROM_ATTRIBUTES = NOTE_SCHEMA.replace(CONFIG_LINE, "", 1)
SCH004 = [
    Case("golden passes"),
    Case("inherited from a project base class", files=TRICKY),
    Case(
        "dict-style config passes",
        {
            "src/schemas/note.py": replace_once(
                NOTE_SCHEMA, CONFIG_LINE, '    model_config = {"from_attributes": True}\n'
            )
        },
    ),
    Case("no ORM-backed schemas", files=NO_APP, status=NOT_APPLICABLE),
    Case(
        "response schema without from_attributes warns",
        {"src/schemas/note.py": NO_FROM_ATTRIBUTES},
        WARN,
        path="src/schemas/note.py",
        line=line_number(NO_FROM_ATTRIBUTES, "class NoteResponse"),
        absent=("src/schemas/user.py",),
    ),
]

V1_CONFIG = replace_once(NOTE_SCHEMA, CONFIG_LINE, "    class Config:\n        orm_mode = True\n")
V1_VALIDATOR = (
    replace_once(
        NOTE_SCHEMA,
        "from pydantic import",
        "from pydantic import validator as v\nfrom pydantic import",
    )
    + "\n\nclass Legacy(NoteBase):\n    @v('title')\n"
    + "    def strip(cls, value):\n        return value\n"
)
V1_SERVICE = NOTE_SERVICE + "\n\ndef legacy(note):\n    return NoteResponse.from_orm(note)\n"
NON_MODEL_CONFIG = (
    NOTE_SERVICE + "\n\nclass Factory:\n    class Config:\n        strategy = 'build'\n\n"
    "    def dump(self, note: NoteResponse) -> dict:\n        return note.model_dump()\n"
)
SCH005 = [
    Case("golden passes"),
    Case(
        "Config in a plain class and model_dump pass",
        {"src/services/note_service.py": NON_MODEL_CONFIG},
    ),
    Case(
        "class Config with orm_mode",
        {"src/schemas/note.py": V1_CONFIG},
        FAIL,
        path="src/schemas/note.py",
        line=line_number(V1_CONFIG, "class NoteResponse"),
        message="v1",
    ),
    Case(
        "aliased @validator",
        {"src/schemas/note.py": V1_VALIDATOR},
        FAIL,
        path="src/schemas/note.py",
        line=line_number(V1_VALIDATOR, "@v('title')"),
    ),
    Case(
        "from_orm in a service",
        {"src/services/note_service.py": V1_SERVICE},
        FAIL,
        path="src/services/note_service.py",
        line=len(V1_SERVICE.splitlines()),
    ),
    Case(
        "pydantic.v1 import",
        {"src/schemas/note.py": "from pydantic.v1 import BaseModel as V1Model\n" + NOTE_SCHEMA},
        FAIL,
        path="src/schemas/note.py",
        line=1,
    ),
    Case(
        "dict(exclude_unset=True) fails",
        {
            "src/services/note_service.py": NOTE_SERVICE
            + "\n\ndef d(p):\n    return p.dict(exclude_unset=True)\n"
        },
        FAIL,
        path="src/services/note_service.py",
        line=len(NOTE_SERVICE.splitlines()) + 4,
    ),
    Case(
        "bare .dict() only warns",
        {
            "src/services/note_service.py": NOTE_SERVICE
            + "\n\ndef d(payload):\n    return payload.dict()\n"
        },
        WARN,
        path="src/services/note_service.py",
        line=len(NOTE_SERVICE.splitlines()) + 4,
    ),
]

NO_EXAMPLE = replace_once(
    NOTE_SCHEMA,
    'title: str | None = Field(default=None, min_length=1, max_length=200, examples=["Errands"])',
    "title: str | None = Field(default=None, min_length=1, max_length=200)",
)
BARE_SCHEMAS = {
    **TRICKY,
    "app/schemas/order.py": "from app.schemas.base import Schema\n\n\n"
    "class OrderCreate(Schema):\n    sku: str\n    quantity: int = 1\n",
}
SCH006 = [
    Case("golden passes"),
    Case("Annotated Field, model-level examples and nested models pass", files=TRICKY),
    Case("no schemas", files=NO_APP, status=NOT_APPLICABLE),
    Case(
        "one field without examples warns",
        {"src/schemas/note.py": NO_EXAMPLE},
        WARN,
        path="src/schemas/note.py",
        line=line_number(
            NO_EXAMPLE, "title: str | None = Field(default=None, min_length=1, max_length=200)"
        ),
    ),
    Case(
        "no examples anywhere", files=BARE_SCHEMAS, status=FAIL, path="app/schemas/order.py", line=5
    ),
]

TABLE = [
    ("SCH-001", SCH001),
    ("SCH-002", SCH002),
    ("SCH-003", SCH003),
    ("SCH-004", SCH004),
    ("SCH-005", SCH005),
    ("SCH-006", SCH006),
]
PARAMS = [(rule, case) for rule, cases in TABLE for case in cases]


@pytest.mark.parametrize(
    ("rule_id", "case"), PARAMS, ids=[f"{r}-{i}" for r, c in PARAMS for i in case_ids([c])]
)
def test_sch_rules(tmp_path: Path, rule_id: str, case: Case) -> None:
    check(tmp_path, rule_id, case)


def test_schema_with_syntax_error_does_not_crash(tmp_path: Path) -> None:
    case = Case("broken", {"src/schemas/broken.py": "class Broken(:\n"})
    for rule_id, _ in TABLE:
        check(tmp_path / rule_id, rule_id, case)
