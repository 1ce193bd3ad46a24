"""Project discovery (`scanners.discovery`): the Python projects of a checkout, the judged one.

Every layout below is a small project written for this test, built as a real git repository.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanners.cli import main
from scanners.context import RepoContext
from scanners.discovery import Discovery, discover
from scanners.engine import scan
from scanners.formats import render_json, render_text
from scanners.standard import load_standard
from tests.gitrepo import FileMap, make_repo
from tests.unit.scanners.samples import sample_rules_registered, write_standard
from tests.unit.scanners.test_formats import validate_report

FASTAPI_MAIN = "from fastapi import FastAPI\n\napp = FastAPI(title='svc')\n"
LITESTAR_MAIN = "from litestar import Litestar\n\n\napp = Litestar(route_handlers=[])\n"
FLASK_FACTORY = (
    "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n"
)
LIBRARY = "def helper() -> int:\n    return 1\n"


def pyproject(name: str, *deps: str, extra: str = "") -> str:
    """A minimal PEP 621 pyproject."""
    listed = ", ".join(f'"{d}"' for d in deps)
    return f'[project]\nname = "{name}"\nversion = "1"\ndependencies = [{listed}]\n{extra}'


def workspace(*members: str, exclude: tuple[str, ...] = (), project: str = "") -> str:
    """A uv workspace root pyproject (with a [project] table when `project` names one)."""
    head = pyproject(project, "fastapi") if project else '[dependency-groups]\ndev = ["ruff"]\n'
    listed = ", ".join(f'"{m}"' for m in members)
    excluded = ", ".join(f'"{m}"' for m in exclude)
    return f"{head}\n[tool.uv.workspace]\nmembers = [{listed}]\nexclude = [{excluded}]\n"


def found(tmp_path: Path, files: FileMap, named: str | None = None) -> Discovery:
    """Discovery over a repository holding `files`."""
    root = make_repo(tmp_path / "repo", files)
    return discover(RepoContext(root), named)


def kinds(result: Discovery) -> dict[str, str]:
    """Folder -> kind of every candidate."""
    return {c.folder: c.kind for c in result.candidates}


# ----- layouts -------------------------------------------------------------------------------
WORKSPACE_MEMBER_SERVICE: FileMap = {
    "pyproject.toml": workspace("backend"),
    "uv.lock": "version = 1\n",
    "backend/pyproject.toml": pyproject("api", "fastapi"),
    "backend/app/__init__.py": "",
    "backend/app/main.py": FASTAPI_MAIN,
    "frontend/package.json": "{}\n",
}


def test_workspace_root_without_project_judges_the_member_holding_the_app(
    tmp_path: Path,
) -> None:
    result = found(tmp_path, WORKSPACE_MEMBER_SERVICE)
    assert kinds(result) == {"": "workspace-root", "backend": "workspace-member"}
    assert result.chosen == "backend"
    member = result.candidate("backend")
    assert member is not None
    assert member.lock == "uv.lock"  # the workspace owns the lock
    assert member.workspace == ""
    assert member.web_app is not None
    assert member.web_app.describe() == "FastAPI app in backend/app/main.py:3"
    assert "member of the uv workspace" in result.reason
    assert result.uv_lock() == "uv.lock"
    assert result.lock_source() == "backend"


def test_workspace_root_that_is_the_service_is_judged_at_the_root(tmp_path: Path) -> None:
    files: FileMap = {
        "pyproject.toml": workspace("libs/*", project="api"),
        "uv.lock": "version = 1\n",
        "app/__init__.py": "",
        "app/main.py": FASTAPI_MAIN,
        "libs/money/pyproject.toml": pyproject("money"),
        "libs/money/money/__init__.py": LIBRARY,
        "libs/clock/pyproject.toml": pyproject("clock"),
        "libs/clock/clock/__init__.py": LIBRARY,
    }
    result = found(tmp_path, files)
    assert kinds(result) == {
        "": "workspace-root",
        "libs/clock": "workspace-member",
        "libs/money": "workspace-member",
    }
    assert result.chosen == ""
    assert "the only project" in result.reason
    assert [c.web_app is not None for c in result.candidates] == [True, False, False]
    assert result.uv_lock() == "uv.lock"
    assert result.lock_source() == "."


def test_a_members_code_is_never_counted_as_its_roots(tmp_path: Path) -> None:
    """The root only configures the workspace: the app in the member is not the root's."""
    result = found(tmp_path, WORKSPACE_MEMBER_SERVICE)
    root = result.candidate("")
    assert root is not None
    assert root.web_app is None


