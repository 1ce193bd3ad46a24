"""SEC rules: OAuth2/JWT, bcrypt, token lifetimes, CORS, rate limits, headers, SQL, cookies."""

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
PYPROJECT = str(GOLDEN["pyproject.toml"])
MAIN = str(GOLDEN["src/main.py"])
CONFIG = str(GOLDEN["src/core/config.py"])
MIDDLEWARE = str(GOLDEN["src/middleware.py"])
AUTH_ROUTES = str(GOLDEN["src/api/routes/auth.py"])
DEPENDENCIES = str(GOLDEN["src/api/dependencies.py"])
NOTE_REPO = str(GOLDEN["src/repositories/note_repository.py"])
DEPS_LINE = line_number(PYPROJECT, "dependencies = [")


def edited(rel: str, old: str, new: str) -> str:
    """A golden file with one edit (which must apply)."""
    return replace_once(str(GOLDEN[rel]), old, new)


def drop_dependency(name: str) -> str:
    """The golden pyproject without one runtime requirement line."""
    line = next(ln for ln in PYPROJECT.splitlines() if ln.strip().startswith(f'"{name}'))
    return replace_once(PYPROJECT, line + "\n", "")


def project(deps: str, **files: str) -> dict[str, str | bytes | None]:
    """A small app-layout project: `app/<name>.py` for each keyword, given dependencies."""
    out: dict[str, str | bytes | None] = {
        "pyproject.toml": f'[project]\nname = "svc"\nversion = "1"\ndependencies = [{deps}]\n',
        "app/__init__.py": "",
    }
    out.update({f"app/{name}.py": text for name, text in files.items()})
    return out


# ----- SEC-001 ---------------------------------------------------------------------------------
MODULE_ALIAS = (
    "import fastapi.security as fs\nfrom fastapi import FastAPI\n\napp = FastAPI()\n"
    "bearer = fs.HTTPBearer(auto_error=False)\n"
)
SUBCLASS = (
    "from fastapi.security import OAuth2PasswordBearer as Base\n\n\n"
    "class CookieBearer(Base):\n    pass\n"
)
SEC001 = [
    Case("golden passes", message="OAuth2PasswordBearer"),
    Case(
        "aliased module with python-jose passes",
        files=project('"python-jose[cryptography]"', main=MODULE_ALIAS),
    ),
    Case("a subclassed scheme passes", files=project('"pyjwt"', auth=SUBCLASS)),
    Case("backend subfolder passes", prefix="backend/"),
    Case(
        "no jwt library fails",
        {"pyproject.toml": drop_dependency("pyjwt")},
        FAIL,
        path="pyproject.toml",
        line=DEPS_LINE,
    ),
    Case(
        "an api key header is not oauth2",
        {
            "src/api/dependencies.py": DEPENDENCIES.replace(
                "OAuth2PasswordBearer", "APIKeyHeader"
            ).replace('(tokenUrl="/api/v1/auth/login", auto_error=False)', '(name="X-Key")')
        },
        FAIL,
        path="src",
        message="not fully in place",
    ),
    Case(
        "a mention in a docstring is no scheme",
        files=project('"pyjwt"', main='"""Uses OAuth2PasswordBearer one day."""\n'),
        status=FAIL,
        path="app",
    ),
]


@pytest.mark.parametrize("case", SEC001, ids=case_ids(SEC001))
def test_sec001_oauth2_jwt(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "SEC-001", case)


