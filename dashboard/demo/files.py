"""Source trees for the demo: the model project and the files generated beside it.

The model project is the golden project (`golden/`, the fully compliant FastAPI service the
engine's tests also start from, through `GOLDEN_DIR`). Our own linters, type checker, bandit
and test collector leave that folder alone (pyproject.toml). The demo takes its files as they
are, renamed, but makes its own lock and environment examples: the golden project's real
`uv.lock` (hundreds of KB) and its `*.fixture` files (stored so because our `.gitignore` hides
`.env.*`) are replaced by the small generated ones below, which the demo's defects rewrite.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from scanners import tomlparse

#: The golden project: package data, the one copy shipped for the demo and used by the tests.
GOLDEN_DIR = Path(__file__).parent / "golden"
#: The golden project's name, replaced by each demo repository's own.
TEMPLATE_NAME = "notes-service"

#: A tree: repository-relative posix path -> text.
Files = dict[str, str]

#: Golden files the demo generates itself rather than copies (see `model_project`).
_GENERATED = frozenset({"uv.lock"})
#: Folders of tool caches a local run may leave in the golden project.
_CACHES = frozenset({".ruff_cache", ".mypy_cache", ".pytest_cache", "__pycache__", ".venv"})


def _placeholder(environment: str) -> str:
    """What the demo's example env files hold where a real secret belongs."""
    return f"change-me-{environment}"


#: Per-environment example files: header, then `KEY=value` overrides of `.env.example`.
_ENVIRONMENTS: dict[str, dict[str, str]] = {
    "development": {
        "DATABASE_URL": "postgresql+asyncpg://app@localhost:5432/app_dev",
        "DATABASE_ECHO": "true",
        "JWT_SECRET_KEY": _placeholder("development"),
    },
    "staging": {
        "ENVIRONMENT": "staging",
        "DEBUG": "false",
        "LOG_LEVEL": "INFO",
        "LOG_JSON": "true",
        "DATABASE_URL": "postgresql+asyncpg://app@db.staging.internal:5432/app",
        "REDIS_URL": "redis://cache.staging.internal:6379/0",
        "JWT_SECRET_KEY": _placeholder("staging"),
        "CORS_ORIGINS": '["https://staging.example.com"]',
        "RATE_LIMIT_STORAGE_URI": "redis://cache.staging.internal:6379/1",
    },
    "production": {
        "ENVIRONMENT": "production",
        "DEBUG": "false",
        "LOG_LEVEL": "INFO",
        "LOG_JSON": "true",
        "DATABASE_URL": "postgresql+asyncpg://app@db.production.internal:5432/app",
        "DATABASE_POOL_SIZE": "20",
        "REDIS_URL": "redis://cache.production.internal:6379/0",
        "JWT_SECRET_KEY": _placeholder("production"),
        "CORS_ORIGINS": '["https://app.example.com"]',
        "RATE_LIMIT_STORAGE_URI": "redis://cache.production.internal:6379/1",
    },
}


@cache
def _template() -> tuple[tuple[str, str], ...]:
    """The golden project's files the demo copies: all but the lock and `*.fixture` files."""
    out = []
    for path in sorted(GOLDEN_DIR.rglob("*")):
        rel = path.relative_to(GOLDEN_DIR)
        if not path.is_file() or _CACHES.intersection(rel.parts) or path.suffix == ".fixture":
            continue
        if rel.as_posix() not in _GENERATED:
            out.append((rel.as_posix(), path.read_text("utf-8")))
    return tuple(out)


def model_project(name: str = TEMPLATE_NAME) -> Files:
    """The fully compliant FastAPI project, renamed to `name`, with its env files and lock."""
    files = {rel: text.replace(TEMPLATE_NAME, name) for rel, text in _template()}
    files.update(env_examples(files[".env.example"]))
    files["uv.lock"] = uv_lock(files["pyproject.toml"])
    return files


def env_examples(base: str) -> Files:
    """`.env.<environment>.example` files derived from `.env.example`."""
    out = {}
    for environment, overrides in _ENVIRONMENTS.items():
        lines = [f"# {environment.capitalize()} settings: copy to `.env` on that host and adjust."]
        for line in base.splitlines()[1:]:
            key = line.split("=", 1)[0]
            lines.append(f"{key}={overrides[key]}" if "=" in line and key in overrides else line)
        out[f".env.{environment}.example"] = "\n".join(lines) + "\n"
    return out