def test_workspace_exclude_globs_leave_a_folder_standalone(tmp_path: Path) -> None:
    files: FileMap = {
        "pyproject.toml": workspace("packages/*", exclude=("packages/legacy",)),
        "uv.lock": "version = 1\n",
        "packages/api/pyproject.toml": pyproject("api", "fastapi"),
        "packages/api/api/main.py": FASTAPI_MAIN,
        "packages/legacy/pyproject.toml": pyproject("legacy"),
        "packages/legacy/legacy.py": LIBRARY,
        "packages/legacy/uv.lock": "version = 1\n",
    }
    result = found(tmp_path, files)
    assert kinds(result)["packages/api"] == "workspace-member"
    assert kinds(result)["packages/legacy"] == "standalone"
    legacy = result.candidate("packages/legacy")
    assert legacy is not None
    assert legacy.lock == "packages/legacy/uv.lock"
    assert result.chosen == "packages/api"


MONOREPO: FileMap = {
    "README.md": "# services\n",
    "services/billing/pyproject.toml": pyproject("billing", "fastapi"),
    "services/billing/uv.lock": "version = 1\n",
    "services/billing/billing/main.py": FASTAPI_MAIN,
    "services/accounts/pyproject.toml": pyproject("accounts", "litestar"),
    "services/accounts/accounts/app.py": LITESTAR_MAIN,
    "tools/release/pyproject.toml": pyproject("release"),
    "tools/release/release.py": LIBRARY,
}


def test_several_services_judge_one_deterministically_and_list_the_others(
    tmp_path: Path,
) -> None:
    result = found(tmp_path, MONOREPO)
    assert result.chosen == "services/accounts"  # same depth: by folder name
    assert not result.named
    assert "2 projects hold a web app" in result.reason
    assert "services/billing" in result.reason
    assert [c.folder for c in result.others] == ["services/billing", "tools/release"]


def test_the_named_service_is_judged_and_the_others_listed(tmp_path: Path) -> None:
    result = found(tmp_path, MONOREPO, named="./services/billing/")
    assert result.chosen == "services/billing"
    assert result.named
    assert "named by the user" in result.reason
    assert "services/accounts" in [c.folder for c in result.others]
    assert result.uv_lock() == "services/billing/uv.lock"


def test_src_api_and_src_app_judge_the_one_with_the_web_app(tmp_path: Path) -> None:
    files: FileMap = {
        "src/api/pyproject.toml": pyproject("api", "flask"),
        "src/api/api/__init__.py": FLASK_FACTORY,
        "src/app/pyproject.toml": pyproject("worker", "celery"),
        "src/app/worker/__init__.py": LIBRARY,
    }
    result = found(tmp_path, files)
    assert set(kinds(result)) == {"src/api", "src/app"}
    assert result.chosen == "src/api"
    api = result.candidate("src/api")
    assert api is not None
    assert api.web_app is not None
    assert api.web_app.framework == "Flask"


def test_requirements_only_service_in_a_subfolder(tmp_path: Path) -> None:
    files: FileMap = {
        "README.md": "# api\n",
        "service/requirements.txt": "fastapi==0.115.0\n",
        "service/requirements/dev.txt": "pytest\n",
        "service/app/main.py": FASTAPI_MAIN,
        "scripts/requirements.txt": "requests\n",  # no Python code: not a project
    }
    result = found(tmp_path, files)
    assert kinds(result) == {"service": "requirements-only"}
    assert result.chosen == "service"
    service = result.candidate("service")
    assert service is not None
    assert service.manifest == "service/requirements.txt"


def test_requirements_inside_a_project_count_only_when_they_hold_a_service(
    tmp_path: Path,
) -> None:
    files: FileMap = {
        "pyproject.toml": pyproject("main", "fastapi"),
        "main/app.py": FASTAPI_MAIN,
        "main/plugins/mail/requirements.txt": "aiosmtplib\n",
        "main/plugins/mail/mail.py": LIBRARY,
        "telemetry/requirements.txt": "fastapi\n",
        "telemetry/server.py": FASTAPI_MAIN,
    }
    result = found(tmp_path, files)
    assert kinds(result) == {"": "standalone", "telemetry": "requirements-only"}
    assert result.chosen == ""  # the shallowest service


def test_setup_py_and_setup_cfg_projects(tmp_path: Path) -> None:
    files: FileMap = {
        "legacy/setup.py": "from setuptools import setup\n\nsetup(name='legacy')\n",
        "legacy/legacy/wsgi.py": (
            "from django.core.wsgi import get_wsgi_application\n\n"
            "application = get_wsgi_application()\n"
        ),
        "cfg/setup.cfg": "[metadata]\nname = cfg\n",
        "cfg/cfg.py": LIBRARY,
        "lint/setup.cfg": "[flake8]\nmax-line-length = 99\n",  # tool settings only
        "lint/x.py": LIBRARY,
        "app/core/setup.py": "def setup_app():\n    return None\n",  # a module, not setuptools
    }
    result = found(tmp_path, files)
    assert kinds(result) == {"cfg": "standalone", "legacy": "standalone"}
    legacy = result.candidate("legacy")
    assert legacy is not None
    assert legacy.manifest == "legacy/setup.py"
    assert legacy.web_app is not None
    assert legacy.web_app.framework == "Django"
    assert result.chosen == "legacy"