# ----- SEC-002 ---------------------------------------------------------------------------------
MD5_PASSWORD = '''

def legacy_hash(password: str) -> str:
    """Hash the old way."""
    return hashlib.md5(password.encode()).hexdigest()
'''
SHA1_ALIASED = '''

def fingerprint(secret: str) -> str:
    """Digest a secret."""
    return h.new("sha1", secret.encode() + b"pepper").hexdigest()


def check_user_password(raw: str) -> str:
    """Digest a password."""
    return fingerprint(raw) + h.new("SHA1", raw.encode()).hexdigest()
'''
ETAG = '''

def etag(body: bytes) -> str:
    """A weak ETag of a response body (not a password)."""
    return hashlib.md5(body, usedforsecurity=False).hexdigest()
'''
SECURITY_PATH = "src/core/security.py"
SECURITY = str(GOLDEN[SECURITY_PATH])
PASSLIB = (
    "from passlib.context import CryptContext\n\n"
    'pwd_context = CryptContext(schemes=["bcrypt"], deprecated="auto")\n\n\n'
    "def hash_password(password: str) -> str:\n    return pwd_context.hash(password)\n"
)
SEC002 = [
    Case("golden passes"),
    Case("sha256 for an etag passes", {SECURITY_PATH: SECURITY + ETAG}),
    Case("passlib bcrypt extra passes", files=project('"passlib[bcrypt]>=1.7"', security=PASSLIB)),
    Case(
        "md5 over a password fails",
        {SECURITY_PATH: SECURITY + MD5_PASSWORD},
        FAIL,
        path=SECURITY_PATH,
        line=line_number(SECURITY + MD5_PASSWORD, "hashlib.md5(password"),
    ),
    Case(
        "aliased hashlib.new sha1 in a password function fails",
        {SECURITY_PATH: SECURITY.replace("import hashlib", "import hashlib as h") + SHA1_ALIASED},
        FAIL,
        path=SECURITY_PATH,
        line=line_number(SECURITY + SHA1_ALIASED, 'h.new("SHA1"'),
    ),
    Case(
        "a passlib md5 scheme fails",
        files=project('"passlib[bcrypt]"', security=PASSLIB.replace('"bcrypt"', '"md5_crypt"')),
        status=FAIL,
        path="app/security.py",
        line=3,
    ),
    Case(
        "no bcrypt library fails",
        {"pyproject.toml": drop_dependency("bcrypt")},
        FAIL,
        path="pyproject.toml",
        line=DEPS_LINE,
    ),
    Case(
        "bcrypt declared but never imported warns",
        files=project('"bcrypt"', users="PASSWORD_MIN = 8\n"),
        status=WARN,
        path="pyproject.toml",
    ),
    Case(
        "no passwords at all is not applicable",
        files=project('"fastapi"', main="VALUE = 1\n"),
        status=NOT_APPLICABLE,
    ),
]


@pytest.mark.parametrize("case", SEC002, ids=case_ids(SEC002))
def test_sec002_bcrypt_passwords(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "SEC-002", case)


# ----- SEC-003 ---------------------------------------------------------------------------------
CONFIG_PATH = "src/core/config.py"
NESTED = '''from datetime import timedelta

from pydantic import BaseModel
from pydantic_settings import BaseSettings


class AuthSettings(BaseModel):
    """Token settings."""

    access_token_ttl: timedelta = timedelta(minutes=30)
    refresh_token_lifetime_days: int = 7


class Settings(BaseSettings):
    """Settings."""

    auth: AuthSettings = AuthSettings()
'''
UNITLESS = CONFIG.replace(
    "ACCESS_TOKEN_EXPIRE_MINUTES: int = 30", "ACCESS_TOKEN_TTL: int = 1800"
).replace("REFRESH_TOKEN_EXPIRE_DAYS: int = 7", "REFRESH_TOKEN_TTL: int = 60 * 60 * 24 * 7")
SEC003 = [
    Case("golden passes"),
    Case("nested settings with a timedelta pass", {CONFIG_PATH: NESTED}),
    Case("unitless seconds pass", {CONFIG_PATH: UNITLESS}),
    Case(
        "a one-hour access token fails",
        {CONFIG_PATH: edited(CONFIG_PATH, "_MINUTES: int = 30", "_MINUTES: int = 60")},
        FAIL,
        path=CONFIG_PATH,
        line=line_number(CONFIG, "ACCESS_TOKEN_EXPIRE_MINUTES"),
        message="30 minutes",
    ),
    Case(
        "a Field default is read",
        {CONFIG_PATH: edited(CONFIG_PATH, "_DAYS: int = 7", "_DAYS: int = Field(default=30)")},
        FAIL,
        path=CONFIG_PATH,
        line=line_number(CONFIG, "REFRESH_TOKEN_EXPIRE_DAYS"),
    ),
    Case(
        "no refresh lifetime fails at the class",
        {CONFIG_PATH: edited(CONFIG_PATH, "    REFRESH_TOKEN_EXPIRE_DAYS: int = 7\n", "")},
        FAIL,
        path=CONFIG_PATH,
        line=line_number(CONFIG, "class Settings"),
    ),
    Case(
        "no settings class fails",
        {CONFIG_PATH: "ACCESS_TOKEN_EXPIRE_MINUTES = 30\n"},
        FAIL,
        path=CONFIG_PATH,
    ),
]


