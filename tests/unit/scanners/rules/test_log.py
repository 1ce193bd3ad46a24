"""LOG rules: central config, rotating handlers, formatters, module loggers, tracebacks, leaks."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.analysis.log_calls import is_sensitive
from scanners.analysis.logging_config import missing_fields
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
LOGGING = str(GOLDEN["src/core/logging.py"])
SERVICE = str(GOLDEN["src/services/note_service.py"])
CONFIG = "src/core/logging.py"
SERVICE_PATH = "src/services/note_service.py"
PYPROJECT = '[project]\nname = "svc"\nversion = "1"\ndependencies = ["fastapi"]\n'

YAML_CONFIG = """\
version: 1
disable_existing_loggers: false
formatters:
  console:
    format: "%(asctime)s %(levelname)s %(name)s %(funcName)s:%(lineno)d %(message)s"
  file:
    format: "{asctime} {levelname} {name} {funcName}:{lineno} {message}"
    style: "{"
  json:
    (): pythonjsonlogger.json.JsonFormatter
    format: "%(asctime)s %(levelname)s %(name)s %(funcName)s %(lineno)d %(message)s"
handlers:
  app_file:
    class: logging.handlers.RotatingFileHandler
    filename: logs/app.log
    maxBytes: 10485760
    backupCount: 5
    formatter: file
  error_file:
    class: logging.handlers.RotatingFileHandler
    filename: logs/error.log
    level: ERROR
    maxBytes: 10485760
    backupCount: 5
    formatter: json
root:
  handlers: [app_file, error_file]
"""
# Plain handler objects instead of a dict: constants folded, setLevel in the same function.
PY_HANDLERS = """\
import logging
from logging.handlers import RotatingFileHandler as Rotating

MEGABYTE = 1 << 20
LIMIT = 10 * MEGABYTE


def setup() -> None:
    app = Rotating("logs/app.log", maxBytes=LIMIT, backupCount=5)
    errors = Rotating("logs/error.log", maxBytes=LIMIT, backupCount=5)
    errors.setLevel(logging.ERROR)
    logging.getLogger().addHandler(app)
    logging.getLogger().addHandler(errors)
"""


def project(**files: str) -> dict[str, str | bytes | None]:
    """A small app/ project holding `files`."""
    return {
        "pyproject.toml": PYPROJECT,
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
        **files,
    }


DICT_IN_MAIN = """\
import logging.config

from fastapi import FastAPI