def test_virtualenvs_vendored_code_and_test_fixtures_are_never_projects(
    tmp_path: Path,
) -> None:
    files: FileMap = {
        "pyproject.toml": pyproject("svc", "fastapi"),
        "svc/lib.py": LIBRARY,
        ".venv/lib/python3.13/site-packages/fastapi/applications.py": FASTAPI_MAIN,
        "node_modules/pkg/pyproject.toml": pyproject("pkg"),
        "vendor/thing/setup.py": "from setuptools import setup\nsetup()\n",
        "tests/fixtures/other/pyproject.toml": pyproject("other", "fastapi"),
        "tests/fixtures/other/main.py": FASTAPI_MAIN,
        "svc/tests/test_app.py": FASTAPI_MAIN,  # a test builds an app: not the service's
    }
    result = found(tmp_path, files)
    assert kinds(result) == {"": "standalone"}
    root = result.candidate("")
    assert root is not None
    assert root.web_app is None
    assert "no project holds a web app" in result.reason


def test_template_folders_count_only_when_nothing_else_is_a_project(tmp_path: Path) -> None:
    template: FileMap = {
        "cookiecutter.json": "{}\n",
        "{{cookiecutter.slug}}/backend/pyproject.toml": pyproject("x", "fastapi"),
        "{{cookiecutter.slug}}/backend/app/main.py": FASTAPI_MAIN,
    }
    result = found(tmp_path / "a", template)
    assert result.chosen == "{{cookiecutter.slug}}/backend"
    assert "template" in result.reason
    with_service: FileMap = {
        **template,
        "pyproject.toml": pyproject("svc", "fastapi"),
        "svc/main.py": FASTAPI_MAIN,
        "docs/examples/pyproject.toml": pyproject("example", "fastapi"),
        "docs/examples/main.py": FASTAPI_MAIN,
    }
    result = found(tmp_path / "b", with_service)
    assert kinds(result) == {"": "standalone"}
    assert result.chosen == ""


@pytest.mark.parametrize(
    ("source", "framework"),
    [
        (FASTAPI_MAIN, "FastAPI"),
        ("import fastapi\n\napp = fastapi.FastAPI()\n", "FastAPI"),
        (LITESTAR_MAIN, "Litestar"),
        (FLASK_FACTORY, "Flask"),
        ("from quart import Quart\napp = Quart(__name__)\n", "Quart"),
        ("from sanic import Sanic\napp = Sanic('svc')\n", "Sanic"),
        ("from starlette.applications import Starlette\napp = Starlette()\n", "Starlette"),
        ("def main(config):\n    return config.make_wsgi_app()\n", "Pyramid"),
        # Django: its WSGI/ASGI entry point.
        (
            "from django.core.asgi import get_asgi_application\nx = get_asgi_application()\n",
            "Django",
        ),
        ('"""Build the FastAPI() app."""\n# app = Flask(__name__)\n', None),
    ],
)
def test_each_frameworks_application_object_is_found(
    tmp_path: Path, source: str, framework: str | None
) -> None:
    result = found(tmp_path, {"requirements.txt": "x\n", "svc/app.py": source})
    root = result.candidate("")
    assert root is not None
    assert (root.web_app.framework if root.web_app else None) == framework


def test_django_entry_point_gives_way_to_the_app_that_mounts_it(tmp_path: Path) -> None:
    django = "from django.core.asgi import get_asgi_application\nx = get_asgi_application()\n"
    result = found(
        tmp_path, {"requirements.txt": "x\n", "a/asgi.py": django, "b/main.py": FASTAPI_MAIN}
    )
    root = result.candidate("")
    assert root is not None
    assert root.web_app is not None
    assert root.web_app.path == "b/main.py"


def test_no_python_project_judges_the_root(tmp_path: Path) -> None:
    result = found(tmp_path, {"README.md": "# docs only\n", "site/index.html": "<p>\n"})
    assert result.candidates == ()
    assert result.chosen == ""
    assert "no Python project" in result.reason


@pytest.mark.parametrize(
    ("named", "fragment"),
    [("docs", "not a detected Python project"), ("nowhere", "no tracked file")],
)
def test_a_named_folder_that_is_not_a_project_is_judged_with_a_note(
    tmp_path: Path, named: str, fragment: str
) -> None:
    result = found(tmp_path, {**MONOREPO, "docs/index.md": "# docs\n"}, named=named)
    assert result.chosen == named
    assert fragment in result.reason


