"""ERR rules: exception hierarchy, registered handlers, no swallowed exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.analysis.lint import LintRun
from scanners.context import RepoContext
from scanners.engine import evaluate_rule
from tests.unit.scanners.rules.harness import (
    FAIL,
    WARN,
    Case,
    build,
    case_ids,
    check,
    golden_files,
    line_number,
    replace_once,
    spec_for,
)

GOLDEN = golden_files()
EXCEPTIONS = str(GOLDEN["src/exceptions.py"])
MAIN = str(GOLDEN["src/main.py"])
SERVICE = str(GOLDEN["src/services/note_service.py"])
SERVICE_PATH = "src/services/note_service.py"
PYPROJECT = '[project]\nname = "svc"\nversion = "1"\ndependencies = ["fastapi"]\n'

# A two-level hierarchy in app/core/exceptions.py with annotated fields and other names.
APP_EXCEPTIONS = """\
class ServiceError(Exception):
    code: str = "error"
    detail: str = "Something went wrong."


class ClientError(ServiceError):
    pass


class ResourceNotFound(ClientError):
    code = "not_found"


class AuthenticationFailed(ClientError):
    code = "unauthenticated"


class PermissionDenied(ClientError):
    code = "forbidden"


class BadRequest(ClientError):
    code = "bad_request"


class ValidationFailed(ClientError):
    code = "invalid"
"""
APP_MAIN = """\
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError as RVE
from fastapi.responses import JSONResponse

from app.core.exceptions import ServiceError


