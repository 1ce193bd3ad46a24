"""CFG rules: one pydantic-settings Settings, .env loading and docs, no os.environ, no secrets."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from scanners.analysis.secrets import is_placeholder, mask, shannon_entropy
from tests.gitrepo import golden_files
from tests.unit.scanners.rules.harness import FAIL, WARN, Case, case_ids, check, run_rule

#: Every variable of the golden Settings, documented (used while the golden project lacks one).
ENV_EXAMPLE = """\
# Application
APP_NAME=notes-service
APP_VERSION=1.0.0
# One of development, staging, production
ENVIRONMENT=development
DEBUG=false

# Logging
LOG_LEVEL=INFO
LOG_DIR=logs
LOG_JSON=false

# Database
DATABASE_URL=postgresql+asyncpg://notes:change-me@localhost:5432/notes
DATABASE_POOL_SIZE=10
DATABASE_MAX_OVERFLOW=20
DATABASE_POOL_RECYCLE_SECONDS=1800
DATABASE_ECHO=false

# Cache
REDIS_URL=redis://localhost:6379/0
CACHE_TTL_SECONDS=300

# Authentication: generate the key with `openssl rand -hex 32`
JWT_SECRET_KEY=change-me
JWT_ALGORITHM=HS256
ACCESS_TOKEN_EXPIRE_MINUTES=30
REFRESH_TOKEN_EXPIRE_DAYS=7

# HTTP
CORS_ORIGINS=["http://localhost:3000"]
RATE_LIMIT_DEFAULT=100/minute
RATE_LIMIT_STORAGE_URI=memory://
MAX_REQUEST_BYTES=1048576

# Outbound integrations
HTTP_TIMEOUT_SECONDS=30
# NOTES_WEBHOOK_URL=https://hooks.example.com/notes

# Observability
OTEL_ENABLED=true
"""
BASE = {} if ".env.example" in golden_files() else {".env.example": ENV_EXAMPLE}
CONFIG = "src/core/config.py"

SETTINGS = """\
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    \"\"\"Service settings.\"\"\"

    model_config = SettingsConfigDict(env_file=".env")

    environment: Literal["development", "staging", "production"] = "development"
    debug: bool = False
    database_url: str = "sqlite:///db.sqlite3"
