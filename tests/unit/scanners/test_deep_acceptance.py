"""Acceptance: a deep scan of a generated FastAPI project reports, per layer, the coverage that
`pytest --cov` reports when run by hand (outside the sandbox) on the same project."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scanners.deep import DeepScan, DeepScanConfig, find_uv
from scanners.engine import scan
from scanners.results import Status
from tests.gitrepo import commit_all, make_repo
from tests.unit.scanners.test_deep import config  # noqa: F401 - the module-scoped fixture

PYPROJECT = """\
[project]
name = "orders-api"
version = "0.1.0"
requires-python = ">=3.13"
dependencies = ["fastapi"]

[dependency-groups]
dev = ["pytest", "pytest-cov", "mypy"]

[tool.uv]
package = false

[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]

[tool.coverage.run]
source = ["app"]
"""

SERVICE = '''\
"""Orders: pricing and state changes."""

from app.repositories.{entity}_repository import {Entity}Repository
from app.schemas.{entity} import {Entity}


class {Entity}Service:
    """Business rules for {entity}s."""

    def __init__(self, repository: {Entity}Repository) -> None:
        self.repository = repository

    def create(self, name: str, quantity: int) -> {Entity}:
        """Create a {entity}; quantities must be positive."""
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        item = {Entity}(id=self.repository.next_id(), name=name, quantity=quantity)
        return self.repository.add(item)

    def total(self, unit_cents: int) -> int:
        """Value of every {entity} at a unit price."""
        return sum(item.quantity * unit_cents for item in self.repository.all())

    def rename(self, item_id: int, name: str) -> {Entity}:
        """Rename a {entity}."""
        item = self.repository.get(item_id)
        if item is None:
            raise KeyError(item_id)
        renamed = item.model_copy(update={{"name": name}})
        return self.repository.add(renamed)

    def cancel(self, item_id: int) -> bool:
        """Remove a {entity}; whether it existed."""
        if self.repository.get(item_id) is None:
            return False
        self.repository.remove(item_id)
        return True
'''

REPOSITORY = '''\
"""In-memory storage of {entity}s."""

from app.schemas.{entity} import {Entity}


class {Entity}Repository:
    """{Entity}s by id."""

    def __init__(self) -> None:
        self.items: dict[int, {Entity}] = {{}}

    def next_id(self) -> int:
        """The next free id."""
        return max(self.items, default=0) + 1

    def add(self, item: {Entity}) -> {Entity}:
        """Store (or replace) a {entity}."""
        self.items[item.id] = item
        return item

    def get(self, item_id: int) -> {Entity} | None:
        """A {entity} or None."""
        return self.items.get(item_id)

    def all(self) -> list[{Entity}]:
        """Every {entity}, by id."""
        return [self.items[key] for key in sorted(self.items)]

    def remove(self, item_id: int) -> None:
        """Forget a {entity}."""
        del self.items[item_id]

    def count(self) -> int:
        """How many {entity}s."""
        return len(self.items)
'''

SCHEMA = '''\
"""The {entity} schema."""

from pydantic import BaseModel


class {Entity}(BaseModel):
    """A {entity}."""

    id: int
    name: str
    quantity: int
'''

ROUTES = '''\
"""HTTP routes for {entity}s."""

from fastapi import APIRouter

from app.repositories.{entity}_repository import {Entity}Repository
from app.schemas.{entity} import {Entity}
from app.services.{entity}_service import {Entity}Service

router = APIRouter(prefix="/{entity}s")
service = {Entity}Service({Entity}Repository())


@router.post("", status_code=201)
async def create_{entity}(name: str, quantity: int) -> {Entity}:
    """Create a {entity}."""
    return service.create(name, quantity)
'''

TESTS = """\
import pytest

from app.repositories.{entity}_repository import {Entity}Repository
from app.services.{entity}_service import {Entity}Service


def test_{entity}_create_stores_it() -> None:
    service = {Entity}Service({Entity}Repository())
    assert service.create("a", 2).id == 1
{more}
"""

MORE = [
    "",
    """
def test_{entity}_create_refuses_zero() -> None:
    with pytest.raises(ValueError):
        {Entity}Service({Entity}Repository()).create("a", 0)
""",
    """
