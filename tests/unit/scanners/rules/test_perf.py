"""PERF rules: a Redis cache, and HTTP clients shared rather than created per call."""

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
EVENTS_PATH = "src/services/event_service.py"
EVENTS = str(GOLDEN[EVENTS_PATH])


def project(deps: str, **files: str) -> dict[str, str | bytes | None]:
    """A small app-layout project: `app/<name>.py` for each keyword, given dependencies."""
    out: dict[str, str | bytes | None] = {
        "pyproject.toml": f'[project]\nname = "svc"\nversion = "1"\ndependencies = [{deps}]\n',
        "app/__init__.py": "",
    }
    out.update({f"app/{name}.py": text for name, text in files.items()})
    return out


# ----- PERF-001 --------------------------------------------------------------------------------
POOL = (
    "import redis.asyncio as cache_backend\n\n"
    "pool = cache_backend.ConnectionPool.from_url('redis://localhost')\n"
)
MODULE_FROM_URL = "from redis import asyncio as r\n\nclient = r.from_url('redis://localhost')\n"
EXCEPTIONS_ONLY = "from redis.exceptions import RedisError\n\nERRORS = (RedisError,)\n"
NO_REDIS = replace_once(PYPROJECT, '    "redis>=8.1",\n', "")
PERF001 = [
    Case("golden passes", message="src/core/cache.py"),
    Case("a pool through a module alias passes", files=project('"redis[hiredis]>=5"', cache=POOL)),
    Case("from_url of the asyncio module passes", files=project('"redis"', cache=MODULE_FROM_URL)),
    Case(
        "no redis declared fails",
        {"pyproject.toml": NO_REDIS},
        FAIL,
        path="pyproject.toml",
        line=line_number(PYPROJECT, "dependencies = ["),
    ),
    Case(
        "declared but never imported fails",
        files=project('"redis>=5"', main="VALUE = 1\n"),
        status=FAIL,
        path="pyproject.toml",
        line=4,
    ),
    Case(
        "imported without a client warns",
        files=project('"redis"', errors=EXCEPTIONS_ONLY),
        status=WARN,
        path="pyproject.toml",
        message="no client",
    ),
]


@pytest.mark.parametrize("case", PERF001, ids=case_ids(PERF001))
def test_perf001_redis_cache(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "PERF-001", case)


# ----- PERF-002 --------------------------------------------------------------------------------
PER_CALL_SERVICE = replace_once(
    EVENTS,
    "            response = await self._client.post(",
    "            async with httpx.AsyncClient() as client:\n"
    "                response = await client.post(",
)
DEPENDENCY = (
    "import httpx\nfrom fastapi import Depends, FastAPI\n\napp = FastAPI()\n\n\n"
    "def get_client() -> httpx.AsyncClient:\n    return httpx.AsyncClient(timeout=5)\n\n\n"
    "@app.get('/ping')\nasync def ping(client: httpx.AsyncClient = Depends(get_client)) -> int:\n"
    "    return (await client.get('https://example.com')).status_code\n"
)
HELPER = (
    "import httpx\n\n\ndef fetch_status(url: str) -> int:\n    client = httpx.Client()\n"
    "    status = client.get(url).status_code\n    client.close()\n    return status\n"
)
LIFESPAN = (
    "from contextlib import asynccontextmanager\n\nimport httpx as hx\n"
    "from fastapi import FastAPI\n\n\n@asynccontextmanager\nasync def lifespan(app: FastAPI):\n"
    "    async with hx.AsyncClient() as client:\n        app.state.http = client\n        yield\n\n"
    "app = FastAPI(lifespan=lifespan)\n"
)
CACHED = (
    "from functools import lru_cache\n\nimport httpx\n\n\n@lru_cache\n"
    "def http_client() -> httpx.AsyncClient:\n    return httpx.AsyncClient()\n"
)
SHARED = (
    "import aiohttp\nimport requests\nimport httpx as hx\n\nCLIENT = hx.AsyncClient()\n\n\n"
    "class Github:\n    def __init__(self) -> None:\n        self._session = requests.Session()\n\n"
    "    async def open(self) -> None:\n        session = aiohttp.ClientSession()\n"
    "        self._aio = session\n"
)
PERF002 = [
    Case("golden passes", message="shared"),
    Case("a lifespan client passes", files=project('"httpx"', main=LIFESPAN)),
    Case("a memoised factory passes", files=project('"httpx"', clients=CACHED)),
    Case(
        "a memoised dependency passes",
        files=project(
            '"httpx"',
            main=DEPENDENCY.replace("def get_client", "@lru_cache\ndef get_client").replace(
                "import httpx\n", "from functools import lru_cache\n\nimport httpx\n"
            ),
        ),
    ),
    Case("module and attribute clients pass", files=project('"httpx"', clients=SHARED)),
    Case(
        "a client per call in a service fails",
        {EVENTS_PATH: PER_CALL_SERVICE},
        FAIL,
        path=EVENTS_PATH,
        line=line_number(PER_CALL_SERVICE, "httpx.AsyncClient() as client"),
        message="per request",
    ),
    Case(
        "a dependency returning a new client fails",
        files=project('"httpx"', main=DEPENDENCY),
        status=FAIL,
        path="app/main.py",
        line=8,
    ),
    Case(
        "a client per call outside the request layers warns",
        files=project('"httpx"', status=HELPER),
        status=WARN,
        path="app/status.py",
        line=5,
    ),
    Case(
        "no http client is not applicable",
        files=project('"fastapi"', main="VALUE = 1\n"),
        status=NOT_APPLICABLE,
    ),
]


@pytest.mark.parametrize("case", PERF002, ids=case_ids(PERF002))
def test_perf002_pooled_http_client(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "PERF-002", case)
