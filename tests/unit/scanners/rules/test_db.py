"""DB rules: typed models, async sessions, reversible migrations, repr, UTC, FK indexes, pools."""

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

GOLDEN = golden_files()
USER = str(GOLDEN["src/models/user.py"])
NOTE = str(GOLDEN["src/models/note.py"])
TOKEN = str(GOLDEN["src/models/refresh_token.py"])
BASE_MODEL = str(GOLDEN["src/models/base.py"])
DATABASE = str(GOLDEN["src/core/database.py"])
REVISION = str(GOLDEN["alembic/versions/0001_initial.py"])
NOTE_REPO = str(GOLDEN["src/repositories/note_repository.py"])
TOKEN_REPO = str(GOLDEN["src/repositories/refresh_token_repository.py"])
NOTE_SERVICE = str(GOLDEN["src/services/note_service.py"])

PYPROJECT = '[project]\nname = "svc"\nversion = "1"\ndependencies = ["fastapi", "sqlalchemy"]\n'
# An app/ layout: a re-exported base in a package, `sa`/`orm` module aliases, an association
# table with Core columns, a model whose base is imported through the package `__init__`.
APP_DB_INIT = "from app.db.base import Base\n\n__all__ = ['Base']\n"
APP_DB_BASE = """\
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm


class Base(orm.DeclarativeBase):
    type_annotation_map = {datetime: sa.DateTime(timezone=True)}

    def __repr__(self) -> str:
        return type(self).__name__
"""
APP_MODELS = """\
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from app.db import Base

members = sa.Table(
    "members",
    Base.metadata,
    sa.Column("team_id", sa.ForeignKey("teams.id"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True),
)


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (sa.Index("ix_teams_owner", "owner_id", "created"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    owner_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("users.id"))
    created: orm.Mapped[datetime] = orm.mapped_column(default=None)
    closed: "orm.Mapped[datetime | None]" = orm.mapped_column(sa.DateTime(True))
    owner = orm.relationship("User", lazy="selectin")
"""
APP_ENGINE = """\
import sqlalchemy.ext.asyncio as sa_async
from sqlalchemy.ext.asyncio import create_async_engine as make_engine
from sqlalchemy.orm import sessionmaker

engine = make_engine("postgresql+asyncpg://db/app", pool_pre_ping=True)
Session = sessionmaker(engine, class_=sa_async.AsyncSession)
"""


def app_project(**overrides: str | None) -> dict[str, str | bytes | None]:
    """The app/ layout project above, with files replaced or removed."""
    files: dict[str, str | bytes | None] = {
        "pyproject.toml": PYPROJECT,
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
        "app/db/__init__.py": APP_DB_INIT,
        "app/db/base.py": APP_DB_BASE,
        "app/db/models.py": APP_MODELS,
        "app/db/engine.py": APP_ENGINE,
    }
    files.update(overrides)
    return {k: v for k, v in files.items() if v is not None}


LEGACY_BACKEND = """\
from sqlalchemy import Column, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
"""
NO_DB = {
    "pyproject.toml": PYPROJECT,
    "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
}
FULL_NAME = "    full_name: Mapped[str] = mapped_column(String(200))"

DB001 = [
    Case("golden passes"),
    Case("app layout with aliases and a Core table passes", files=app_project()),
    Case(
        "legacy Column attribute",
        {
            "src/models/user.py": replace_once(
                replace_once(USER, FULL_NAME, "    full_name = Column(String(200))"),
                "from sqlalchemy import Boolean",
                "from sqlalchemy import Boolean, Column",
            )
        },
        FAIL,
        path="src/models/user.py",
        line=line_number(USER, FULL_NAME),
        message="legacy Column",
    ),
    Case(
        "declarative_base() models below backend/",
        files={"backend/pyproject.toml": PYPROJECT, "backend/app/models/item.py": LEGACY_BACKEND},
        status=FAIL,
        path="backend/app/models/item.py",
        line=9,
    ),
    Case(
        "untyped mapped_column warns",
        {
            "src/models/user.py": replace_once(
                USER, FULL_NAME, "    full_name = mapped_column(String)"
            )
        },
        WARN,
        path="src/models/user.py",
        line=line_number(USER, FULL_NAME),
    ),
    Case("broken model file does not crash", {"src/models/broken.py": "class X(:\n"}),
    Case("no models", files=NO_DB, status=NOT_APPLICABLE),
]