async def crash(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": "internal"}, status_code=500)


app = FastAPI(exception_handlers={500: crash})


@app.exception_handler(ServiceError)
async def service_error(request: Request, exc: ServiceError) -> JSONResponse:
    return JSONResponse({"error": exc.code}, status_code=400)


@app.exception_handler(RVE)
async def invalid(request: Request, exc: RVE) -> JSONResponse:
    return JSONResponse({"error": "invalid"}, status_code=422)
"""


def project(**files: str | None) -> dict[str, str | bytes | None]:
    """The app/ project above, with files replaced or removed."""
    found: dict[str, str | bytes | None] = {
        "pyproject.toml": PYPROJECT,
        "app/__init__.py": "",
        "app/main.py": APP_MAIN,
        "app/core/__init__.py": "",
        "app/core/exceptions.py": APP_EXCEPTIONS,
    }
    found.update(files)
    return {k: v for k, v in found.items() if v is not None}


FORBIDDEN = EXCEPTIONS[
    EXCEPTIONS.index("class ForbiddenError") : EXCEPTIONS.index("class NotFound")
]
APP_ERROR_LINE = line_number(EXCEPTIONS, "class AppError(")
ERR001 = [
    Case("golden passes"),
    Case("two-level hierarchy in core/exceptions.py passes", files=project()),
    Case(
        "no forbidden error",
        {"src/exceptions.py": EXCEPTIONS.replace(FORBIDDEN, "")},
        WARN,
        path="src/exceptions.py",
        line=APP_ERROR_LINE,
        message="no forbidden error",
    ),
    Case(
        "no error code",
        files=project(
            **{
                "app/core/exceptions.py": APP_EXCEPTIONS.replace(
                    '    code: str = "error"\n', ""
                ).replace('    code = "', '    label = "')
            }
        ),
        status=WARN,
        path="app/core/exceptions.py",
        line=1,
        message="carries no code",
    ),
    Case(
        "no subclasses: no base exception",
        files=project(
            **{"app/core/exceptions.py": "class OnlyError(Exception):\n    code = 'x'\n"}
        ),
        status=FAIL,
        path="app/core/exceptions.py",
        message="no app base exception",
    ),
    Case("no exceptions.py", {"src/exceptions.py": None}, FAIL, path="src/exceptions.py"),
]

GLOBAL = "    app.add_exception_handler(Exception, unhandled_error_handler)\n"
APP_HANDLER = "    app.add_exception_handler(AppError, app_error_handler)\n"
HANDLERS = MAIN[MAIN.index(APP_HANDLER) : MAIN.index(GLOBAL) + len(GLOBAL)]
NO_HANDLERS = replace_once(MAIN, HANDLERS, "    pass\n")
ERR002 = [
    Case("golden passes"),
    Case("decorators, aliases and a 500 handler pass", files=project()),
    Case(
        "no global handler",
        {"src/main.py": replace_once(MAIN, GLOBAL, "")},
        FAIL,
        path="src/main.py",
        line=line_number(MAIN, APP_HANDLER.strip()),
        message="Exception (global)",
    ),
    Case(
        "a subclass handler is not the base handler",
        {
            "src/main.py": replace_once(
                MAIN, APP_HANDLER, APP_HANDLER.replace("(AppError", "(ValueError")
            )
        },
        FAIL,
        path="src/main.py",
        message="app base exception (AppError)",
    ),
    Case(
        "no handlers at all",
        {"src/main.py": NO_HANDLERS},
        FAIL,
        path="src/main.py",
        line=line_number(NO_HANDLERS, "app = FastAPI("),
    ),
]


def service_with(code: str) -> str:
    """The golden note service with `code` appended."""
    return SERVICE + "\n\n" + code


BARE = (
    "def parse(raw: str) -> int:\n    try:\n        return int(raw)\n"
    "    except:\n        return 0\n"
)
SILENT = (
    "def parse(raw: str) -> int | None:\n    try:\n        return int(raw)\n"
    "    except Exception:\n        pass\n    return None\n"
)
RERAISED = (
    "def parse(raw: str) -> int:\n    try:\n        return int(raw)\n"
    "    except Exception:\n        logger.exception('bad')\n        raise\n"
)
ERR003 = [
    Case("golden passes"),
    Case("logged and re-raised passes", {SERVICE_PATH: service_with(RERAISED)}),
    Case("swallowing in tests is not app code", {"tests/unit/test_silent.py": SILENT}),
    Case(
        "bare except",
        {SERVICE_PATH: service_with(BARE)},
        FAIL,
        path=SERVICE_PATH,
        line=line_number(service_with(BARE), "    except:"),
        message="E722",
    ),
    Case(
        "except Exception: pass",
        {SERVICE_PATH: service_with(SILENT)},
        FAIL,
        path=SERVICE_PATH,
        line=line_number(service_with(SILENT), "    except Exception:"),
    ),
]


@pytest.mark.parametrize("case", ERR001, ids=case_ids(ERR001))
def test_err001_exception_hierarchy(tmp_path: Path, case: Case) -> None:
    """ERR-001 cases."""
    check(tmp_path, "ERR-001", case)


@pytest.mark.parametrize("case", ERR002, ids=case_ids(ERR002))
def test_err002_exception_handlers(tmp_path: Path, case: Case) -> None:
    """ERR-002 cases."""
    check(tmp_path, "ERR-002", case)


@pytest.mark.parametrize("case", ERR003, ids=case_ids(ERR003))
def test_err003_no_swallowed_exceptions(tmp_path: Path, case: Case) -> None:
    """ERR-003 cases."""
    result = check(tmp_path, "ERR-003", case)
    if case.status == FAIL:
        assert all(e.message.split()[0] in ("E722", "S110", "BLE001") for e in result.evidence)


@pytest.mark.parametrize("rule_id", ["ERR-003", "LOG-004", "LOG-005", "DB-006"])
def test_lint_backed_rules_warn_when_ruff_did_not_run(tmp_path: Path, rule_id: str) -> None:
    """A failed ruff run never passes a rule that needs its findings."""
    ctx = RepoContext(build(tmp_path, Case("golden")))
    ctx.__dict__["lint"] = LintRun(error="ruff timed out after 60s")
    result = evaluate_rule(spec_for(rule_id), ctx).result
    assert result.status == WARN
    assert "ruff did not run: ruff timed out" in result.evidence[0].message
