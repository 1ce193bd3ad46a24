"""FW rules: FastAPI app, Uvicorn, settings-dependent docs, a single web framework."""

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
    golden_gaps,
    line_number,
    replace_once,
)

PYPROJECT = str(golden_files()["pyproject.toml"])
MAIN = str(golden_files()["src/main.py"])
BASE = golden_gaps({})


def deps(*extra: str, drop: str = "") -> str:
    """The golden pyproject with runtime dependencies added (and one line dropped)."""
    text = replace_once(
        PYPROJECT,
        "dependencies = [\n",
        "dependencies = [\n" + "".join(f'    "{d}",\n' for d in extra),
    )
    return replace_once(text, f'    "{drop}",\n', "") if drop else text


def project(
    main: str, dependencies: str = '"fastapi>=0.115", "uvicorn>=0.30"'
) -> dict[str, str | bytes | None]:
    """A small app-layout project whose app/main.py is `main`."""
    return {
        "pyproject.toml": f'[project]\nname = "svc"\nversion = "1"\n'
        f"dependencies = [{dependencies}]\n",
        "app/__init__.py": "",
        "app/main.py": main,
    }


ALIASED = "from fastapi import FastAPI as Api\n\napp = Api(docs_url=None, redoc_url=None)\n"
MODULE_ALIAS = "import fastapi as fa\n\napp = fa.FastAPI()\n"
MENTION_ONLY = '"""Build the FastAPI() app later."""\n# app = FastAPI()\nNAME = "FastAPI("\n'
NO_APP_MAIN = "def main() -> None:\n    print('hi')\n"

FW001 = [
    Case("golden passes"),
    Case("backend subfolder passes", prefix="backend/", repo_changes={"README.md": "# mono\n"}),
    Case("aliased class import passes", files=project(ALIASED)),
    Case("module alias passes", files=project(MODULE_ALIAS)),
    Case(
        "fastapi not declared",
        {"pyproject.toml": deps(drop="fastapi>=0.165")},
        FAIL,
        path="pyproject.toml",
        line=line_number(PYPROJECT, "dependencies = ["),
        message="not a runtime dependency",
    ),
    Case(
        "fastapi only as dev dependency",
        files=project(ALIASED, '"uvicorn"')
        | {
            "pyproject.toml": '[project]\nname = "svc"\ndependencies = []\n'
            '[dependency-groups]\ndev = ["fastapi"]\n'
        },
        status=FAIL,
        path="pyproject.toml",
    ),
    Case(
        "no app instantiated", {"src/main.py": NO_APP_MAIN}, FAIL, path="src", message="no FastAPI"
    ),
    Case("mentions are not calls", files=project(MENTION_ONLY), status=FAIL, path="app"),
    Case(
        "app only in tests",
        files=project(NO_APP_MAIN) | {"tests/test_app.py": ALIASED},
        status=FAIL,
        path="app",
    ),
    Case(
        "syntax error in main",
        {"src/main.py": "app = FastAPI(\n"},
        FAIL,
        path="src/main.py",
        line=1,
        paths=("src",),
    ),
    Case("pyproject not toml", {"pyproject.toml": "[project\n"}, FAIL, path="pyproject.toml"),
    Case("no pyproject", {"pyproject.toml": None}, FAIL, path="pyproject.toml"),
]


@pytest.mark.parametrize("case", FW001, ids=case_ids(FW001))
def test_fw001_fastapi_app(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "FW-001", case, BASE)


NO_UVICORN = deps(drop="uvicorn[standard]>=0.54")
FW002 = [
    Case("golden passes"),
    Case("plain uvicorn passes", files=project(ALIASED)),
    Case("fastapi standard extra passes", files=project(ALIASED, '"fastapi[standard]>=0.115"')),
    Case(
        "no uvicorn",
        {"pyproject.toml": NO_UVICORN},
        FAIL,
        path="pyproject.toml",
        line=line_number(NO_UVICORN, "dependencies = ["),
        message="uvicorn",
    ),
    Case(
        "uvicorn only for development",
        files=project(ALIASED, '"fastapi"')
        | {
            "pyproject.toml": '[project]\nname = "svc"\ndependencies = ["fastapi"]\n'
            '[dependency-groups]\ndev = ["uvicorn"]\n'
        },
        status=FAIL,
        path="pyproject.toml",
    ),
    Case("binary pyproject", {"pyproject.toml": b"\x00\x00"}, FAIL, path="pyproject.toml"),
    Case(
        "backend without uvicorn",
        {"pyproject.toml": NO_UVICORN},
        FAIL,
        path="backend/pyproject.toml",
        prefix="backend/",
    ),
]