@pytest.mark.parametrize("case", SEC003, ids=case_ids(SEC003))
def test_sec003_token_lifetimes(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "SEC-003", case)


# ----- SEC-004 ---------------------------------------------------------------------------------
TABLE = (
    "from sqlalchemy import Column, MetaData, String, Table\n\nmetadata = MetaData()\n"
    'tokens = Table("user_refresh_tokens", metadata, Column("digest", String(64)))\n'
)
SQLMODEL = (
    "from sqlmodel import Field, SQLModel\n\n\nclass RefreshTokenRecord(SQLModel, table=True):\n"
    "    id: int | None = Field(default=None, primary_key=True)\n"
)
SCHEMA_ONLY = (
    "from pydantic import BaseModel\n\n\nclass RefreshTokenRequest(BaseModel):\n"
    "    refresh_token: str\n"
)
SEC004 = [
    Case("golden passes", message="RefreshToken"),
    Case("a core Table passes", files=project('"sqlalchemy"', db=TABLE)),
    Case("a SQLModel table outside models passes", files=project('"sqlmodel"', store=SQLMODEL)),
    Case(
        "no refresh token model fails",
        {"src/models/refresh_token.py": None},
        FAIL,
        path="src/models",
    ),
    Case(
        "a request schema is not storage",
        files=project('"pydantic"', schemas=SCHEMA_ONLY),
        status=FAIL,
        path="app",
    ),
]


@pytest.mark.parametrize("case", SEC004, ids=case_ids(SEC004))
def test_sec004_refresh_token_store(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "SEC-004", case)


# ----- SEC-005 ---------------------------------------------------------------------------------
ORIGINS = "allow_origins=settings.CORS_ORIGINS,"
MAIN_PATH = "src/main.py"
CORS_LINE = line_number(MAIN, "        CORSMiddleware,") - 1
STARLETTE_STACK = (
    "from fastapi import FastAPI\nfrom starlette.middleware import Middleware\n"
    "from starlette.middleware.cors import CORSMiddleware as Cors\n\n"
    'ORIGINS = ["https://a.example", "*"]\n\n'
    "app = FastAPI(middleware=[Middleware(Cors, allow_origins=ORIGINS)])\n"
)
COMPREHENSION = (
    "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n\n"
    "from app.config import settings\n\napp = FastAPI()\n"
    "app.add_middleware(\n    CORSMiddleware,\n"
    "    allow_origins=[str(o).rstrip('/') for o in settings.BACKEND_CORS_ORIGINS],\n)\n"
)
SEC005 = [
    Case("golden passes"),
    Case(
        "origins from a settings comprehension pass", files=project('"fastapi"', main=COMPREHENSION)
    ),
    Case(
        "a literal star fails",
        {MAIN_PATH: edited(MAIN_PATH, ORIGINS, 'allow_origins=["*"],')},
        FAIL,
        path=MAIN_PATH,
        line=CORS_LINE,
    ),
    Case(
        "a star through a module constant and Middleware() fails",
        files=project('"fastapi"', main=STARLETTE_STACK),
        status=FAIL,
        path="app/main.py",
        line=7,
    ),
    Case(
        "a match-all regex fails",
        {MAIN_PATH: edited(MAIN_PATH, ORIGINS, 'allow_origin_regex=".*",')},
        FAIL,
        path=MAIN_PATH,
        line=CORS_LINE,
    ),
    Case(
        "a settings default of star warns",
        {CONFIG_PATH: edited(CONFIG_PATH, '["http://localhost:3000"]', '["*"]')},
        WARN,
        path=MAIN_PATH,
        line=CORS_LINE,
        message="may not be explicit",
    ),
    Case(
        "no origins at all warns",
        {MAIN_PATH: edited(MAIN_PATH, ORIGINS, "")},
        WARN,
        path=MAIN_PATH,
    ),
    Case(
        "no CORS middleware fails",
        files=project('"fastapi"', main="from fastapi import FastAPI\n\napp = FastAPI()\n"),
        status=FAIL,
        path="app",
    ),
]


