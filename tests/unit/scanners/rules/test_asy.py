"""ASY rules: async handlers, no blocking calls in coroutines, no `requests` at runtime."""

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
NOTES_PATH = "src/api/routes/notes.py"
NOTES = str(GOLDEN[NOTES_PATH])
SERVICE_PATH = "src/services/note_service.py"
SERVICE = str(GOLDEN[SERVICE_PATH])


def project(deps: str, **files: str) -> dict[str, str | bytes | None]:
    """A small app-layout project: `app/<name>.py` for each keyword, given dependencies."""
    out: dict[str, str | bytes | None] = {
        "pyproject.toml": f'[project]\nname = "svc"\nversion = "1"\ndependencies = [{deps}]\n',
        "app/__init__.py": "",
    }
    out.update({f"app/{name}.py": text for name, text in files.items()})
    return out


# ----- ASY-001 ---------------------------------------------------------------------------------
SYNC_LIST = replace_once(NOTES, "async def list_notes(", "def list_notes(")
STACKED = (
    "import fastapi as fa\n\nrouter = fa.APIRouter(prefix='/items')\n\n\n"
    "def audited(func):\n    return func\n\n\n@router.get('')\n@router.get('/all')\n@audited\n"
    "async def items() -> list[str]:\n    return []\n\n\n"
    "async def ping() -> str:\n    return 'pong'\n\n\nrouter.add_api_route('/ping', ping)\n"
)
SYNC_ENDPOINT = STACKED.replace("async def ping()", "def ping()")
ASY001 = [
    Case("golden passes", message="route handler"),
    Case("stacked decorators and add_api_route pass", files=project('"fastapi"', routes=STACKED)),
    Case(
        "a sync handler fails",
        {NOTES_PATH: SYNC_LIST},
        FAIL,
        path=NOTES_PATH,
        line=line_number(SYNC_LIST, "def list_notes("),
        message="not async",
    ),
    Case(
        "a sync add_api_route endpoint fails",
        files=project('"fastapi"', routes=SYNC_ENDPOINT),
        status=FAIL,
        path="app/routes.py",
        line=line_number(SYNC_ENDPOINT, "def ping()"),
    ),
    Case(
        "no routes is not applicable",
        files=project('"fastapi"', main="VALUE = 1\n"),
        status=NOT_APPLICABLE,
    ),
]


@pytest.mark.parametrize("case", ASY001, ids=case_ids(ASY001))
def test_asy001_async_handlers(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "ASY-001", case)


# ----- ASY-002 ---------------------------------------------------------------------------------
def in_service(code: str, imports: str = "") -> str:
    """The golden note service with extra imports and a module-level coroutine."""
    return replace_once(SERVICE, "import logging\n", f"import logging\n{imports}") + code


SLEEP = '''

async def backoff() -> None:
    """Wait before retrying."""
    pause(1)
'''
REQUESTS = '''

async def fetch(url: str) -> int:
    """Fetch a page."""
    return rq.get(url, timeout=5).status_code
'''
OPEN = '''

async def read_config(path: str) -> str:
    """Read a file."""
    with open(path) as handle:
        return handle.read()
'''
OFFLOADED = '''

async def read_config(path: str) -> str:
    """Read a file in a worker thread."""

    def read() -> str:
        with open(path) as handle:
            return handle.read()

    await asyncio.sleep(0)
    return await asyncio.to_thread(read)


def sync_sleep() -> None:
    """Sync code may block."""
    time.sleep(1)
'''
BUSY_WAIT = '''

async def wait_for(flag: list[bool]) -> None:
    """Poll a flag."""
    while not flag:
        await asyncio.sleep(1)
'''
ASY002 = [
    Case("golden passes"),
    Case(
        "offloaded and sync blocking calls pass",
        {SERVICE_PATH: in_service(OFFLOADED, "import asyncio\nimport time\n")},
    ),
    Case(
        "blocking calls in tests are not judged",
        {"tests/unit/test_slow.py": "import time" + SLEEP.replace("pause", "time.sleep")},
    ),
    Case(
        "an aliased time.sleep fails",
        {SERVICE_PATH: in_service(SLEEP, "from time import sleep as pause\n")},
        FAIL,
        path=SERVICE_PATH,
        line=line_number(in_service(SLEEP, "x\n"), "pause(1)"),
        message="blocking",
    ),
    Case(
        "requests through a module alias fails",
        {SERVICE_PATH: in_service(REQUESTS, "import requests as rq\n")},
        FAIL,
        path=SERVICE_PATH,
        line=line_number(in_service(REQUESTS, "x\n"), "rq.get("),
    ),
    Case(
        "sync open fails",
        {SERVICE_PATH: in_service(OPEN)},
        FAIL,
        path=SERVICE_PATH,
        line=line_number(in_service(OPEN), "with open(path)"),
    ),
    Case(
        "a busy wait fails through ruff",
        {SERVICE_PATH: in_service(BUSY_WAIT, "import asyncio\n")},
        FAIL,
        path=SERVICE_PATH,
        message="blocking call",
    ),
]


@pytest.mark.parametrize("case", ASY002, ids=case_ids(ASY002))
def test_asy002_no_blocking_in_async(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "ASY-002", case)


# ----- ASY-003 ---------------------------------------------------------------------------------
WITH_REQUESTS = replace_once(
    PYPROJECT, '    "redis>=8.1",\n', '    "redis>=8.1",\n    "requests>=2.32",\n'
)
DEV_REQUESTS = replace_once(
    PYPROJECT, '    "ruff>=0.17",\n', '    "ruff>=0.17",\n    "requests",\n'
)
ASY003 = [
    Case("golden passes"),
    Case("requests as a dev tool passes", {"pyproject.toml": DEV_REQUESTS}),
    Case(
        "requests at runtime fails",
        {"pyproject.toml": WITH_REQUESTS},
        FAIL,
        path="pyproject.toml",
        line=line_number(WITH_REQUESTS, '"requests>=2.32"'),
    ),
]


@pytest.mark.parametrize("case", ASY003, ids=case_ids(ASY003))
def test_asy003_no_requests_dependency(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "ASY-003", case)


def test_asy002_warns_when_ruff_cannot_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scanners.analysis.lint.ruff_binary", lambda: None)
    result = check(tmp_path, "ASY-002", Case("golden without ruff", status=WARN, message="ruff"))
    assert "not installed" in result.evidence[0].message
