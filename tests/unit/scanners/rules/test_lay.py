"""LAY rules: layer imports, database calls, services, generic repositories, thin handlers."""

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
USERS = G["src/api/routes/users.py"]
NOTE_SERVICE = G["src/services/note_service.py"]
NOTE_REPO = G["src/repositories/note_repository.py"]
REPO_BASE = G["src/repositories/base.py"]
NOTE_SCHEMA = G["src/schemas/note.py"]
NOTE_MODEL = G["src/models/note.py"]
ANCHOR = "from src.services.note_service import NoteService\n"


def notes_with(imports: str = "", handler: str = "") -> str:
    """The golden notes route module with extra imports and an extra handler."""
    return replace_once(NOTES, ANCHOR, ANCHOR + imports) + handler


def service_with(imports: str = "", body: str = "") -> str:
    """The golden note service with extra imports and extra module code."""
    anchor = "from src.services.event_service import EventService\n"
    return replace_once(NOTE_SERVICE, anchor, anchor + imports) + body


def app_project(files: dict[str, str]) -> dict[str, str | bytes | None]:
    """A small `app/` layout project (not the golden one) with the given modules."""
    return {
        "pyproject.toml": '[project]\nname = "shop"\nversion = "1"\n'
        'dependencies = ["fastapi>=0.115", "sqlalchemy>=2", "pydantic>=2"]\n',
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\n\nfrom app.api.routers import orders\n\n"
        "app = FastAPI()\napp.include_router(orders.router, prefix='/api/v1')\n",
        "app/api/__init__.py": "",
        "app/api/routers/__init__.py": "",
        **files,
    }


ORDERS_ROUTER = '''"""Orders."""
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends

import app.services.order_service as svc
from app.api.deps import get_order_service

if TYPE_CHECKING:
    from app.models.order import Order
    from sqlalchemy.ext.asyncio import AsyncSession

router = APIRouter(prefix="/orders")


def audit(func):
    return func


@router.get("")
@router.get("/all")
@audit
async def list_orders(service: Annotated[svc.OrderService, Depends(get_order_service)]) -> list:
    """List orders."""
    return await service.list()
'''
TRICKY = app_project(
    {
        "app/api/routers/orders.py": ORDERS_ROUTER,
        "app/api/deps.py": "from app.services.order_service import OrderService\n\n"
        "def get_order_service() -> OrderService:\n    return OrderService()\n",
        "app/services/__init__.py": "",
        "app/services/order_service.py": "class OrderService:\n"
        "    async def list(self) -> list:\n        return []\n",
        "app/models/__init__.py": "",
        "app/models/order.py": "class Order:\n    pass\n",
    }
)
NO_ROUTES: dict[str, str | bytes | None] = {
    "pyproject.toml": '[project]\nname = "tool"\nversion = "1"\n',
    "tool/__init__.py": "",
    "tool/main.py": "print('no app')\n",
}

LAY001 = [
    Case("golden passes"),
    Case("app layout with aliased module import and type-only imports", files=TRICKY),
    Case("no route modules", files=NO_ROUTES, status=NOT_APPLICABLE),
    Case(
        "route imports a repository",
        {"src/api/routes/notes.py": notes_with("from src.repositories import note_repository\n")},
        FAIL,
        path="src/api/routes/notes.py",
        line=line_number(NOTES, "from src.services.note_service") + 1,
    ),
    Case(
        "route imports sqlalchemy under an alias",
        {"src/api/routes/users.py": "import sqlalchemy as sa\n" + USERS},
        FAIL,
        path="src/api/routes/users.py",
        line=1,
    ),
    Case(
        "route imports the database module inside a function",
        {
            "src/api/routes/notes.py": notes_with(
                handler="\n\ndef _db():\n    from src.core.database import Database\n"
                "    return Database\n"
            )
        },
        FAIL,
        path="src/api/routes/notes.py",
        line=len(NOTES.splitlines()) + 4,
    ),
    Case(
        "route imports a model with a relative import",
        {"src/api/routes/notes.py": notes_with("from ...models.note import Note\n")},
        FAIL,
        path="src/api/routes/notes.py",
        message="forbidden import",
    ),
    Case(
        "a session module that holds a websocket session is no data layer",
        {
            "src/api/routes/notes.py": notes_with("from src.session import WebsocketSession\n"),
            "src/session.py": "import asyncio\n\n\nclass WebsocketSession:\n"
            "    queue: asyncio.Queue[str]\n",
        },
    ),
    Case(
        "a session module that opens database sessions is the data layer",
        {
            "src/api/routes/notes.py": notes_with("from src.session import get_session\n"),
            "src/session.py": "from sqlalchemy.orm import Session\n\n\n"
            "def get_session() -> Session:\n    raise NotImplementedError\n",
        },
        FAIL,
        path="src/api/routes/notes.py",
        line=line_number(NOTES, "from src.services.note_service") + 1,
    ),
    Case(
        "an engine module that imports the database module is the data layer",
        {
            "src/api/routes/notes.py": notes_with("from src.engine import ENGINE\n"),
            "src/engine.py": "from src.core.database import Database\n\nENGINE = Database\n",
        },
        FAIL,
        path="src/api/routes/notes.py",
    ),
]