logging.config.dictConfig({"version": 1})
app = FastAPI()
"""
LOG001 = [
    Case("golden passes"),
    Case("logging_config.yaml passes", files=project(**{"logging_config.yaml": YAML_CONFIG})),
    Case(
        "dictConfig outside core/logging.py warns",
        files=project(**{"app/main.py": DICT_IN_MAIN}),
        status=WARN,
        path="app/main.py",
        line=5,
    ),
    Case(
        "core/logging.py without dictConfig warns",
        {CONFIG: "import logging\n\nlogging.basicConfig(level=logging.INFO)\n"},
        WARN,
        path=CONFIG,
    ),
    Case(
        "a YAML file without a version is not a config",
        files=project(**{"logging.yaml": "handlers: {}\n"}),
        status=FAIL,
        path="app/core/logging.py",
    ),
    Case("no logging configuration", {CONFIG: None}, FAIL, path=CONFIG),
]

ERROR_HANDLER = 'rotating_file_handler(settings.LOG_DIR / "error.log", "json", "ERROR")'
LOG002 = [
    Case("golden passes"),
    Case("YAML handlers pass", files=project(**{"logging_config.yaml": YAML_CONFIG})),
    Case(
        "handler objects with folded constants pass",
        files=project(**{"app/core/logging.py": PY_HANDLERS}),
    ),
    Case(
        "three backups",
        {CONFIG: replace_once(LOGGING, '"backupCount": 5', '"backupCount": 3')},
        FAIL,
        path=CONFIG,
        line=line_number(LOGGING, '"backupCount": 5'),
        message="backupCount is 3",
    ),
    Case(
        "5 MB files in YAML",
        files=project(**{"logging_config.yaml": YAML_CONFIG.replace("10485760", "5242880", 1)}),
        status=FAIL,
        path="logging_config.yaml",
        line=13,
    ),
    Case(
        "error.log below ERROR",
        {CONFIG: replace_once(LOGGING, ERROR_HANDLER, ERROR_HANDLER.replace(', "ERROR"', ""))},
        FAIL,
        path=CONFIG,
        line=line_number(LOGGING, ERROR_HANDLER),
        message="not at ERROR",
    ),
    Case(
        "no error.log",
        files=project(
            **{"logging_config.yaml": YAML_CONFIG.replace("logs/error.log", "logs/e.log")}
        ),
        status=FAIL,
        path="logging_config.yaml",
        message="no error.log",
    ),
    Case(
        "size from settings warns",
        {CONFIG: replace_once(LOGGING, '"maxBytes": 10_485_760', '"maxBytes": settings.LOG_MAX')},
        WARN,
        path=CONFIG,
        line=line_number(LOGGING, '"maxBytes": 10_485_760'),
    ),
    Case("no configuration", {CONFIG: None}, FAIL, path=CONFIG),
]

TEXT_FORMAT_LINE = line_number(LOGGING, '"%(asctime)s | %(levelname)-8s')
NO_JSON = (
    LOGGING.replace('    "json": {"()": "src.core.logging.JsonFormatter"},\n', "")
    .replace("class JsonFormatter(", "class PlainFormatter(")
    .replace("json.dumps(payload, default=str)", "str(payload)")
)
CONSOLE_ENTRY = YAML_CONFIG[YAML_CONFIG.index("  console:") : YAML_CONFIG.index("  file:")]
TWO_FORMATTERS = YAML_CONFIG.replace(CONSOLE_ENTRY, "")
LOG003 = [
    Case("golden passes"),
    Case("YAML formatters pass", files=project(**{"logging_config.yaml": YAML_CONFIG})),
    Case(
        "format without the function name",
        {CONFIG: replace_once(LOGGING, "%(funcName)s:%(lineno)d", "%(lineno)d")},
        FAIL,
        path=CONFIG,
        line=TEXT_FORMAT_LINE,
        message="funcName",
    ),
    Case("no JSON formatter", {CONFIG: NO_JSON}, FAIL, path=CONFIG, message="no JSON"),
    Case(
        "two formatters warn",
        files=project(**{"logging_config.yaml": TWO_FORMATTERS}),
        status=WARN,
        path="logging_config.yaml",
        message="fewer than three",
    ),
]


def service_with(code: str) -> str:
    """The golden note service with `code` appended."""
    return SERVICE + "\n\n" + code


def service_line(code: str, needle: str) -> int:
    """Line of `needle` in `service_with(code)`."""
    return line_number(service_with(code), needle)


PRINT = 'def debug_note(note: Note) -> None:\n    print("note", note.id)\n'
ROOT_CALL = 'def audit(note: Note) -> None:\n    logging.info("note %s", note.id)\n'
NAMED = 'audit_logger = logging.getLogger("audit")\n'
LOG004 = [
    Case("golden passes"),
    Case(
        "print in a service",
        {SERVICE_PATH: service_with(PRINT)},
        FAIL,
        path=SERVICE_PATH,
        line=service_line(PRINT, "print("),
        message="1 print",
    ),
    Case(
        "root logger call",
        {SERVICE_PATH: service_with(ROOT_CALL)},
        FAIL,
        path=SERVICE_PATH,
        line=service_line(ROOT_CALL, "logging.info("),
    ),
    Case(
        "logger with a fixed name warns",
        {SERVICE_PATH: service_with(NAMED)},
        WARN,
        path=SERVICE_PATH,
        line=service_line(NAMED, "audit_logger"),
    ),
    Case(
        "prints in tests and named loggers in the config module pass",
        {
            "tests/unit/test_print.py": 'def test_x() -> None:\n    print("x")\n',
            CONFIG: LOGGING + '\nUVICORN = logging.getLogger("uvicorn.access")\n',
        },
    ),
]

ERROR_NO_TRACE = """\
def load(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        logger.error("bad number %s", raw)
        return 0
"""
CRITICAL_NO_TRACE = ERROR_NO_TRACE.replace("logger.error(", "self_log.critical(")
WITH_TRACE = """\
class Loader:
    def load(self, raw: str) -> int:
        try:
            return int(raw)
        except ValueError as exc:
            self._log.error("bad number %s", raw, exc_info=exc)
            logger.exception("bad number")
            return 0
"""
LOG005 = [
    Case("golden passes"),
    Case("exc_info and logger.exception pass", {SERVICE_PATH: service_with(WITH_TRACE)}),
    Case(
        "error without traceback",
        {SERVICE_PATH: service_with(ERROR_NO_TRACE)},
        FAIL,
        path=SERVICE_PATH,
        line=service_line(ERROR_NO_TRACE, "logger.error("),
        message="1 errors",
    ),
    Case(
        "critical without traceback",
        {SERVICE_PATH: service_with(CRITICAL_NO_TRACE)},
        FAIL,
        path=SERVICE_PATH,
        line=service_line(CRITICAL_NO_TRACE, "self_log.critical("),
    ),
]

FSTRING = 'def login(password: str) -> None:\n    logger.info(f"login with {password}")\n'
LAZY_ARG = 'def issue(user: Note) -> None:\n    logger.debug("issued %s", user.refresh_token)\n'
EXTRA = 'def call(key: str) -> None:\n    logger.info("calling", extra={"api_key": key})\n'
SAFE = """\
def issued(user: Note, token: str, token_type: str) -> None:
    logger.info("token issued for %s", user.id)
    logger.info("token type %s of length %d", token_type, len(token))
    logger.info(f"note {user.title}", extra={"user_id": user.id})
    logger.info("%s expires at %s", user.id, token.expires_at)
"""
LOG006 = [
    Case("golden passes"),
    Case("names that only look sensitive pass", {SERVICE_PATH: service_with(SAFE)}),
    Case(
        "password in an f-string",
        {SERVICE_PATH: service_with(FSTRING)},
        FAIL,
        path=SERVICE_PATH,
        line=service_line(FSTRING, 'f"login with'),
        message="1 sensitive",
    ),
    Case(
        "token attribute as a lazy argument",
        {SERVICE_PATH: service_with(LAZY_ARG)},
        FAIL,
        path=SERVICE_PATH,
        line=service_line(LAZY_ARG, "logger.debug("),
    ),
    Case(
        "api key in extra",
        {SERVICE_PATH: service_with(EXTRA)},
        FAIL,
        path=SERVICE_PATH,
        line=service_line(EXTRA, '"calling"'),
    ),
]


@pytest.mark.parametrize("case", LOG001, ids=case_ids(LOG001))
def test_log001_central_config(tmp_path: Path, case: Case) -> None:
    """LOG-001 cases."""
    check(tmp_path, "LOG-001", case)


@pytest.mark.parametrize("case", LOG002, ids=case_ids(LOG002))
def test_log002_rotating_handlers(tmp_path: Path, case: Case) -> None:
    """LOG-002 cases."""
    check(tmp_path, "LOG-002", case)


@pytest.mark.parametrize("case", LOG003, ids=case_ids(LOG003))
def test_log003_formatters(tmp_path: Path, case: Case) -> None:
    """LOG-003 cases."""
    check(tmp_path, "LOG-003", case)


@pytest.mark.parametrize("case", LOG004, ids=case_ids(LOG004))
def test_log004_module_loggers(tmp_path: Path, case: Case) -> None:
    """LOG-004 cases."""
    check(tmp_path, "LOG-004", case)


@pytest.mark.parametrize("case", LOG005, ids=case_ids(LOG005))
def test_log005_tracebacks(tmp_path: Path, case: Case) -> None:
    """LOG-005 cases."""
    check(tmp_path, "LOG-005", case)


@pytest.mark.parametrize("case", LOG006, ids=case_ids(LOG006))
def test_log006_no_secrets(tmp_path: Path, case: Case) -> None:
    """LOG-006 cases."""
    check(tmp_path, "LOG-006", case)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("password", True),
        ("hashed_password", True),
        ("JWT_SECRET_KEY", True),
        ("apiKey", True),
        ("refresh_token", True),
        ("token_type", False),
        ("user_id", False),
        ("tokenizer", False),
        ("max_tokens", False),
        ("password_reset_url", False),
        ("is_secret", False),
    ],
)
def test_is_sensitive_names(name: str, expected: bool) -> None:
    """Sensitive-name matching spares metadata about secrets."""
    assert is_sensitive(name) is expected


@pytest.mark.parametrize(
    ("fmt", "missing"),
    [
        ("%(asctime)s %(name)s %(levelname)s %(funcName)s %(lineno)d", []),
        ("{asctime} {name} {levelname} {funcName}:{lineno}", []),
        ("%(asctime)s %(levelname)s %(message)s", ["name", "funcName", "lineno"]),
        ("%(filename)s %(levelname)s", ["asctime", "name", "funcName", "lineno"]),
    ],
)
def test_missing_fields(fmt: str, missing: list[str]) -> None:
    """Format fields are matched as placeholders, not as substrings of other fields."""
    assert missing_fields(fmt) == missing