def test_{entity}_total_sums_quantities() -> None:
    service = {Entity}Service({Entity}Repository())
    service.create("a", 2)
    service.create("b", 3)
    assert service.total(10) == 50
    assert service.cancel(1) is True
    assert service.cancel(9) is False
""",
]


def generate(entities: list[str]) -> dict[str, str | bytes | None]:
    """A FastAPI project with one service, repository, schema, router and test per entity."""
    files: dict[str, str | bytes | None] = {
        "pyproject.toml": PYPROJECT,
        "app/__init__.py": "",
        "app/services/__init__.py": "",
        "app/repositories/__init__.py": "",
        "app/schemas/__init__.py": "",
        "app/api/__init__.py": "",
        "app/api/routes/__init__.py": "",
        "tests/__init__.py": "",
    }
    imports = []
    for index, entity in enumerate(entities):
        names = {"entity": entity, "Entity": entity.capitalize()}
        files[f"app/services/{entity}_service.py"] = SERVICE.format(**names)
        files[f"app/repositories/{entity}_repository.py"] = REPOSITORY.format(**names)
        files[f"app/schemas/{entity}.py"] = SCHEMA.format(**names)
        files[f"app/api/routes/{entity}s.py"] = ROUTES.format(**names)
        more = "".join(m.format(**names) for m in MORE[: index % len(MORE) + 1])
        files[f"tests/test_{entity}_service.py"] = TESTS.format(more=more, **names)
        imports.append(f"from app.api.routes.{entity}s import router as {entity}_router")
    includes = "".join(f"app.include_router({e}_router)\n" for e in entities)
    files["app/main.py"] = (
        '"""The API."""\n\nfrom fastapi import FastAPI\n\n'
        + "\n".join(imports)
        + '\n\napp = FastAPI(title="Orders")\n'
        + includes
    )
    return files


def by_hand(project: Path, cache: Path) -> dict[str, str]:
    """`pytest --cov` run by hand outside the sandbox; coverage's own total per layer."""
    env = {**os.environ, "UV_CACHE_DIR": str(cache), "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    uv = str(find_uv(DeepScanConfig(project, cache)))
    subprocess.run([uv, "sync", "--frozen", "-q"], cwd=project, env=env, check=True)
    python = str(project / ".venv" / "bin" / "python")
    subprocess.run([python, "-m", "pytest", "--cov", "-q"], cwd=project, env=env, check=True)
    totals = {}
    for layer in ("services", "repositories"):
        out = subprocess.run(
            [python, "-m", "coverage", "report", f"--include=app/{layer}/*", "--precision=1"],
            cwd=project, env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        match = re.search(r"^TOTAL\s.*?(\d+\.\d)%$", out, re.MULTILINE)
        assert match, out
        totals[layer] = match.group(1)
    return totals


@pytest.mark.slow
@pytest.mark.requires_bwrap
def test_per_layer_coverage_equals_pytest_cov_run_by_hand(
    tmp_path: Path,
    config: DeepScanConfig,  # noqa: F811
) -> None:
    repo = make_repo(tmp_path / "orders-api", generate(["order", "invoice", "parcel", "refund"]))
    env = {**os.environ, "UV_CACHE_DIR": str(config.cache_dir), "UV_PYTHON_DOWNLOADS": "never"}
    uv = str(find_uv(config))
    subprocess.run([uv, "lock", "-q"], cwd=repo, env=env, check=True)  # resolves from the index
    commit_all(repo, "build: lock")
    result = DeepScan(config).run(repo)
    assert result.reports.why == {}, result.detail
    outcome = scan(repo, only={"TST-006"}, reports=result.reports).outcomes[0].result
    assert outcome.status is Status.FAIL, outcome

    by_hand_copy = tmp_path / "by-hand"
    shutil.copytree(repo, by_hand_copy, ignore=shutil.ignore_patterns(".git"))
    expected = by_hand(by_hand_copy, config.cache_dir)
    assert outcome.message.startswith(
        f"services {expected['services']}%, repositories {expected['repositories']}%"
    ), (outcome.message, expected)
    tests = result.reports.tests
    assert tests is not None
    assert (tests.total, tests.failures) == (7, ())  # 1 + 2 + 3 + 1 tests