SYNC_ENGINE = 'sync_engine = create_engine("sqlite://")\n'
DB002 = [
    Case("golden passes"),
    Case("sessionmaker with class_=AsyncSession passes", files=app_project()),
    Case(
        "sync create_engine",
        {
            "src/core/database.py": replace_once(
                DATABASE,
                "from sqlalchemy import text",
                "from sqlalchemy import create_engine, text",
            )
            + SYNC_ENGINE
        },
        FAIL,
        path="src/core/database.py",
        line=DATABASE.count("\n") + 1,
    ),
    Case(
        "sync engine in alembic/env.py is not app code",
        repo_changes={"alembic/versions/env_sync.py": "from sqlalchemy import create_engine\n"},
    ),
    Case(
        "models without any engine",
        files=app_project(**{"app/db/engine.py": None}),
        status=FAIL,
        message="no async engine",
    ),
    Case(
        "async engine without async sessions warns",
        files=app_project(
            **{
                "app/db/engine.py": APP_ENGINE.replace(
                    "Session = sessionmaker(engine, class_=sa_async.AsyncSession)", ""
                )
            }
        ),
        status=WARN,
        path="app/db/engine.py",
        line=5,
    ),
    Case("no SQLAlchemy", files=NO_DB, status=NOT_APPLICABLE),
]

DOWNGRADE = REVISION[REVISION.index("def downgrade") :]
DOWNGRADE_LINE = line_number(REVISION, "def downgrade")
VERSIONS = "alembic/versions/0001_initial.py"
BACKEND_REVISION = '''\
"""Add a column."""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"


def upgrade():
    op.add_column("notes", sa.Column("pinned", sa.Boolean()))


def downgrade():
    """Drop the column."""
    # the column holds no data worth keeping
    op.drop_column("notes", "pinned")
'''


def downgrade(body: str) -> str:
    """The golden revision with its downgrade body replaced."""
    return REVISION.replace(DOWNGRADE, f"def downgrade() -> None:\n{body}")


DB003 = [
    Case("golden passes"),
    Case(
        "migrations/versions below backend/ passes",
        prefix="backend/",
        repo_changes={
            "backend/migrations/versions/0002_pinned.py": BACKEND_REVISION,
            "backend/migrations/versions/__init__.py": "",
        },
    ),
    Case(
        "downgrade only passes",
        {VERSIONS: downgrade('    """Nothing."""\n    pass\n')},
        FAIL,
        path=VERSIONS,
        line=DOWNGRADE_LINE,
        message="cannot downgrade",
    ),
    Case(
        "downgrade only raises",
        {VERSIONS: downgrade("    raise NotImplementedError\n")},
        FAIL,
        path=VERSIONS,
        line=DOWNGRADE_LINE,
    ),
    Case(
        "no downgrade at all",
        {VERSIONS: REVISION.replace(DOWNGRADE, "")},
        FAIL,
        path=VERSIONS,
        message="1 of 1",
    ),
    Case(
        "unparsable revision warns",
        {"alembic/versions/0002_broken.py": 'revision = "0002"\ndef upgrade(:\n'},
        WARN,
        path="alembic/versions/0002_broken.py",
        line=2,
    ),
    Case("no revisions", {VERSIONS: None}, NOT_APPLICABLE),
]