def _locked_version(req: Requirement, revision: int) -> str:
    for spec in req.specifier:
        if spec.operator in (">=", "==", "~="):
            parts = [*spec.version.split("."), "0"][:3]
            if parts[-1].isdigit():
                parts[-1] = str(int(parts[-1]) + revision)
            return ".".join(parts)
    return f"1.0.{revision}"


def _requirements(raws: list[str]) -> list[Requirement]:
    out = []
    for raw in raws:
        try:
            out.append(Requirement(raw))
        except InvalidRequirement:
            continue
    return out


def _metadata_entry(req: Requirement) -> str:
    extras = f", extras = [{', '.join(repr(e) for e in sorted(req.extras))}]" if req.extras else ""
    spec = f', specifier = "{req.specifier}"' if str(req.specifier) else ""
    return f'    {{ name = "{req.name}"{extras}{spec} }},'.replace("'", '"')


def uv_lock(pyproject: str, revision: int = 0) -> str:
    """A small but well-formed uv.lock recording `pyproject`'s requirements.

    Each requirement is locked at its lower bound (plus `revision` in the patch number, so a
    refresh changes the file); the root package's metadata mirrors the declarations, which is
    what the staleness rule compares. Package hashes and wheels are left out.
    """
    doc = tomlparse.loads(pyproject)
    project = doc.get("project", {})
    runtime = _requirements(list(project.get("dependencies", [])))
    groups = {
        group: _requirements([r for r in reqs if isinstance(r, str)])
        for group, reqs in doc.get("dependency-groups", {}).items()
    }
    grouped = [req for reqs in groups.values() for req in reqs]
    every = sorted({r.name: r for r in [*runtime, *grouped]}.items())
    out = ["version = 1", "revision = 3", 'requires-python = ">=3.13"', ""]
    for name, req in every:
        out += [
            "[[package]]",
            f'name = "{name}"',
            f'version = "{_locked_version(req, revision)}"',
            'source = { registry = "https://pypi.org/simple" }',
            "",
        ]
    out += [
        "[[package]]",
        f'name = "{project.get("name", "app")}"',
        f'version = "{project.get("version", "0.1.0")}"',
        'source = { virtual = "." }',
        "",
        "[package.metadata]",
        "requires-dist = [",
        *(_metadata_entry(r) for r in runtime),
        "]",
        "",
        "[package.metadata.requires-dev]",
    ]
    for group, reqs in groups.items():
        out += [f"{group} = [", *(_metadata_entry(r) for r in reqs), "]"]
    return "\n".join(out) + "\n"


def flask_project(name: str) -> Files:
    """A small Flask service managed with uv: tests and CI, but not the standard's framework."""
    pyproject = (
        f'[project]\nname = "{name}"\nversion = "0.4.0"\nrequires-python = ">=3.13"\n'
        'dependencies = [\n    "flask>=3.1",\n    "gunicorn>=23.0",\n]\n\n'
        '[dependency-groups]\ndev = [\n    "pytest>=9.0",\n    "ruff>=0.17",\n]\n\n'
        "[tool.uv]\npackage = false\n\n[tool.ruff]\nline-length = 100\n"
    )
    return {
        "pyproject.toml": pyproject,
        "uv.lock": uv_lock(pyproject),
        ".python-version": "3.13\n",
        ".gitignore": ".venv/\n__pycache__/\n.env\n",
        "README.md": f"# {name}\n\nA Flask service: `uv run flask --app src.main run`.\n",
        "src/__init__.py": "",
        "src/main.py": (
            '"""The Flask application."""\n\nfrom flask import Flask, jsonify\n\n'
            "app = Flask(__name__)\n\n\n"
            '@app.get("/health")\ndef health() -> object:\n'
            '    """Liveness."""\n    return jsonify(status="ok")\n'
        ),
        "tests/__init__.py": "",
        "tests/test_main.py": (
            '"""Health endpoint."""\n\nfrom src.main import app\n\n\n'
            "def test_health() -> None:\n"
            '    """It answers ok."""\n'
            '    assert app.test_client().get("/health").json == {"status": "ok"}\n'
        ),
        ".github/workflows/ci.yml": (
            "name: CI\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - uses: actions/checkout@v4\n      - uses: astral-sh/setup-uv@v6\n"
            "      - run: uv sync --locked\n      - run: uv run pytest\n"
        ),
    }