def test_hostile_sources_do_not_stop_discovery(tmp_path: Path) -> None:
    files: FileMap = {
        "pyproject.toml": "[project\nname = broken",
        "app/broken.py": "app = FastAPI(\n",  # names the class, does not parse
        "app/deep.py": "x = FastAPI(" + "(" * 5000 + ")" * 5000 + ")\n",
        "app/binary.py": b"\x00\x01FastAPI(",
        "app/latin.py": "# caf\xe9\nfrom flask import Flask\napp = Flask(__name__)\n".encode(
            "latin-1"
        ),
    }
    result = found(tmp_path, files)
    root = result.candidate("")
    assert root is not None
    assert root.kind == "standalone"
    assert not root.declares_project  # the pyproject does not parse
    assert root.web_app is not None
    assert root.web_app.path == "app/latin.py"


def test_project_rel_follows_discovery(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", WORKSPACE_MEMBER_SERVICE)
    assert RepoContext(root).project_rel == "backend"
    assert RepoContext(root, project_dir="./").project_rel == ""
    ctx = RepoContext(root)
    assert ctx.uv_lock_rel == "uv.lock"
    assert ctx.uv_lock == {"version": 1}


# ----- reports and the CLI -------------------------------------------------------------------
@pytest.fixture
def _sample_rules() -> Iterator[None]:
    with sample_rules_registered():
        yield


@pytest.mark.usefixtures("_sample_rules")
def test_reports_say_which_project_was_judged_and_why(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", MONOREPO)
    standard_path = write_standard(tmp_path / "standard")
    report = scan(root, standard=load_standard(standard_path))
    document = json.loads(render_json(report))
    validate_report(document)
    assert document["project_dir"] == "services/accounts"
    discovery = document["discovery"]
    assert discovery["chosen"] == "services/accounts"
    assert discovery["named"] is False
    assert {c["folder"]: c["kind"] for c in discovery["candidates"]} == {
        "services/accounts": "standalone",
        "services/billing": "standalone",
        "tools/release": "standalone",
    }
    billing = next(c for c in discovery["candidates"] if c["folder"] == "services/billing")
    assert billing["web_app"] == "FastAPI app in services/billing/billing/main.py:3"
    assert billing["lock"] == "services/billing/uv.lock"
    text = render_text(report)
    assert "project:    services/accounts: 2 projects hold a web app; judged the" in text
    assert (
        "also found: services/billing (standalone project with a web app), "
        "tools/release (standalone project)"
    ) in text


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """main(argv) -> (exit status, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_projects_command_marks_the_judged_candidate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(tmp_path / "repo", WORKSPACE_MEMBER_SERVICE)
    code, out, _ = run(capsys, "projects", str(root))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["folder", "kind", "web", "app", "lock"]
    assert lines[1].split()[:2] == [".", "workspace-root"]
    assert lines[2].split()[:3] == ["*", "backend", "workspace-member"]
    assert lines[2].split()[-1] == "uv.lock"  # its own column
    assert "FastAPI app in backend/app/main.py:3" in lines[2]
    assert lines[-1].startswith("judged: backend: the only project with a web app (FastAPI")


def test_projects_command_json_and_named_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(tmp_path / "repo", MONOREPO)
    code, out, _ = run(
        capsys, "projects", str(root), "--format", "json", "--project-dir", "services/billing"
    )
    assert code == 0
    document = json.loads(out)
    assert document["discovery"]["chosen"] == "services/billing"
    assert document["discovery"]["named"] is True
    assert len(document["discovery"]["candidates"]) == 3


def test_projects_help_has_an_example_and_top_level_help_names_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "projects", "--help")
    assert code == 0
    assert "yardstick projects ." in out
    code, out, _ = run(capsys, "--help")
    assert "yardstick projects ." in out
    code, _, err = run(capsys, "projects", "/nonexistent/folder")
    assert code == 2
    assert "no such folder" in err


@pytest.mark.usefixtures("_sample_rules")
def test_scan_refuses_a_project_dir_with_no_file_and_notes_a_non_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(tmp_path / "repo", {**MONOREPO, "docs/index.md": "# docs\n"})
    standard = str(write_standard(tmp_path / "standard"))
    code, out, err = run(
        capsys, "scan", str(root), "--standard", standard, "--project-dir", "servics/billing"
    )
    assert code == 2
    assert out == ""
    assert "no tracked file below that folder" in err
    assert "services/accounts, services/billing, tools/release" in err
    code, out, err = run(capsys, "scan", str(root), "--standard", standard, "--project-dir", "docs")
    assert code == 0
    assert "not a detected Python project" in err
    assert "project:    docs: named by the user" in out