"""
SMALL_EXAMPLE = "# Runtime\nENVIRONMENT=development\nDEBUG=false\n# Storage\nDATABASE_URL=x\n"
APP_LAYOUT = {
    "pyproject.toml": '[project]\nname = "orders"\nversion = "0.1.0"\n'
    'dependencies = ["fastapi", "pydantic-settings"]\n',
    "app/__init__.py": "",
    "app/main.py": "from fastapi import FastAPI\n\nfrom app.core.config import Settings\n\n"
    "app = FastAPI()\nsettings = Settings()\n",
    "app/core/__init__.py": "",
    "app/core/config.py": SETTINGS.replace(
        "from pydantic_settings import BaseSettings, SettingsConfigDict",
        "import os\n\nfrom pydantic_settings import BaseSettings as Base, SettingsConfigDict",
    ).replace("class Settings(BaseSettings)", "class Settings(Base)")
    + "\nHOME = os.environ.get('HOME')\n",
    ".env.example": SMALL_EXAMPLE,
}


def settings(old: str = "", new: str = "") -> str:
    """The small Settings module with one edit (which must apply)."""
    assert old in SETTINGS, old
    return SETTINGS.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line holding `needle`."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def small(**changes: str | bytes | None) -> dict[str, str | bytes | None]:
    """The golden project with the small Settings and its .env.example, plus `changes`."""
    return {CONFIG: SETTINGS, ".env.example": SMALL_EXAMPLE, **changes}


# ----- CFG-001 ---------------------------------------------------------------------------------
V1 = SETTINGS.replace(
    "from pydantic_settings import BaseSettings, SettingsConfigDict",
    "from pydantic import BaseSettings",
)
INTERMEDIATE = settings(
    "class Settings(BaseSettings):",
    "class Common(BaseSettings):\n    app_name: str = 'x'\n\n\nclass Settings(Common):",
)
MODULE_IMPORT = settings(
    "from pydantic_settings import BaseSettings, SettingsConfigDict",
    "import pydantic_settings\nfrom pydantic_settings import SettingsConfigDict",
).replace("Settings(BaseSettings)", "Settings(pydantic_settings.BaseSettings)")
CFG001 = [
    Case("golden passes", message="src/core/config.py"),
    Case("app layout with an aliased import passes", files=APP_LAYOUT),
    Case("backend subfolder passes", prefix="backend/", message="backend/src/core/config.py"),
    Case("src package layout passes", {CONFIG: None, "src/notes/core/config.py": SETTINGS}),
    Case("module import passes", {CONFIG: MODULE_IMPORT}),
    Case("settings through an app base class pass", {CONFIG: INTERMEDIATE}),
    Case(
        "a relatively imported app base is followed",
        {
            CONFIG: "from .base import Common\n\n\nclass Settings(Common):\n"
            "    debug: bool = False\n",
            "src/core/base.py": "from pydantic_settings import BaseSettings\n\n\n"
            "class Common(BaseSettings):\n    app_name: str = 'x'\n",
        },
    ),
    Case(
        "a third-party base named like an app class is not followed",
        {
            CONFIG: SETTINGS,
            "src/plugin.py": "from lib import Settings as Base\n\n\nclass Settings(Base):\n"
            "    pass\n",
        },
    ),
    Case("missing settings fails", {CONFIG: "VALUE = 1\n"}, FAIL, path=CONFIG),
    Case("syntax error fails without crashing", {CONFIG: "class Settings(:\n"}, FAIL, path=CONFIG),
    Case(
        "settings elsewhere fails",
        {CONFIG: "", "src/settings.py": SETTINGS},
        FAIL,
        path="src/settings.py",
        line=6,
        message="does not follow",
    ),
    Case("pydantic v1 BaseSettings fails", {CONFIG: V1}, FAIL, path=CONFIG, line=6),
    Case(
        "two Settings classes fail",
        {"src/other.py": SETTINGS},
        FAIL,
        path="src/other.py",
        line=6,
        paths=(CONFIG,),
    ),
    Case(
        "a settings class with another name fails",
        {CONFIG: settings("class Settings(", "class AppConfig(")},
        FAIL,
        path=CONFIG,
        line=6,
    ),
]


@pytest.mark.parametrize("case", CFG001, ids=case_ids(CFG001))
def test_cfg001_single_settings_class(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "CFG-001", case, BASE)


# ----- CFG-002 ---------------------------------------------------------------------------------
NO_ENV_FILE = settings('    model_config = SettingsConfigDict(env_file=".env")\n\n', "")
CFG002 = [
    Case("golden passes"),
    Case("app layout passes", files=APP_LAYOUT),
    Case(
        "dict model_config passes",
        {
            CONFIG: settings(
                'SettingsConfigDict(env_file=".env")', '{"env_file": (".env", ".env.local")}'
            )
        },
    ),
    Case(
        "_env_file at instantiation passes",
        {CONFIG: NO_ENV_FILE + "\nsettings = Settings(_env_file='.env')\n"},
    ),
    Case("no env_file fails", {CONFIG: NO_ENV_FILE}, FAIL, path=CONFIG, line=6),
    Case(
        "env_file=None fails",
        {CONFIG: settings('env_file=".env"', "env_file=None")},
        FAIL,
        path=CONFIG,
        line=6,
    ),
    Case(
        "other config keys only fail",
        {CONFIG: settings('env_file=".env"', 'env_prefix="APP_"')},
        FAIL,
        path=CONFIG,
    ),
    Case("no settings fails", {CONFIG: "X = 1\n"}, FAIL, path=CONFIG),
]


@pytest.mark.parametrize("case", CFG002, ids=case_ids(CFG002))
def test_cfg002_settings_loads_env_file(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "CFG-002", case, BASE)


# ----- CFG-003 ---------------------------------------------------------------------------------
NESTED = settings(
    "class Settings(BaseSettings):",
    "from pydantic import BaseModel\n\n\n"
    "class Database(BaseModel):\n    host: str = 'db'\n    port: int = 5432\n\n\n"
    "class Settings(BaseSettings):",
).replace("    database_url: str", "    database: Database = Database()\n    database_url: str")
NESTED_DELIMITED = NESTED.replace('env_file=".env"', 'env_file=".env", env_nested_delimiter="__"')
EX = ".env.example"
CYCLIC = """\
from pydantic_settings import BaseSettings, SettingsConfigDict