TYPED_SESSION = (
    "\n\n@router.post('/purge', status_code=204)\n"
    "async def purge(db_conn: SessionDep) -> None:\n"
    '    """Purge."""\n    await db_conn.commit()\n'
)
NAMED_SESSION = (
    "\n\n@router.post('/purge', status_code=204)\n"
    'async def purge(db) -> None:\n    """Purge."""\n    db.commit()\n'
)
NOT_A_SESSION = (
    "\n\n@router.delete('/cache', status_code=204)\n"
    "async def purge(http_session: ClientSession, cache) -> None:\n"
    '    """Purge."""\n    await http_session.delete("x")\n    await cache.delete("k")\n'
)
LAY002 = [
    Case("golden passes"),
    Case(
        "other objects' delete calls pass",
        {
            "src/api/routes/notes.py": notes_with(
                "from aiohttp import ClientSession\n", NOT_A_SESSION
            )
        },
    ),
    Case("no route modules", files=NO_ROUTES, status=NOT_APPLICABLE),
    Case(
        "aliased sqlalchemy select in a route",
        {
            "src/api/routes/notes.py": notes_with(
                "from sqlalchemy import select as sql_select\n",
                "\n\nQUERY = sql_select(NoteService)\n",
            )
        },
        FAIL,
        path="src/api/routes/notes.py",
        line=len(NOTES.splitlines()) + 4,
    ),
    Case(
        "typed session commit in a route",
        {
            "src/api/routes/notes.py": notes_with(
                "from src.api.dependencies import SessionDep\n", TYPED_SESSION
            )
        },
        FAIL,
        path="src/api/routes/notes.py",
        line=len(NOTES.splitlines()) + 7,
        message="database operation",
    ),
    Case(
        "session matched by name only warns",
        {"src/api/routes/notes.py": notes_with(handler=NAMED_SESSION)},
        WARN,
        path="src/api/routes/notes.py",
        line=len(NOTES.splitlines()) + 6,
    ),
]

HEALTH_MODULE = (
    "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.get('/healthz')\n"
    'async def healthz() -> dict[str, str]:\n    """Alive."""\n    return {"status": "ok"}\n'
)
TAGS_MODULE = (
    "from fastapi import APIRouter\n\nrouter = APIRouter(prefix='/tags')\n\n\n@router.get('')\n"
    'async def list_tags() -> list[str]:\n    """Tags."""\n    return ["a"]\n'
)
LAY003 = [
    Case("golden passes"),
    Case("service reached through Depends only", files=TRICKY),
    Case("probe-only route module is exempt", {"src/api/routes/health.py": HEALTH_MODULE}),
    Case("no endpoints", files=NO_ROUTES, status=NOT_APPLICABLE),
    Case(
        "route module without a service",
        {"src/api/routes/tags.py": TAGS_MODULE},
        FAIL,
        path="src/api/routes/tags.py",
        line=7,
        absent=("src/api/routes/notes.py",),
    ),
]

LAY004 = [
    Case("golden passes"),
    Case(
        "type-only starlette import passes",
        {
            "src/services/note_service.py": service_with(
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from starlette.requests import Request\n"
            )
        },
    ),
    Case("no services", files=NO_ROUTES, status=NOT_APPLICABLE),
    Case(
        "service raises HTTPException",
        {"src/services/note_service.py": service_with("from fastapi import HTTPException\n")},
        FAIL,
        path="src/services/note_service.py",
        line=line_number(NOTE_SERVICE, "import EventService") + 1,
    ),
    Case(
        "service imports the api layer",
        {
            "src/services/note_service.py": service_with(
                "from src.api.dependencies import CurrentUser\n"
            )
        },
        FAIL,
        path="src/services/note_service.py",
        message="forbidden import",
    ),
]