NOTE_REPR = NOTE[NOTE.index("    def __repr__") :]
BASE_REPR = BASE_MODEL[
    BASE_MODEL.index("    def __repr__") : BASE_MODEL.index("class TimestampMixin")
]
REPR_MIXIN = """\
class ReprMixin:
    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
"""
DB005 = [
    Case("golden passes"),
    Case("repr inherited from the project base", files=app_project()),
    Case(
        "repr from a mixin in another module",
        {
            "src/models/mixins.py": REPR_MIXIN,
            "src/models/base.py": BASE_MODEL.replace(BASE_REPR, "\n"),
            "src/models/note.py": replace_once(
                NOTE.replace(NOTE_REPR, ""),
                "class Note(TimestampMixin, Base)",
                "class Note(ReprMixin, TimestampMixin, Base)",
            ).replace(
                "from src.models.base",
                "from src.models.mixins import ReprMixin\nfrom src.models.base",
            ),
        },
    ),
    Case(
        "model without repr",
        {
            "src/models/base.py": BASE_MODEL.replace(BASE_REPR, "\n"),
            "src/models/note.py": NOTE.replace(NOTE_REPR, ""),
        },
        FAIL,
        path="src/models/note.py",
        line=line_number(NOTE, "class Note("),
        absent=("src/models/user.py",),
    ),
    Case("no models", files=NO_DB, status=NOT_APPLICABLE),
]

EXPIRES = "    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))"
UTCNOW = "\n\ndef stamp() -> object:\n    return datetime.utcnow()\n"
DB006 = [
    Case("golden passes"),
    Case("type_annotation_map and DateTime(True) pass", files=app_project()),
    Case(
        "naive DateTime column",
        {
            "src/models/refresh_token.py": replace_once(
                TOKEN, EXPIRES, EXPIRES.replace("timezone=True", "")
            )
        },
        FAIL,
        path="src/models/refresh_token.py",
        line=line_number(TOKEN, EXPIRES),
    ),
    Case(
        "Mapped[datetime] without a type and without a type map",
        {
            "src/models/refresh_token.py": replace_once(
                TOKEN, EXPIRES, EXPIRES.replace("DateTime(timezone=True)", "")
            )
        },
        FAIL,
        path="src/models/refresh_token.py",
        line=line_number(TOKEN, EXPIRES),
        message="naive",
    ),
    Case(
        "utcnow in a service",
        {
            "src/services/note_service.py": "from datetime import datetime"
            + "\n"
            + NOTE_SERVICE
            + UTCNOW
        },
        FAIL,
        path="src/services/note_service.py",
        line=("from datetime import datetime\n" + NOTE_SERVICE + UTCNOW)
        .splitlines()
        .index("    return datetime.utcnow()")
        + 1,
    ),
    Case(
        "utcnow in tests is not app code",
        {"tests/unit/test_clock.py": "import datetime\n\nX = datetime.datetime.utcnow()\n"},
    ),
    Case("no models and no datetimes", files=NO_DB, status=NOT_APPLICABLE),
]

OWNER = (
    "    owner_id: Mapped[int] = "
    'mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)'
)
FK_CONSTRAINT = """\
from sqlalchemy import ForeignKeyConstraint, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from src.models.base import Base


class Share(Base):
    __tablename__ = "shares"
    __table_args__ = (ForeignKeyConstraint(["note_id"], ["notes.id"]),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    note_id: Mapped[int] = mapped_column(Integer)

    def __repr__(self) -> str:
        return "Share()"
"""
DB007 = [
    Case("golden passes"),
    Case("Index in __table_args__ and a Core association table pass", files=app_project()),
    Case(
        "module-level Index(...) covers the column",
        {
            "src/models/note.py": replace_once(NOTE, OWNER, OWNER.replace(", index=True", ""))
            + '\n\nix_owner = Index("ix_notes_owner", Note.owner_id)\n'
        },
    ),
    Case(
        "unindexed foreign key",
        {"src/models/note.py": replace_once(NOTE, OWNER, OWNER.replace(", index=True", ""))},
        FAIL,
        path="src/models/note.py",
        line=line_number(NOTE, OWNER),
        message="1 unindexed",
    ),
    Case(
        "unindexed ForeignKeyConstraint column",
        {"src/models/share.py": FK_CONSTRAINT},
        FAIL,
        path="src/models/share.py",
        line=9,
    ),
    Case(
        "indexed ForeignKeyConstraint column",
        {"src/models/share.py": FK_CONSTRAINT.replace("(Integer)\n", "(Integer, index=True)\n")},
    ),
    Case("no models", files=NO_DB, status=NOT_APPLICABLE),
]

