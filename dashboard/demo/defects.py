"""Departures from the standard that a demo history introduces or fixes, and project shapes.

A defect is a pure function of a tree: the history of a repository is the model project with
a changing set of defects applied, then its shape (src/ or app/ layout, monorepo, Poetry).
Operations on files a tree does not have are no-ops, so every defect applies to every shape.
Secrets are generated at run time from the demo's seeded random generator: nothing that
looks like a credential is stored in this repository.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

from dashboard.demo.files import Files

Apply = Callable[[Files, random.Random], Files]


@dataclass(frozen=True, slots=True)
class Defect:
    """A reversible departure from the standard, with how people describe it in commits."""

    key: str
    broke: str  # conventional commit message that introduces it
    fixed: str  # conventional commit message that removes it
    apply: Apply


def _without(files: Files, *prefixes: str) -> Files:
    return {rel: text for rel, text in files.items() if not rel.startswith(prefixes)}


def _edit(files: Files, rel: str, old: str, new: str) -> Files:
    if rel not in files or old not in files[rel]:
        return files
    return {**files, rel: files[rel].replace(old, new, 1)}


_ROUTE_IMPORTS = "from src.services.note_service import NoteService\n"
_ROUTE_DB = '''

@router.get("/recent/titles")
async def recent_titles(session: Annotated[AsyncSession, Depends(get_session)]) -> list[str]:
    """Titles of the ten newest notes, straight from the table."""
    rows = await session.execute(select(Note.title).order_by(Note.id.desc()).limit(10))
    return list(rows.scalars())
'''


def _route_db(files: Files, _rng: random.Random) -> Files:
    rel = "src/api/routes/notes.py"
    imports = (
        _ROUTE_IMPORTS + "from sqlalchemy import select\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "from src.core.database import get_session\nfrom src.models.note import Note\n"
    )
    files = _edit(files, rel, _ROUTE_IMPORTS, imports)
    return {**files, rel: files[rel] + _ROUTE_DB} if rel in files else files


def fake_token(rng: random.Random, length: int = 40) -> str:
    """A random, obviously fake credential (`demo` prefix), made at run time."""
    alphabet = string.ascii_letters + string.digits
    return "demo" + "".join(rng.choice(alphabet) for _ in range(length))


def _secret(files: Files, rng: random.Random) -> Files:
    module = (
        '"""Credentials for the partner integrations."""\n\n'
        f'PARTNER_API_TOKEN = "{fake_token(rng)}"\n'
        f'SMTP_PASSWORD = "{fake_token(rng, 16)}"\n'
    )
    return {**files, "src/core/partners.py": module}


def _broken_syntax(files: Files, _rng: random.Random) -> Files:
    module = (
        '"""Monthly usage report (work in progress)."""\n\n\n'
        "class ReportService:\n"
        '    """Builds the monthly report."""\n\n'
        "    def build(self, month: int) -> dict[str, int]:\n"
        '        """Totals for `month`."""\n'
        "        return {'month': month, 'total': sum(x for x in range(month)\n"
    )
    return {**files, "src/services/report_service.py": module}


def _lint_errors(files: Files, _rng: random.Random) -> Files:
    module = (
        "import os, sys\nimport json\n\n"
        "def dump(obj):\n    print(json.dumps(obj))\n    return eval(str(obj))\n"
    )
    return {**files, "src/core/helpers.py": module}


def _requirements_txt(files: Files, _rng: random.Random) -> Files:
    pins = "fastapi==0.115.0\nuvicorn==0.30.0\nsqlalchemy==2.0.30\npydantic==2.8.0\n"
    return {**files, "requirements.txt": pins}


def _stale_lock(files: Files, _rng: random.Random) -> Files:
    return _edit(files, "pyproject.toml", '    "fastapi', '    "orjson>=3.10",\n    "fastapi')


def _print_debugging(files: Files, _rng: random.Random) -> Files:
    rel = "src/services/note_service.py"
    return _edit(
        files, rel, '"""', '"""\n# TODO: remove debug output\nprint("note service loaded")'
    )


DEFECTS: dict[str, Defect] = {
    d.key: d
    for d in (
        Defect(
            "route_db",
            "feat(notes): recent titles endpoint",
            "refactor(notes): move recent titles query behind the service",
            _route_db,
        ),
        Defect(
            "secret",
            "feat: partner integration credentials",
            "fix(security): read partner credentials from the environment",
            _secret,
        ),
        Defect(
            "broken_syntax",
            "wip: monthly report service",
            "fix: finish the report service",
            _broken_syntax,
        ),
        Defect("lint", "feat: debug helpers", "style: drop debug helpers", _lint_errors),
        Defect(
            "print", "chore: debug output in note service", "style: remove print", _print_debugging
        ),
        Defect(
            "requirements",
            "build: requirements.txt for the old deploy script",
            "build: drop requirements.txt, uv.lock is the source",
            _requirements_txt,
        ),
        Defect(
            "stale_lock",
            "feat: faster JSON responses with orjson",
            "build: relock dependencies",
            _stale_lock,
        ),
        Defect(
            "no_tests",
            "test: remove flaky suite",
            "test: unit and integration suites",
            lambda f, _r: _without(f, "tests/"),
        ),
        Defect(
            "no_ci",
            "ci: remove workflow",
            "ci: lint, type-check, test and build on every push",
            lambda f, _r: _without(f, ".github/workflows/"),
        ),
        Defect(
            "no_precommit",
            "chore: remove pre-commit",
            "chore: pre-commit hooks",
            lambda f, _r: _without(f, ".pre-commit-config.yaml"),
        ),
        Defect(
            "no_docker",
            "build: remove Dockerfile",
            "build: multi-stage Dockerfile",
            lambda f, _r: _without(f, "Dockerfile", ".dockerignore"),
        ),
        Defect(
            "no_docs",
            "docs: remove stale docs",
            "docs: architecture overview and ADRs",
            lambda f, _r: _without(f, "docs/"),
        ),
        Defect(
            "no_env",
            "chore: drop per-environment examples",
            "docs: per-environment .env examples",
            lambda f, _r: _without(f, ".env.development", ".env.staging", ".env.production"),
        ),
    )
}


# ----- shapes ---------------------------------------------------------------------------
def app_layout(files: Files) -> Files:
    """The same project with its package in `app/` instead of `src/`."""
    out = {}
    for rel, text in files.items():
        new_rel = "app/" + rel.removeprefix("src/") if rel.startswith("src/") else rel
        text = re.sub(r"\bsrc\.", "app.", text)
        text = re.sub(r"(?<![\w-])src(?=[/\"' ])", "app", text)
        out[new_rel] = text
    return out


def monorepo(files: Files) -> Files:
    """The project under `backend/`, beside a small web frontend."""
    out = {f"backend/{rel}": text for rel, text in files.items()}
    out["README.md"] = "# Platform\n\n- `backend/`: the API (FastAPI)\n- `frontend/`: the web app\n"
    out["frontend/package.json"] = '{\n  "name": "frontend",\n  "private": true\n}\n'
    out["frontend/src/index.ts"] = 'export const api = "/api/v1";\n'
    return out


def poetry(files: Files) -> Files:
    """The project managed with Poetry: `[tool.poetry]` and poetry.lock instead of uv."""
    out = dict(files)
    out.pop("uv.lock", None)
    pyproject = out.get("pyproject.toml", "")
    out["pyproject.toml"] = pyproject.replace(
        "[tool.uv]\npackage = false\n",
        '[tool.poetry]\npackage-mode = false\n\n[build-system]\nrequires = ["poetry-core"]\n'
        'build-backend = "poetry.core.masonry.api"\n',
    )
    out["poetry.lock"] = (
        "# This file is automatically @generated by Poetry and should not be changed by hand.\n"
        '[[package]]\nname = "fastapi"\nversion = "0.115.0"\n\n[metadata]\n'
        'lock-version = "2.0"\npython-versions = ">=3.13"\n'
    )
    return out


SHAPES: dict[str, Callable[[Files], Files]] = {
    "src": lambda files: files,
    "app": app_layout,
    "monorepo": monorepo,
    "poetry": poetry,
}