@pytest.mark.parametrize("case", SEC005, ids=case_ids(SEC005))
def test_sec005_explicit_cors_origins(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "SEC-005", case)


# ----- SEC-006 ---------------------------------------------------------------------------------
FASTAPI_LIMITER = (
    "from fastapi import Depends, FastAPI\nfrom fastapi_limiter import FastAPILimiter\n"
    "from fastapi_limiter.depends import RateLimiter\n\napp = FastAPI()\n\n\n"
    "async def startup(redis) -> None:\n    await FastAPILimiter.init(redis)\n\n\n"
    '@app.get("/items", dependencies=[Depends(RateLimiter(times=5, seconds=60))])\n'
    "async def items() -> list[str]:\n    return []\n"
)
DECORATED = (
    "import slowapi as sa\nfrom fastapi import FastAPI, Request\n"
    "from slowapi.util import get_remote_address\n\n"
    "limiter = sa.Limiter(key_func=get_remote_address)\napp = FastAPI()\n\n\n"
    '@app.get("/items")\n@limiter.limit("5/minute")\n'
    "async def items(request: Request) -> list[str]:\n    return []\n"
)
NO_MIDDLEWARE = edited(MAIN_PATH, "    app.add_middleware(SlowAPIMiddleware)\n", "").replace(
    "from slowapi.middleware import SlowAPIMiddleware\n", ""
)
SEC006 = [
    Case("golden passes", message="slowapi"),
    Case("fastapi-limiter passes", files=project('"fastapi-limiter"', main=FASTAPI_LIMITER)),
    Case("a limit decorator without middleware passes", files=project('"slowapi"', main=DECORATED)),
    Case(
        "no limiter declared fails",
        {"pyproject.toml": drop_dependency("slowapi")},
        FAIL,
        path="pyproject.toml",
        line=DEPS_LINE,
    ),
    Case(
        "declared but never imported fails",
        files=project('"slowapi>=0.1"', main="VALUE = 1\n"),
        status=FAIL,
        path="pyproject.toml",
        line=4,
        message="never used",
    ),
    Case(
        "a limiter without middleware or decorators warns",
        {MAIN_PATH: NO_MIDDLEWARE},
        WARN,
        path="pyproject.toml",
        line=line_number(PYPROJECT, '"slowapi'),
    ),
]


@pytest.mark.parametrize("case", SEC006, ids=case_ids(SEC006))
def test_sec006_rate_limiting(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "SEC-006", case)