class A(B):
    b: B


class B(A):
    a: A


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_nested_delimiter="__")
    a: A
"""
CFG003 = [
    Case("golden passes"),
    Case("app layout passes", files=APP_LAYOUT),
    Case("backend subfolder passes", prefix="backend/"),
    Case(
        "commented variable counts as documented",
        small(**{EX: SMALL_EXAMPLE.replace("DEBUG=false", "# DEBUG=true")}),
    ),
    Case("missing file fails", {EX: None}, FAIL, path=EX, message="No .env.example"),
    Case(
        "missing variable fails",
        small(**{EX: SMALL_EXAMPLE.replace("DEBUG=false\n", "")}),
        FAIL,
        path=EX,
    ),
    Case(
        "lower-case name does not count",
        small(**{EX: SMALL_EXAMPLE.replace("DEBUG", "debug")}),
        FAIL,
        path=EX,
    ),
    Case(
        "no comments fail", small(**{EX: "ENVIRONMENT=x\nDEBUG=0\nDATABASE_URL=x\n"}), FAIL, path=EX
    ),
    Case(
        "env_prefix is applied",
        small(
            **{
                CONFIG: settings('env_file=".env"', 'env_file=".env", env_prefix="app_"'),
                EX: "# All\nAPP_ENVIRONMENT=x\nAPP_DEBUG=0\nAPP_DATABASE_URL=x\n",
            }
        ),
    ),
    Case(
        "alias names the variable",
        small(
            **{
                CONFIG: settings(
                    'database_url: str = "sqlite:///db.sqlite3"',
                    'database_url: str = Field("x", alias="DB_DSN")',
                ),
                EX: "# All\nENVIRONMENT=x\nDEBUG=0\nDB_DSN=x\n",
            }
        ),
    ),
    Case(
        "nested model as one variable passes",
        small(**{CONFIG: NESTED, EX: SMALL_EXAMPLE + "DATABASE={}\n"}),
    ),
    Case(
        "nested model without delimiter needs the parent",
        small(**{CONFIG: NESTED, EX: SMALL_EXAMPLE + "DATABASE__HOST=db\nDATABASE__PORT=1\n"}),
        FAIL,
        path=EX,
    ),
    Case(
        "nested leaves with a delimiter pass",
        small(
            **{
                CONFIG: NESTED_DELIMITED,
                EX: SMALL_EXAMPLE + "DATABASE__HOST=db\nDATABASE__PORT=1\n",
            }
        ),
    ),
    Case(
        "a missing nested leaf fails",
        small(**{CONFIG: NESTED_DELIMITED, EX: SMALL_EXAMPLE + "DATABASE__HOST=db\n"}),
        FAIL,
        path=EX,
        message="does not document",
    ),
    Case("cyclic models and bases do not loop", small(**{CONFIG: CYCLIC, EX: "# All\nA={}\n"})),
    Case("no settings class warns", {CONFIG: "X = 1\n"}, WARN, path=EX),
    Case("binary .env.example fails", small(**{EX: b"\x00\x01DEBUG=1"}), FAIL, path=EX),
]


@pytest.mark.parametrize("case", CFG003, ids=case_ids(CFG003))
def test_cfg003_env_example_documents_settings(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "CFG-003", case, BASE)


def test_cfg003_names_the_missing_variables(tmp_path: Path) -> None:
    case = Case(
        "leaf", small(**{CONFIG: NESTED_DELIMITED, EX: SMALL_EXAMPLE + "DATABASE__HOST=db\n"}), FAIL
    )
    result = check(tmp_path, "CFG-003", case)
    assert [e.message for e in result.evidence] == ["missing DATABASE__PORT"]


# ----- CFG-004 ---------------------------------------------------------------------------------
SERVICE = "src/services/mailer.py"
CFG004 = [
    Case("golden passes"),
    Case("app layout passes: os.environ inside core/config.py", files=APP_LAYOUT),
    Case("tests may read the environment", {"tests/test_env.py": "import os\nos.environ['X']\n"}),
    Case(
        "os.getenv fails",
        {SERVICE: "import os\n\n\nHOST = os.getenv('SMTP_HOST')\n"},
        FAIL,
        path=SERVICE,
        line=4,
    ),
    Case(
        "os.environ.get fails",
        {SERVICE: "import os\nHOST = os.environ.get('H')\n"},
        FAIL,
        path=SERVICE,
        line=2,
    ),
    Case(
        "aliased os fails",
        {SERVICE: "import os as system\nX = system.environ['X']\n"},
        FAIL,
        path=SERVICE,
        line=2,
    ),
    Case(
        "from os import environ fails",
        {SERVICE: "from os import environ, path\n"},
        FAIL,
        path=SERVICE,
        line=1,
    ),
    Case(
        "from os import getenv fails",
        {SERVICE: "x = 1\nfrom os import getenv as g\n"},
        FAIL,
        path=SERVICE,
        line=2,
    ),
    Case(
        "backend subfolder fails with a repository path",
        {SERVICE: "import os\nos.getenv('X')\n"},
        FAIL,
        prefix="backend/",
        path=f"backend/{SERVICE}",
        line=2,
    ),
    Case("other os functions pass", {SERVICE: "import os\nP = os.path.join('a', 'b')\n"}),
]


@pytest.mark.parametrize("case", CFG004, ids=case_ids(CFG004))
def test_cfg004_no_direct_environ(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "CFG-004", case, BASE)


# ----- CFG-005 ---------------------------------------------------------------------------------
# Secrets are assembled at run time so that this file itself holds none.
AWS_KEY = "AKIA" + "Q7XK2M9PLR4TZ8WB"
GITHUB_TOKEN = "ghp" + "_" + "R8fK2mQ9xL4vN7pT1sW3yZ6bC0dE5gH8jA2u"
SLACK_TOKEN = "xox" + "b-" + "2851739462-9Kq7Zr3Lx8Vt"
GOOGLE_KEY = "AI" + "za" + "SyD8f3K9qL2mX7vB4nR1tZ6wY0cE5gH8jPa"
STRIPE_KEY = "sk_" + "live_" + "51HxQ2kLm9Rv7Tz3Wp8Yb4Nc"
PRIVATE_KEY = (
    "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEowIBAAKCAQEA7v1kq9\n-----END RSA PRIVATE KEY-----\n"
)


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


JWT = ".".join(
    [
        _b64({"alg": "HS256", "typ": "JWT"}),
        _b64({"sub": "42", "name": "Ada"}),
        "Xk9qL2mR7vT4zW8pY3bN6cE1gH5jA0sD",
    ]
)
HIGH_ENTROPY = "q9Xk2LmR7vT4zW8pY3bN"
README = "README.md"
CFG005 = [
    Case("golden passes"),
    Case("app layout passes", files=APP_LAYOUT),
    Case(
        "AWS key in markdown fails", {README: f"# x\n\nkey: {AWS_KEY}\n"}, FAIL, path=README, line=3
    ),
    Case(
        "GitHub token in a workflow fails",
        repo_changes={".github/workflows/ci.yml": f"env:\n  TOKEN: {GITHUB_TOKEN}\n"},
        status=FAIL,
        path=".github/workflows/ci.yml",
        line=2,
    ),
    Case(
        "Slack token fails",
        {"src/notify.py": f"HOOK = '{SLACK_TOKEN}'\n"},
        FAIL,
        path="src/notify.py",
        line=1,
    ),
    Case(
        "Google key fails",
        {"deploy/app.yaml": f"\nmaps: {GOOGLE_KEY}\n"},
        FAIL,
        path="deploy/app.yaml",
        line=2,
    ),
    Case("Stripe key fails", {"src/pay.py": f"STRIPE = '{STRIPE_KEY}'\n"}, FAIL, path="src/pay.py"),
    Case("private key fails", {"deploy/key.pem": PRIVATE_KEY}, FAIL, path="deploy/key.pem", line=1),
    Case(
        "private key in test fixtures warns",
        {"tests/fixtures/key.pem": PRIVATE_KEY},
        WARN,
        path="tests/fixtures/key.pem",
    ),
    Case("JWT in app code fails", {"src/x.py": f"T = '{JWT}'\n"}, FAIL, path="src/x.py"),
    Case("JWT in tests warns", {"tests/test_x.py": f"T = '{JWT}'\n"}, WARN, path="tests/test_x.py"),
    Case(
        "hard-coded password fails",
        {"src/db.py": "\nDB_PASSWORD = 'hunter2-prod'\n"},
        FAIL,
        path="src/db.py",
        line=2,
    ),
    Case(
        "password keyword fails",
        {"src/db.py": "connect(user='a', password='s3cret!')\n"},
        FAIL,
        path="src/db.py",
        line=1,
    ),
    Case(
        "password default argument fails",
        {"src/db.py": "def f(pwd='s3cret!'):\n    pass\n"},
        FAIL,
        path="src/db.py",
    ),
    Case(
        "password dict value fails",
        {"src/db.py": "C = {\n  'password': 's3cret!'}\n"},
        FAIL,
        path="src/db.py",
        line=2,
    ),
    Case(
        "password comparison fails",
        {"src/db.py": "ok = password == 's3cret!'\n"},
        FAIL,
        path="src/db.py",
    ),
    Case(
        "high-entropy api key warns",
        {"src/x.py": f"api_key = '{HIGH_ENTROPY}'\n"},
        WARN,
        path="src/x.py",
        line=1,
    ),
    Case("low-entropy token name passes", {"src/x.py": "token_type = 'bearer'\nTOKEN = 'abc'\n"}),
    Case(
        "password-ish names that are not secrets pass",
        {"src/x.py": "PASSWORD_RESET_URL = '/reset'\npassword_field = 'pw'\n"},
    ),
    Case(
        "placeholders pass",
        {
            "src/x.py": "password = 'changeme'\nsecret = '<your-secret>'\n"
            "db_password = '${DB_PASSWORD}'\napi_token = ''\n"
            "pwd = 'xxxxxxxxxxxx'\npassword = 'DB_PASSWORD'\n"
        },
    ),
    Case("AWS documentation key passes", {README: "AKIA" + "IOSFODNN7EXAMPLE\n"}),
    Case("constants that repeat their name pass", {"src/x.py": "PASS = 'pass'\nTOKEN = 'Token'\n"}),
    Case(
        "noqa S105 and nosec lines are skipped",
        {
            "src/x.py": "A_PASSWORD = 'hunter2-prod'  "
            "# noqa: S105 - a demo\n"
            "B_PASSWORD = 'hunter3-prod'  # nosec\n"
        },
    ),
    Case(
        "allowlist pragma is honoured", {README: f"{AWS_KEY}  <!-- pragma: allowlist secret -->\n"}
    ),
    Case(
        "an unrelated noqa does not hide a secret",
        {"src/x.py": "DB_PASSWORD = 'hunter2-prod'  # noqa: E501\n"},
        FAIL,
        path="src/x.py",
    ),
    Case(
        "test passwords pass",
        {"tests/test_login.py": f"PASSWORD = 'hunter22'\nlogin(password='{HIGH_ENTROPY}')\n"},
    ),
    Case(
        "high-entropy test secret warns",
        {"tests/test_login.py": f"\nsecret_key = '{HIGH_ENTROPY}'\n"},
        WARN,
        path="tests/test_login.py",
        line=2,
    ),
    Case(
        "committed .env fails",
        forced={".env": "DEBUG=1\nDB_PASSWORD=hunter2prod\n"},
        status=FAIL,
        path=".env",
        line=2,
    ),
    Case(
        "example files hold placeholders only",
        {EX: ENV_EXAMPLE + f"\n# generate one\nSECRET_KEY={HIGH_ENTROPY}\nPASSWORD=pw123456\n"},
    ),
    Case(
        "a real token in an example file still fails",
        {EX: ENV_EXAMPLE + f"GITHUB_TOKEN={GITHUB_TOKEN}\n"},
        FAIL,
        path=EX,
    ),
    Case("binary files are skipped", {"assets/blob.dat": b"\x00\x00" + AWS_KEY.encode()}),
    Case("images are skipped", {"docs/logo.png": AWS_KEY}),
    Case(
        "syntax errors do not stop the scan",
        {"src/broken.py": f"def (:\nKEY = '{AWS_KEY}'\n"},
        FAIL,
        path="src/broken.py",
        line=2,
    ),
]


@pytest.mark.parametrize("case", CFG005, ids=case_ids(CFG005))
def test_cfg005_no_hard_coded_secrets(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "CFG-005", case, BASE)


# One secret on one line is one finding, whichever detectors see it: the known format (sure)
# is kept over the guess from the name it is assigned to.
ONE_SECRET = [
    Case(
        "AWS key assigned to a secret-like name",
        {"src/x.py": f"API_KEY = '{AWS_KEY}'\n"},
        FAIL,
        path="src/x.py",
        line=1,
        message="1 hard-coded secret(s) found.",
    ),
    Case(
        "GitHub token assigned to a secret-like name",
        {"src/x.py": f"\napi_token = '{GITHUB_TOKEN}'\n"},
        FAIL,
        path="src/x.py",
        line=2,
        message="1 hard-coded secret(s) found.",
    ),
    Case(
        "known format under a password key",
        {"src/x.py": f"C = {{'password': '{STRIPE_KEY}'}}\n"},
        FAIL,
        path="src/x.py",
        line=1,
        message="1 hard-coded secret(s) found.",
    ),
    Case(
        "known format in a committed .env",
        forced={".env": f"DEBUG=1\nGITHUB_TOKEN={GITHUB_TOKEN}\n"},
        status=FAIL,
        path=".env",
        line=2,
        message="1 hard-coded secret(s) found.",
    ),
    Case(
        "one literal assigned to two secret-like names",
        {"src/x.py": f"API_KEY = SECRET_KEY = '{HIGH_ENTROPY}'\n"},
        WARN,
        path="src/x.py",
        line=1,
        message="1 possible secret(s)",
    ),
    Case(
        "one literal for a token name and a password name: the password",
        {"src/x.py": f"API_KEY = DB_PASSWORD = '{HIGH_ENTROPY}'\n"},
        FAIL,
        path="src/x.py",
        line=1,
        message="1 hard-coded secret(s) found.",
    ),
    Case(
        "a known format inside another",
        {README: f"token: {JWT[:-4]}-{AWS_KEY}\n"},
        FAIL,
        path=README,
        line=1,
        message="1 hard-coded secret(s) found.",
    ),
]


@pytest.mark.parametrize("case", ONE_SECRET, ids=case_ids(ONE_SECRET))
def test_cfg005_counts_one_secret_once(tmp_path: Path, case: Case) -> None:
    result = check(tmp_path, "CFG-005", case, BASE)
    assert len(result.evidence) == 1, [e.message for e in result.evidence]


def test_cfg005_evidence_names_the_known_format_not_the_guess(tmp_path: Path) -> None:
    case = Case("overlap", {"src/x.py": f"API_TOKEN = '{GITHUB_TOKEN}'\n"}, FAIL)
    [item] = check(tmp_path, "CFG-005", case, BASE).evidence
    assert item.message.startswith("GitHub token (ghp_***)"), item.message


def test_cfg005_literal_of_several_names_is_shown_under_the_surest(tmp_path: Path) -> None:
    case = Case("names", {"src/x.py": f"API_KEY = DB_PASSWORD = '{HIGH_ENTROPY}'\n"}, FAIL)
    [item] = check(tmp_path, "CFG-005", case, BASE).evidence
    assert item.message.startswith("hard-coded literal assigned to 'DB_PASSWORD'"), item.message


def test_cfg005_two_secrets_on_one_line_count_twice(tmp_path: Path) -> None:
    other = "AKIA" + "W3RT8ZQ5MN2KX7LP"
    case = Case("two", {"src/x.py": f"KEYS = ['{AWS_KEY}', '{other}']\n"}, FAIL)
    result = check(tmp_path, "CFG-005", case, BASE)
    assert result.message == "2 hard-coded secret(s) found.", result.message
    assert len(result.evidence) == 2


def test_cfg005_message_tells_sure_secrets_from_guesses(tmp_path: Path) -> None:
    code = f"DB_PASSWORD = 'hunter2-prod'\napi_key = '{HIGH_ENTROPY}'\n"
    case = Case("mixed", {"src/x.py": code}, FAIL, path="src/x.py", line=2)
    result = check(tmp_path, "CFG-005", case, BASE)
    assert result.message == "1 hard-coded secret(s) found and 1 possible one(s).", result.message
    sure, guess = result.evidence
    assert not sure.message.startswith("possible"), sure.message
    assert guess.message.startswith("possible hard-coded literal assigned to 'api_key'"), guess


@pytest.mark.parametrize(
    "secret", [AWS_KEY, GITHUB_TOKEN, SLACK_TOKEN, GOOGLE_KEY, STRIPE_KEY, JWT, HIGH_ENTROPY]
)
def test_cfg005_evidence_never_holds_the_secret(tmp_path: Path, secret: str) -> None:
    case = Case("leak", {"src/leak.py": f"api_key = '{secret}'\n"})
    result = run_rule(tmp_path, "CFG-005", case, BASE)
    assert result.status in {FAIL, WARN}
    shown = result.message + " ".join(e.message for e in result.evidence)
    assert secret not in shown
    assert secret[5:] not in shown
    assert mask(secret) in shown


def test_secret_helpers() -> None:
    assert mask("abcdefgh") == "abcd***"
    assert shannon_entropy("") == 0
    assert shannon_entropy("aaaa") == 0
    assert shannon_entropy(HIGH_ENTROPY) >= 3.5
    assert is_placeholder("<password>")
    assert is_placeholder("change-me-please")
    assert not is_placeholder("hunter2-prod")


# ----- CFG-006 ---------------------------------------------------------------------------------
ENV_LINE = '    environment: Literal["development", "staging", "production"] = "development"\n'
ENUM = settings(
    "class Settings(BaseSettings):",
    "from enum import StrEnum\n\n\n"
    "class Stage(StrEnum):\n    DEV = 'development'\n    STAGING = 'staging'\n"
    "    PROD = 'production'\n\n\nclass Settings(BaseSettings):",
).replace('environment: Literal["development", "staging", "production"]', "app_env: Stage")
ALIAS = settings(
    "class Settings(", 'type Stage = Literal["dev", "stage", "prod"]\n\n\nclass Settings('
).replace('environment: Literal["development", "staging", "production"]', "ENV: Stage | None")
CFG006 = [
    Case("golden passes"),
    Case("app layout passes", files=APP_LAYOUT),
    Case("enum environment passes", {CONFIG: ENUM}),
    Case("type alias with short names passes", {CONFIG: ALIAS}),
    Case(
        "missing stage fails",
        {CONFIG: settings('"staging", ', "")},
        FAIL,
        path=CONFIG,
        line=line_of(SETTINGS, "environment:"),
        message="not restricted",
    ),
    Case(
        "plain str environment fails",
        {CONFIG: settings('Literal["development", "staging", "production"]', "str")},
        FAIL,
        path=CONFIG,
        line=11,
    ),
    Case(
        "no environment fails",
        {
            CONFIG: settings(
                ENV_LINE,
                "",
            )
        },
        FAIL,
        path=CONFIG,
        line=6,
        message="no ENVIRONMENT",
    ),
    Case(
        "debug as a string fails",
        {CONFIG: settings("debug: bool", "debug: str")},
        FAIL,
        path=CONFIG,
        line=12,
        message="DEBUG",
    ),
    Case("no settings fails", {CONFIG: "X = 1\n"}, FAIL, path=CONFIG),
]


@pytest.mark.parametrize("case", CFG006, ids=case_ids(CFG006))
def test_cfg006_environment_and_debug(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "CFG-006", case, BASE)
