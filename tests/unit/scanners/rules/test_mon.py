"""MON rules: health, readiness with a database check, Prometheus, correlation ids, tracing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.scanners.rules.harness import (
    FAIL,
    WARN,
    Case,
    case_ids,
    check,
    golden_files,
    line_number,
    replace_once,
)

GOLDEN = golden_files()
MAIN = str(GOLDEN["src/main.py"])
PYPROJECT = str(GOLDEN["pyproject.toml"])
APP_LINE = line_number(MAIN, "app = FastAPI(")


def pyproject(*deps: str) -> str:
    """A minimal pyproject with these runtime dependencies."""
    quoted = ", ".join(f'"{d}"' for d in deps)
    return f'[project]\nname = "svc"\nversion = "1"\ndependencies = [{quoted}]\n'


def project(deps: tuple[str, ...] = ("fastapi",), **files: str) -> dict[str, str | bytes | None]:
    """An app/ project: `app/main.py` and friends given as keyword arguments."""
    return {"pyproject.toml": pyproject(*deps), "app/__init__.py": "", **files}


# Routers composed across files: a prefixed router, stacked decorators, include_router prefix.
HEALTH_ROUTER = """\
import functools

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_session

router = APIRouter(prefix="/system")


def traced(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        return await func(*args, **kwargs)
    return wrapper


@router.get("/health")
@traced
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready")
async def ready(session: AsyncSession = Depends(get_session)) -> dict[str, str]:
    return {"status": "ok"}
"""
ROUTED_MAIN = """\
from fastapi import FastAPI

from app.api import health as health_api

app = FastAPI()
app.include_router(health_api.router, prefix="/api/v1")
"""
DEP_CHECK = """\
async def check_dependencies(pool) -> bool:
    async with pool.acquire() as link:
        return await link.fetchval("SELECT 1") == 1
"""
READY_BY_SERVICE = """\
from fastapi import FastAPI

from app.services.probes import check_dependencies

app = FastAPI()


@app.get("/health/ready")
async def ready() -> dict[str, bool]:
    return {"ok": await check_dependencies(app.state.pool)}
"""
READY_NO_DB = READY_BY_SERVICE.replace(
    "from app.services.probes import check_dependencies\n", ""
).replace("await check_dependencies(app.state.pool)", "True")
ROUTED = project(
    **{"app/main.py": ROUTED_MAIN, "app/api/__init__.py": "", "app/api/health.py": HEALTH_ROUTER}
)

MON001 = [
    Case("golden passes"),
    Case(
        "prefixed router with stacked decorators passes",
        files=ROUTED,
        message="GET /api/v1/system/health (app/api/health.py",
    ),
    Case(
        "no health route",
        {"src/main.py": replace_once(MAIN, '.get("/health",', '.get("/alive",')},
        FAIL,
        path="src/main.py",
        line=APP_LINE,
    ),
    Case(
        "a business resource's health route is not the service's",
        {
            "src/main.py": replace_once(
                MAIN, '.get("/health",', '.get("/cameras/{camera_id}/health",'
            )
        },
        FAIL,
        path="src/main.py",
        line=APP_LINE,
    ),
    Case(
        "a Flask-style parameter is not the service's either",
        {
            "src/main.py": replace_once(
                MAIN, '.get("/health",', '.get("/cameras/<int:camera>/health",'
            )
        },
        FAIL,
        path="src/main.py",
    ),
    Case(
        "healthz warns",
        {"src/main.py": replace_once(MAIN, '.get("/health",', '.get("/healthz",')},
        WARN,
        path="src/main.py",
        line=line_number(MAIN, "async def health("),
    ),
]

MON002 = [
    Case("golden passes"),
    Case(
        "a session dependency is a database check",
        files=ROUTED,
        message="/api/v1/system/health/ready checks the database",
    ),
    Case(
        "the check sits in a service it calls",
        files=project(**{"app/main.py": READY_BY_SERVICE, "app/services/probes.py": DEP_CHECK}),
    ),
    Case(
        "readiness without a database check warns",
        files=project(**{"app/main.py": READY_NO_DB}),
        status=WARN,
        path="app/main.py",
        line=line_number(READY_NO_DB, "async def ready("),
        message="does not visibly check",
    ),
    Case(
        "readyz warns",
        {"src/main.py": replace_once(MAIN, '"/health/ready"', '"/readyz"')},
        WARN,
        path="src/main.py",
        message="not /health/ready",
    ),
    Case(
        "no readiness route",
        {"src/main.py": replace_once(MAIN, '"/health/ready"', '"/health/deps"')},
        FAIL,
        path="src/main.py",
        line=APP_LINE,
    ),
]

INSTRUMENTATOR = """\
from fastapi import FastAPI
from prometheus_fastapi_instrumentator import Instrumentator

app = FastAPI()
Instrumentator().instrument(app).expose(app, include_in_schema=False)
"""
METRICS_ROUTE = """\
from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter()


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
"""
MOUNT = '    app.mount("/metrics", make_asgi_app())\n'
MON003 = [
    Case("golden passes"),
    Case(
        "instrumentator passes",
        files=project(
            ("fastapi", "prometheus-fastapi-instrumentator"), **{"app/main.py": INSTRUMENTATOR}
        ),
    ),
    Case(
        "metrics route passes",
        files=project(("fastapi", "prometheus-client"), **{"app/main.py": METRICS_ROUTE}),
    ),
    Case(
        "no metrics endpoint",
        {"src/main.py": replace_once(MAIN, MOUNT, "")},
        FAIL,
        path="src/main.py",
        line=APP_LINE,
        paths=("pyproject.toml",),
    ),
    Case(
        "library not declared warns",
        {"pyproject.toml": replace_once(PYPROJECT, '    "prometheus-client>=0.26",\n', "")},
        WARN,
        path="pyproject.toml",
    ),
]

CORRELATION = "    app.add_middleware(CorrelationIdMiddleware, header_name=REQUEST_ID_HEADER)\n"
HTTP_MIDDLEWARE = """\
import uuid

from fastapi import FastAPI, Request

HEADER = "X-Correlation-ID"
app = FastAPI()


@app.middleware("http")
async def correlate(request: Request, call_next):
    value = request.headers.get(HEADER) or uuid.uuid4().hex
    response = await call_next(request)
    response.headers[HEADER] = value
    return response
"""
MON004 = [
    Case("golden passes"),
    Case(
        "an http middleware setting the header passes",
        files=project(**{"app/main.py": HTTP_MIDDLEWARE}),
    ),
    Case(
        "header named but no middleware uses it warns",
        {"src/main.py": replace_once(MAIN, CORRELATION, "")},
        WARN,
        path="src/middleware.py",
        line=line_number(str(GOLDEN["src/middleware.py"]), 'REQUEST_ID_HEADER = "X-Request-ID"'),
    ),
    Case(
        "no correlation ids",
        files=project(**{"app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n"}),
        status=FAIL,
        path="app/main.py",
        line=3,
    ),
]

OTEL_DEPS = (
    '    "opentelemetry-api>=1.45",\n'
    '    "opentelemetry-instrumentation-fastapi>=0.66b2",\n'
    '    "opentelemetry-sdk>=1.45",\n'
)
AUTO_DOCKERFILE = (
    'FROM python:3.13-slim\nCMD ["opentelemetry-instrument", "uvicorn", "app.main:app"]\n'
)
MON005 = [
    Case("golden passes"),
    Case(
        "auto-instrumentation launcher passes",
        files=project(
            ("fastapi", "opentelemetry-distro"),
            **{
                "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
                "Dockerfile": AUTO_DOCKERFILE,
            },
        ),
    ),
    Case(
        "declared but not instrumented warns",
        {"src/core/telemetry.py": None},
        WARN,
        path="src/main.py",
        line=APP_LINE,
    ),
    Case(
        "instrumented but not declared warns",
        {"pyproject.toml": replace_once(PYPROJECT, OTEL_DEPS, "")},
        WARN,
        path="pyproject.toml",
        message="not a runtime dependency",
    ),
    Case(
        "no tracing",
        files=project(**{"app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n"}),
        status=FAIL,
        path="pyproject.toml",
    ),
]


@pytest.mark.parametrize("case", MON001, ids=case_ids(MON001))
def test_mon001_health(tmp_path: Path, case: Case) -> None:
    """MON-001 cases."""
    check(tmp_path, "MON-001", case)


@pytest.mark.parametrize("case", MON002, ids=case_ids(MON002))
def test_mon002_readiness(tmp_path: Path, case: Case) -> None:
    """MON-002 cases."""
    check(tmp_path, "MON-002", case)


@pytest.mark.parametrize("case", MON003, ids=case_ids(MON003))
def test_mon003_metrics(tmp_path: Path, case: Case) -> None:
    """MON-003 cases."""
    check(tmp_path, "MON-003", case)


@pytest.mark.parametrize("case", MON004, ids=case_ids(MON004))
def test_mon004_correlation_ids(tmp_path: Path, case: Case) -> None:
    """MON-004 cases."""
    check(tmp_path, "MON-004", case)


@pytest.mark.parametrize("case", MON005, ids=case_ids(MON005))
def test_mon005_open_telemetry(tmp_path: Path, case: Case) -> None:
    """MON-005 cases."""
    check(tmp_path, "MON-005", case)