# ----- SEC-007 ---------------------------------------------------------------------------------
MIDDLEWARE_PATH = "src/middleware.py"
RAW_ASGI = (
    "HEADERS = [\n    (b'content-security-policy', b\"default-src 'none'\"),\n"
    "    (b'x-frame-options', b'DENY'),\n    (b'x-content-type-options', b'nosniff'),\n]\n"
)
SEC007 = [
    Case("golden passes"),
    Case(
        "lower-case bytes in a raw ASGI middleware pass",
        files=project('"fastapi"', headers=RAW_ASGI),
    ),
    Case(
        "the secure package passes",
        files=project('"secure"', main="import secure\n\nsecure_headers = secure.Secure()\n"),
    ),
    Case(
        "one missing header warns",
        {MIDDLEWARE_PATH: edited(MIDDLEWARE_PATH, '    "X-Frame-Options": "DENY",\n', "")},
        WARN,
        path=MIDDLEWARE_PATH,
        line=line_number(MIDDLEWARE, '"Content-Security-Policy"'),
        message="missing",
    ),
    Case(
        "headers named only in a docstring fail",
        files=project(
            '"fastapi"', main='"""Add X-Frame-Options and Content-Security-Policy later."""\n'
        ),
        status=FAIL,
        path="app",
    ),
]


@pytest.mark.parametrize("case", SEC007, ids=case_ids(SEC007))
def test_sec007_security_headers(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "SEC-007", case)


# ----- SEC-008 ---------------------------------------------------------------------------------
REPO_PATH = "src/repositories/note_repository.py"


def repo_with(code: str, imports: str = "from sqlalchemy import text\n") -> str:
    """The golden note repository with extra imports and a module-level function."""
    return replace_once(NOTE_REPO, "from sqlalchemy.orm", imports + "from sqlalchemy.orm") + code


FSTRING = '''

async def search(session, term: str) -> object:
    """Search notes."""
    return await session.execute(text(f"SELECT * FROM notes WHERE title = '{term}'"))
'''
PERCENT_LOCAL = '''

async def by_owner(session, owner: int) -> object:
    """Notes of an owner."""
    query = "SELECT * FROM notes WHERE owner_id = %s" % owner
    return await session.execute(sql(query))
'''
AUGMENTED = '''

async def filtered(connection, title: str) -> object:
    """Notes by title."""
    query = "SELECT * FROM notes"
    query += " WHERE title = '" + title + "'"
    return await connection.exec_driver_sql(query)
'''
FORMAT = '''

def count(cursor, table: str) -> object:
    """Count rows."""
    return cursor.execute("SELECT count(*) FROM {}".format(table))
'''
SAFE = '''
TABLE = "notes"


async def count_notes(session, owner: int) -> object:
    """Count notes with bound parameters."""
    statement = text(f"SELECT count(*) FROM {TABLE} WHERE owner_id = :owner")
    return await session.execute(statement.bindparams(owner=owner))
'''
S608_ONLY = '''

def build(note_id: int) -> str:
    """A query string built for later."""
    return f"SELECT * FROM notes WHERE id = {note_id}"
'''
SEC008 = [
    Case("golden passes"),
    Case("module constants and bound parameters pass", {REPO_PATH: repo_with(SAFE)}),
    Case(
        "string SQL in tests is not judged",
        {"tests/unit/test_sql.py": "from sqlalchemy import text\n" + FSTRING},
    ),
    Case(
        "an f-string into text fails",
        {REPO_PATH: repo_with(FSTRING)},
        FAIL,
        path=REPO_PATH,
        line=line_number(repo_with(FSTRING), "text(f"),
    ),
    Case(
        "percent formatting through a local and an aliased text fails",
        {REPO_PATH: repo_with(PERCENT_LOCAL, "from sqlalchemy import text as sql\n")},
        FAIL,
        path=REPO_PATH,
        line=line_number(repo_with(PERCENT_LOCAL), "execute(sql(query))"),
    ),
    Case(
        "augmented concatenation into exec_driver_sql fails",
        {REPO_PATH: repo_with(AUGMENTED)},
        FAIL,
        path=REPO_PATH,
        line=line_number(repo_with(AUGMENTED), "exec_driver_sql(query)"),
    ),
    Case(
        "str.format into execute fails",
        {REPO_PATH: repo_with(FORMAT)},
        FAIL,
        path=REPO_PATH,
        line=line_number(repo_with(FORMAT), ".format(table)"),
    ),
    Case(
        "ruff S608 alone fails",
        {REPO_PATH: repo_with(S608_ONLY)},
        FAIL,
        path=REPO_PATH,
        line=line_number(repo_with(S608_ONLY), 'return f"SELECT'),
        message="bound parameters",
    ),
]