@pytest.mark.parametrize("case", FW002, ids=case_ids(FW002))
def test_fw002_uvicorn(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "FW-002", case, BASE)


def app(kwargs: str, prelude: str = "") -> dict[str, str | bytes | None]:
    """A project whose app is `FastAPI(<kwargs>)` on line 5 of app/main.py."""
    head = "from fastapi import FastAPI\n\nfrom app.config import settings\n"
    return project(f"{head}{prelude or chr(10)}app = FastAPI({kwargs})\n")


GOLDEN_DOCS = 'docs_url="/docs" if settings.DEBUG else None'
FW003 = [
    Case("golden passes"),
    Case("backend subfolder passes", prefix="backend/"),
    Case(
        "settings attributes pass",
        files=app("docs_url=settings.docs_url, redoc_url=settings.redoc_url"),
    ),
    Case(
        "settings factory passes",
        files=app("docs_url=get_settings().docs_url, redoc_url=get_settings().redoc_url"),
    ),
    Case(
        "environment passes",
        files=app('docs_url=os.getenv("DOCS"), redoc_url=os.environ.get("REDOC")'),
    ),
    Case(
        "names assigned from conditionals pass",
        files=app(
            "docs_url=docs, redoc_url=redoc",
            'docs = "/docs" if settings.debug else None\nredoc: str | None = docs\n',
        ),
    ),
    Case(
        "literal docs url",
        {"src/main.py": replace_once(MAIN, GOLDEN_DOCS, 'docs_url="/docs"')},
        FAIL,
        path="src/main.py",
        line=line_number(MAIN, GOLDEN_DOCS),
        message="not switched",
    ),
    Case("defaults", files=app("title='x'"), status=FAIL, path="app/main.py", line=5),
    Case(
        "constant condition",
        files=app('docs_url="/d" if True else None, redoc_url=None'),
        status=FAIL,
        path="app/main.py",
        line=5,
    ),
    Case(
        "sub-application with defaults",
        files=app("docs_url=settings.docs_url, redoc_url=settings.redoc_url", "\n")
        | {"app/admin.py": "from fastapi import FastAPI\n\nadmin = FastAPI()\n"},
        status=FAIL,
        path="app/admin.py",
        line=3,
    ),
    Case(
        "docs disabled everywhere",
        files=app("docs_url=None, redoc_url=None"),
        status=WARN,
        path="app/main.py",
        line=5,
        message="not visibly",
    ),
    Case("spread keyword arguments", files=app("**options"), status=WARN, path="app/main.py"),
    Case(
        "unresolved names",
        files=app("docs_url=url, redoc_url=url"),
        status=WARN,
        path="app/main.py",
    ),
    Case("no app", {"src/main.py": NO_APP_MAIN}, FAIL, path="src"),
]


@pytest.mark.parametrize("case", FW003, ids=case_ids(FW003))
def test_fw003_conditional_docs(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "FW-003", case, BASE)


AIOHTTP_SERVER = "from aiohttp import web\n\nserver = web.Application()\n"
WITH_FLASK = deps("flask>=3")
FW004 = [
    Case("golden passes"),
    Case("aiohttp as a client passes", {"pyproject.toml": deps("aiohttp>=3.9")}),
    Case("starlette passes", {"pyproject.toml": deps("starlette")}),
    Case(
        "flask",
        {"pyproject.toml": WITH_FLASK},
        FAIL,
        path="pyproject.toml",
        line=line_number(WITH_FLASK, "flask>=3"),
        message="flask",
    ),
    Case(
        "django and drf",
        {"pyproject.toml": deps("Django>=5", "djangorestframework")},
        FAIL,
        message="django, djangorestframework",
    ),
    Case(
        "aiohttp server",
        {"pyproject.toml": deps("aiohttp>=3.9"), "src/web.py": AIOHTTP_SERVER},
        FAIL,
        path="pyproject.toml",
        message="aiohttp",
    ),
    Case("pyproject not toml", {"pyproject.toml": "x = [\n"}, FAIL, path="pyproject.toml"),
    Case(
        "backend with flask",
        {"pyproject.toml": WITH_FLASK},
        FAIL,
        path="backend/pyproject.toml",
        prefix="backend/",
    ),
]


@pytest.mark.parametrize("case", FW004, ids=case_ids(FW004))
def test_fw004_single_framework(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "FW-004", case, BASE)