SQL_IN_SERVICE = "\n\ndef _query():\n    return sa.select(Note).where(Note.id == 1)\n"
TYPED_SERVICE = (
    "\n\nclass Purger:\n    def __init__(self, session: AsyncSession) -> None:\n"
    "        self.session = session\n\n    async def run(self) -> None:\n"
    "        await self.session.commit()\n"
)
LAY005 = [
    Case("golden passes"),
    Case(
        "catching a sqlalchemy exception passes",
        {
            "src/services/note_service.py": service_with(
                "from sqlalchemy.exc import IntegrityError\n",
                "\n\ndef _safe(call):\n    try:\n        return call()\n"
                "    except IntegrityError:\n        return None\n",
            )
        },
    ),
    Case("no services", files=NO_ROUTES, status=NOT_APPLICABLE),
    Case(
        "service builds a query",
        {"src/services/note_service.py": service_with("import sqlalchemy as sa\n", SQL_IN_SERVICE)},
        FAIL,
        path="src/services/note_service.py",
        line=len(NOTE_SERVICE.splitlines()) + 5,
    ),
    Case(
        "service commits a typed session",
        {
            "src/services/note_service.py": service_with(
                "from sqlalchemy.ext.asyncio import AsyncSession\n", TYPED_SERVICE
            )
        },
        FAIL,
        path="src/services/note_service.py",
        line=len(NOTE_SERVICE.splitlines()) + 9,
    ),
    Case(
        "session named db warns",
        {
            "src/services/note_service.py": service_with(
                body="\n\ndef _flush(db):\n    db.flush()\n"
            )
        },
        WARN,
        path="src/services/note_service.py",
        line=len(NOTE_SERVICE.splitlines()) + 4,
    ),
]

LAY006 = [
    Case("golden passes"),
    Case(
        "type-only service import passes",
        {
            "src/repositories/note_repository.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from src.services.note_service import NoteService\n" + NOTE_REPO
        },
    ),
    Case("no repositories", files=NO_ROUTES, status=NOT_APPLICABLE),
    Case(
        "repository imports a service",
        {
            "src/repositories/note_repository.py": "from src.services import note_service\n"
            + NOTE_REPO
        },
        FAIL,
        path="src/repositories/note_repository.py",
        line=1,
    ),
    Case(
        "repository imports the api errors",
        {
            "src/repositories/note_repository.py": "from src.api.errors import app_error_handler\n"
            + NOTE_REPO
        },
        FAIL,
        path="src/repositories/note_repository.py",
        line=1,
    ),
]

LAY007 = [
    Case("golden passes"),
    Case("model importing only models passes", files=TRICKY),
    Case("no models or schemas", files=NO_ROUTES, status=NOT_APPLICABLE),
    Case(
        "schema imports a repository",
        {"src/schemas/note.py": "from src.repositories.base import BaseRepository\n" + NOTE_SCHEMA},
        FAIL,
        path="src/schemas/note.py",
        line=1,
    ),
    Case(
        "model imports a service conditionally",
        {
            "src/models/note.py": NOTE_MODEL
            + "\ntry:\n    from src.services.note_service import NoteService\nexcept ImportError:\n"
            "    NoteService = None\n"
        },
        FAIL,
        path="src/models/note.py",
        line=len(NOTE_MODEL.splitlines()) + 3,
    ),
]

CRUD = app_project(
    {
        "app/crud/__init__.py": "",
        "app/crud/base.py": "import typing as t\n\nModelType = t.TypeVar('ModelType')\n\n\n"
        "class CRUDBase(t.Generic[ModelType]):\n    pass\n",
        "app/crud/mixins.py": "from app.crud.base import CRUDBase\n\n\n"
        "class SoftDeleteCRUD(CRUDBase):\n    pass\n",
        "app/crud/user.py": "from .mixins import SoftDeleteCRUD\n\n\n"
        "class CRUDUser(SoftDeleteCRUD):\n    pass\n",
    }
)
LAY008 = [
    Case("golden passes"),
    Case("typing.Generic base and indirect subclass pass", files=CRUD),
    Case("no repositories", files=NO_ROUTES, status=NOT_APPLICABLE),
    Case(
        "base is not generic",
        {"src/repositories/base.py": replace_once(REPO_BASE, "[ModelT: Base]:", ":")},
        FAIL,
        path="src/repositories/base.py",
        message="no generic base",
    ),
    Case(
        "a repository bypasses the base",
        {
            "src/repositories/note_repository.py": replace_once(
                NOTE_REPO, "class NoteRepository(BaseRepository[Note]):", "class NoteRepository:"
            )
        },
        FAIL,
        path="src/repositories/note_repository.py",
        line=line_number(NOTE_REPO, "class NoteRepository"),
        absent=("src/repositories/user_repository.py",),
    ),
]