@pytest.mark.parametrize("case", SEC008, ids=case_ids(SEC008))
def test_sec008_no_string_sql(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "SEC-008", case)


# ----- SEC-009 ---------------------------------------------------------------------------------
EVAL = (
    '\n\ndef compute(expression: str) -> object:\n    """Evaluate."""\n'
    "    return eval(expression)\n"
)
SHELL = (
    '\n\ndef archive(path: str) -> None:\n    """Archive."""\n'
    '    subprocess.run(f"tar czf {path}.tgz {path}", shell=True, check=True)\n'
)
RANDOM = '\n\ndef pick() -> float:\n    """Pick."""\n    return random.random()\n'
UTIL = "src/core/util.py"
SEC009 = [
    Case("golden passes"),
    Case("eval in tests is not judged", {"tests/unit/test_eval.py": EVAL}),
    Case("eval fails", {UTIL: EVAL}, FAIL, path=UTIL, line=5, message="high-severity"),
    Case("a shell fails", {UTIL: "import subprocess" + SHELL}, FAIL, path=UTIL, line=5),
    Case("a weak random warns", {UTIL: "import random" + RANDOM}, WARN, path=UTIL, line=5),
]


@pytest.mark.parametrize("case", SEC009, ids=case_ids(SEC009))
def test_sec009_no_high_severity_bandit(tmp_path: Path, case: Case) -> None:
    result = check(tmp_path, "SEC-009", case)
    if case.status == FAIL:
        assert all(e.message.startswith("S") for e in result.evidence)


# ----- SEC-010 ---------------------------------------------------------------------------------
AUTH_PATH = "src/api/routes/auth.py"
COOKIE_LINE = line_number(AUTH_ROUTES, "response.set_cookie(")
SPREAD = (
    "from fastapi import Response\n\nOPTIONS = {'httponly': True, 'secure': True}\n\n\n"
    "def remember(response: Response) -> None:\n"
    "    response.set_cookie('k', 'v', samesite='lax', **OPTIONS)\n"
)
SEC010 = [
    Case("golden passes"),
    Case("flags in keyword spreads are not judged", files=project('"fastapi"', cookies=SPREAD)),
    Case(
        "httponly missing fails",
        {AUTH_PATH: edited(AUTH_PATH, "        httponly=True,\n", "")},
        FAIL,
        path=AUTH_PATH,
        line=COOKIE_LINE,
        message="without security flags",
    ),
    Case(
        "secure=False fails",
        {AUTH_PATH: edited(AUTH_PATH, "        secure=True,\n", "        secure=False,\n")},
        FAIL,
        path=AUTH_PATH,
        line=COOKIE_LINE,
    ),
    Case(
        "samesite left to the default warns",
        {AUTH_PATH: edited(AUTH_PATH, '        samesite="strict",\n', "")},
        WARN,
        path=AUTH_PATH,
        line=COOKIE_LINE,
    ),
    Case(
        "no cookies is not applicable",
        files=project('"fastapi"', main="VALUE = 1\n"),
        status=NOT_APPLICABLE,
    ),
]


@pytest.mark.parametrize("case", SEC010, ids=case_ids(SEC010))
def test_sec010_secure_cookies(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "SEC-010", case)