POOLS = (
    "            pool_size=settings.DATABASE_POOL_SIZE,\n"
    "            max_overflow=settings.DATABASE_MAX_OVERFLOW,\n"
    "            pool_recycle=settings.DATABASE_POOL_RECYCLE_SECONDS,\n"
    "            pool_pre_ping=True,\n"
)
DB008 = [
    Case("golden passes"),
    Case("aliased factory with pool_pre_ping passes", files=app_project()),
    Case(
        "engine without pool options",
        {"src/core/database.py": replace_once(DATABASE, POOLS, "")},
        FAIL,
        path="src/core/database.py",
        line=line_number(DATABASE, "engine = create_async_engine("),
    ),
    Case(
        "options spread from a mapping warn",
        {
            "src/core/database.py": replace_once(
                DATABASE, POOLS, "            **settings.ENGINE_OPTIONS,\n"
            )
        },
        WARN,
        path="src/core/database.py",
    ),
    Case("no engine", files=app_project(**{"app/db/engine.py": None}), status=NOT_APPLICABLE),
]

EAGER_OWNER = "            .options(selectinload(Note.owner))\n"
EAGER_USER = "            .options(selectinload(RefreshToken.user))\n"
LAZY_REPOS = {
    "src/repositories/note_repository.py": NOTE_REPO.replace(EAGER_OWNER, ""),
    "src/repositories/refresh_token_repository.py": TOKEN_REPO.replace(EAGER_USER, ""),
}
SERVICE_EAGER = "\n\nfrom sqlalchemy.orm import joinedload\n\nOPTIONS = [joinedload(Note.owner)]\n"
DB009 = [
    Case("golden passes"),
    Case("relationship(lazy='selectin') everywhere passes", files=app_project()),
    Case(
        "repositories never load eagerly",
        LAZY_REPOS,
        FAIL,
        path="src/models/user.py",
        line=line_number(USER, "notes: Mapped["),
        paths=("src/models/note.py", "src/models/refresh_token.py"),
    ),
    Case(
        "eager loading only in a service warns",
        {**LAZY_REPOS, "src/services/note_service.py": NOTE_SERVICE + SERVICE_EAGER},
        WARN,
        path="src/services/note_service.py",
        message="outside repositories",
    ),
    Case(
        "no relationships",
        files=app_project(
            **{
                "app/db/models.py": APP_MODELS.replace(
                    '    owner = orm.relationship("User", lazy="selectin")\n', ""
                )
            }
        ),
        status=NOT_APPLICABLE,
    ),
]


@pytest.mark.parametrize("case", DB001, ids=case_ids(DB001))
def test_db001_typed_models(tmp_path: Path, case: Case) -> None:
    """DB-001 cases."""
    check(tmp_path, "DB-001", case)


@pytest.mark.parametrize("case", DB002, ids=case_ids(DB002))
def test_db002_async_sessions(tmp_path: Path, case: Case) -> None:
    """DB-002 cases."""
    check(tmp_path, "DB-002", case)


@pytest.mark.parametrize("case", DB003, ids=case_ids(DB003))
def test_db003_reversible_migrations(tmp_path: Path, case: Case) -> None:
    """DB-003 cases."""
    check(tmp_path, "DB-003", case)


@pytest.mark.parametrize("case", DB005, ids=case_ids(DB005))
def test_db005_model_repr(tmp_path: Path, case: Case) -> None:
    """DB-005 cases."""
    check(tmp_path, "DB-005", case)


@pytest.mark.parametrize("case", DB006, ids=case_ids(DB006))
def test_db006_utc_timestamps(tmp_path: Path, case: Case) -> None:
    """DB-006 cases."""
    check(tmp_path, "DB-006", case)


@pytest.mark.parametrize("case", DB007, ids=case_ids(DB007))
def test_db007_indexed_foreign_keys(tmp_path: Path, case: Case) -> None:
    """DB-007 cases."""
    check(tmp_path, "DB-007", case)


@pytest.mark.parametrize("case", DB008, ids=case_ids(DB008))
def test_db008_pool_options(tmp_path: Path, case: Case) -> None:
    """DB-008 cases."""
    check(tmp_path, "DB-008", case)


@pytest.mark.parametrize("case", DB009, ids=case_ids(DB009))
def test_db009_eager_loading(tmp_path: Path, case: Case) -> None:
    """DB-009 cases."""
    check(tmp_path, "DB-009", case)