FREE_FUNCTIONS = (
    '"""Tags."""\n\nimport logging\n\nlogger = logging.getLogger(__name__)\n\n\n'
    "def _helper() -> None:\n    pass\n\n\nasync def list_tags(repo) -> list:\n"
    "    return await repo.all()\n"
)
LAY009 = [
    Case("golden passes"),
    Case(
        "class with a factory function passes",
        {
            "src/services/tag_service.py": "class TagService:\n    def all(self) -> list:\n"
            "        return []\n\n\n"
            "def get_tag_service() -> TagService:\n    return TagService()\n",
            "src/services/errors.py": "class TagError(Exception):\n    pass\n",
        },
    ),
    Case("no services", files=NO_ROUTES, status=NOT_APPLICABLE),
    Case(
        "module of free functions",
        {"src/services/tag_service.py": FREE_FUNCTIONS},
        FAIL,
        path="src/services/tag_service.py",
        line=line_number(FREE_FUNCTIONS, "async def list_tags"),
    ),
]

LOOP = (
    "\n\n@router.get('/titles')\nasync def titles(user: CurrentUser, service: NoteServiceDep)"
    ' -> list[str]:\n    """Titles."""\n    out = []\n'
    "    for note in (await service.list_page(user.id, None)).data:\n"
    "        out.append(note.title)\n    return out\n"
)
LONG = (
    "\n\n@router.get('/long')\nasync def long(user: CurrentUser) -> int:\n"
    '    """Long."""\n' + "".join(f"    x{i} = {i}\n" for i in range(15)) + "    return x0\n"
)
COMPREHENSION = (
    "\n\n@router.get('/titles')\nasync def titles(user: CurrentUser, service: NoteServiceDep)"
    ' -> list[str]:\n    """Titles."""\n    page = await service.list_page(user.id, None)\n'
    "    return [n.title for n in page.data]\n"
)
SMALL = (
    "\n\n@router.get('/kinds')\n@router.get('/types')\n"
    "async def kinds(user: CurrentUser) -> list[str]:"
    '\n    """Kinds."""\n    return [k.upper() for k in ("a", "b")]\n'
)
LAY010 = [
    Case("golden passes"),
    Case(
        "stacked decorators, literal comprehension pass", {"src/api/routes/notes.py": NOTES + SMALL}
    ),
    Case("no handlers", files=NO_ROUTES, status=NOT_APPLICABLE),
    Case(
        "loop in a handler",
        {"src/api/routes/notes.py": NOTES + LOOP},
        FAIL,
        path="src/api/routes/notes.py",
        line=len(NOTES.splitlines()) + 7,
    ),
    Case(
        "sixteen statements",
        {"src/api/routes/notes.py": NOTES + LONG},
        FAIL,
        path="src/api/routes/notes.py",
        line=len(NOTES.splitlines()) + 4,
        message="fat handler",
    ),
    Case(
        "comprehension over query results warns",
        {"src/api/routes/notes.py": NOTES + COMPREHENSION},
        WARN,
        path="src/api/routes/notes.py",
        line=len(NOTES.splitlines()) + 7,
    ),
]

TABLE = [
    ("LAY-001", LAY001),
    ("LAY-002", LAY002),
    ("LAY-003", LAY003),
    ("LAY-004", LAY004),
    ("LAY-005", LAY005),
    ("LAY-006", LAY006),
    ("LAY-007", LAY007),
    ("LAY-008", LAY008),
    ("LAY-009", LAY009),
    ("LAY-010", LAY010),
]
PARAMS = [(rule, case) for rule, cases in TABLE for case in cases]


@pytest.mark.parametrize(
    ("rule_id", "case"), PARAMS, ids=[f"{r}-{i}" for r, c in PARAMS for i in case_ids([c])]
)
def test_lay_rules(tmp_path: Path, rule_id: str, case: Case) -> None:
    check(tmp_path, rule_id, case)


def test_route_with_syntax_error_does_not_crash(tmp_path: Path) -> None:
    case = Case("broken", {"src/api/routes/broken.py": "def broken(:\n"})
    for rule_id, _ in TABLE:
        check(tmp_path / rule_id, rule_id, case)
