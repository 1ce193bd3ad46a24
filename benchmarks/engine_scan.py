"""Benchmark: full static scan of a generated ~50,000-line FastAPI repository against its floor.

The repository is the golden project (dashboard/demo/golden) plus generated domains: for each
entity a model, schemas, a repository, a service, a router and unit/integration tests, in
the golden project's style (classes, docstrings, imports across layers). It is committed to
a real git repository in a temporary folder.

Timed in one process pinned to one core (child processes such as ruff inherit the pin):
- floor: one `ruff check --isolated` over the same files with the scanner's selection
  (scanners/analysis/lint.py), plus reading and `ast.parse` of every one of those files;
- full scan: `scanners.engine.scan()` with every rule of the default standard and a fresh
  `RepoContext` each run;
- rescan of an unchanged commit: `Workspace.resolve()` on a warm mirror of the repository
  (one `git fetch` plus the ref lookup: what the dashboard pays before it skips a commit it
  has already scanned).
Each is run `--runs` times (default 3), in rounds of one run of each, so that a ratio compares
runs made side by side on a machine whose speed drifts; the table gives best and median, and
the scan / floor ratio of each round (the target is judged on its median).

Run: `uv run python benchmarks/engine_scan.py [--lines 50000] [--runs 3] [--keep DIR]`
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from dashboard.demo.files import GOLDEN_DIR
from scanners.analysis.lint import DEFAULT_SELECT, LintConfig, lint_targets, ruff_binary
from scanners.analysis.nodes import indexing, walk
from scanners.context import RepoContext
from scanners.engine import scan
from scanners.gcpause import gc_paused
from scanners.rules import registry
from scanners.workspace import Workspace, WorkspacePolicy

ROOT = Path(__file__).resolve().parents[1]
OSV_FIXTURE = ROOT / "tests" / "fixtures" / "osv"
NOUNS = (
    "invoice", "customer", "order", "product", "shipment", "payment", "refund", "coupon",
    "supplier", "warehouse", "ticket", "project", "task", "comment", "attachment", "label",
    "team", "member", "report", "metric", "alert", "device", "sensor", "reading", "contract",
    "vendor", "budget", "expense", "receipt", "course", "lesson", "quiz", "answer", "badge",
    "shelf", "venue", "booking", "seat", "review", "rating", "article", "author", "tag",
    "playlist", "track", "album", "artist", "podcast", "episode", "channel",
)  # fmt: skip
FIELD_TYPES = (
    ("name", "str", "String(120)", '"Acme"'),
    ("code", "str", "String(32)", '"AC-001"'),
    ("amount_cents", "int", "Integer", "1999"),
    ("quantity", "int", "Integer", "3"),
    ("description", "str", "Text", '"A short description."'),
    ("priority", "int", "Integer", "2"),
    ("status", "str", "String(20)", '"active"'),
    ("reference", "str", "String(64)", '"REF-42"'),
)

MODEL = '''\
"""The {entity} table."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from src.models.base import Base


class {Entity}(Base):
    """A {entity} owned by a user."""

    __tablename__ = "{entities}"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
{columns}
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    def __repr__(self) -> str:
        """Identify the row in logs without its content."""
        return f"{Entity}(id={{self.id!r}}, owner_id={{self.owner_id!r}})"


__all__ = ["{Entity}", "Integer", "String", "Text"]
'''
SCHEMAS = '''\
"""Request and response bodies of the {entity} endpoints."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class {Entity}Base(BaseModel):
    """Fields a client may set on a {entity}."""

{schema_fields}


class {Entity}Create({Entity}Base):
    """Body of `POST /{entities}`."""


class {Entity}Update(BaseModel):
    """Body of `PATCH /{entities}/{{id}}`: every field optional."""

{optional_fields}


class {Entity}Response({Entity}Base):
    """A {entity} as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(examples=[7])
    owner_id: int = Field(examples=[4])
    created_at: datetime = Field(examples=["2026-01-31T09:30:00Z"])
    updated_at: datetime = Field(examples=["2026-02-01T10:00:00Z"])
'''
REPOSITORY = '''\
"""Data access for {entities}."""

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.{entity} import {Entity}
from src.repositories.base import BaseRepository


class {Entity}Repository(BaseRepository[{Entity}]):
    """Queries on the {entities} table."""

    def __init__(self, session: AsyncSession) -> None:
        """Bind the repository to a session.

        Args:
            session: The unit of work of the current request.
        """
        super().__init__(session, {Entity})

    async def get_for_owner(self, owner_id: int, {entity}_id: int) -> {Entity} | None:
        """Return one of the owner's {entities}.

        Args:
            owner_id: The owner's user id.
            {entity}_id: The {entity}'s id.

        Returns:
            The {entity}, or None when it does not exist or belongs to someone else.
        """
        query = select({Entity}).where({Entity}.id == {entity}_id, {Entity}.owner_id == owner_id)
        result = await self.session.execute(query)
        return result.scalar_one_or_none()

    async def list_for_owner(self, owner_id: int, offset: int, limit: int) -> Sequence[{Entity}]:
        """Return a page of the owner's {entities}, newest first.

        Args:
            owner_id: The owner's user id.
            offset: Rows to skip.
            limit: Rows to return at most.

        Returns:
            The page of {entities}.
        """
        query = (
            select({Entity})
            .where({Entity}.owner_id == owner_id)
            .order_by({Entity}.created_at.desc(), {Entity}.id.desc())
            .offset(offset)
            .limit(limit)
        )
        result = await self.session.execute(query)
        return result.scalars().all()

    async def count_for_owner(self, owner_id: int) -> int:
        """Count the owner's {entities}.

        Args:
            owner_id: The owner's user id.

        Returns:
            How many {entities} the owner has.
        """
        query = select(func.count()).select_from({Entity}).where({Entity}.owner_id == owner_id)
        return int((await self.session.execute(query)).scalar_one())
'''
SERVICE = '''\
"""Business rules for {entities}: ownership, pagination and change events."""

import logging

from src.exceptions import NotFoundError
from src.models.{entity} import {Entity}
from src.repositories.{entity}_repository import {Entity}Repository
from src.schemas.{entity} import {Entity}Create, {Entity}Response, {Entity}Update
from src.schemas.pagination import PageParams, PaginatedResponse
from src.services.event_service import EventService

logger = logging.getLogger(__name__)


class {Entity}Service:
    """{Entities} of one owner at a time."""

    def __init__(self, {entities}: {Entity}Repository, events: EventService) -> None:
        """Create the service.

        Args:
            {entities}: Repository of {entities}.
            events: Publisher of change events.
        """
        self._{entities} = {entities}
        self._events = events

    async def create(self, owner_id: int, payload: {Entity}Create) -> {Entity}Response:
        """Create a {entity} for its owner.

        Args:
            owner_id: The owner's user id.
            payload: The new {entity}'s fields.

        Returns:
            The new {entity}.
        """
        {entity} = await self._{entities}.add({Entity}(owner_id=owner_id, **payload.model_dump()))
        logger.info("{entity} created", extra={{"user_id": owner_id, "{entity}_id": {entity}.id}})
        await self._events.publish("{entity}.created", {{"id": {entity}.id, "owner_id": owner_id}})
        return {Entity}Response.model_validate({entity})

    async def get(self, owner_id: int, {entity}_id: int) -> {Entity}Response:
        """Return one of the owner's {entities}.

        Args:
            owner_id: The caller's user id.
            {entity}_id: The {entity}'s id.

        Returns:
            The {entity}.

        Raises:
            NotFoundError: No such {entity} for this owner.
        """
        {entity} = await self._{entities}.get_for_owner(owner_id, {entity}_id)
        if {entity} is None:
            raise NotFoundError("{Entity}", {entity}_id)
        return {Entity}Response.model_validate({entity})

    async def list_page(
        self, owner_id: int, params: PageParams
    ) -> PaginatedResponse[{Entity}Response]:
        """Return one page of the owner's {entities}.

        Args:
            owner_id: The caller's user id.
            params: Page number and size.

        Returns:
            The page with its metadata.
        """
        rows = await self._{entities}.list_for_owner(owner_id, params.offset, params.per_page)
        total = await self._{entities}.count_for_owner(owner_id)
        items = [{Entity}Response.model_validate(row) for row in rows]
        return PaginatedResponse[{Entity}Response].build(items, total, params)

    async def update(
        self, owner_id: int, {entity}_id: int, payload: {Entity}Update
    ) -> {Entity}Response:
        """Change some fields of one of the owner's {entities}.

        Args:
            owner_id: The caller's user id.
            {entity}_id: The {entity}'s id.
            payload: The fields to change.

        Returns:
            The updated {entity}.

        Raises:
            NotFoundError: No such {entity} for this owner.
        """
        {entity} = await self._{entities}.get_for_owner(owner_id, {entity}_id)
        if {entity} is None:
            raise NotFoundError("{Entity}", {entity}_id)
        changes = payload.model_dump(exclude_unset=True)
        updated = await self._{entities}.update({entity}, changes)
        logger.info("{entity} updated", extra={{"user_id": owner_id, "{entity}_id": {entity}_id}})
        return {Entity}Response.model_validate(updated)

    async def delete(self, owner_id: int, {entity}_id: int) -> None:
        """Delete one of the owner's {entities}.

        Args:
            owner_id: The caller's user id.
            {entity}_id: The {entity}'s id.

        Raises:
            NotFoundError: No such {entity} for this owner.
        """
        {entity} = await self._{entities}.get_for_owner(owner_id, {entity}_id)
        if {entity} is None:
            raise NotFoundError("{Entity}", {entity}_id)
        await self._{entities}.delete({entity})
        await self._events.publish("{entity}.deleted", {{"id": {entity}_id, "owner_id": owner_id}})
'''
PROVIDER = '''\
"""Dependency providers of the {entity} endpoints."""

from src.api.dependencies import ResourcesDep, SessionDep
from src.repositories.{entity}_repository import {Entity}Repository
from src.services.event_service import EventService
from src.services.{entity}_service import {Entity}Service


def get_{entity}_service(session: SessionDep, resources: ResourcesDep) -> {Entity}Service:
    """Build the {entity} service for this request.

    Args:
        session: The request's session.
        resources: The application's resources.

    Returns:
        The service.
    """
    events = EventService(resources.http_client, resources.settings.NOTES_WEBHOOK_URL)
    return {Entity}Service({Entity}Repository(session), events)
'''
ROUTES = '''\
"""{Entity} endpoints: the authenticated user's {entities}."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from src.api.dependencies import CurrentUser
from src.api.providers.{entity} import get_{entity}_service
from src.schemas.common import ErrorResponse
from src.schemas.{entity} import {Entity}Create, {Entity}Response, {Entity}Update
from src.schemas.pagination import PageParams, PaginatedResponse
from src.services.{entity}_service import {Entity}Service

router = APIRouter(
    prefix="/{entities}",
    tags=["{entities}"],
    responses={{401: {{"model": ErrorResponse}}, 422: {{"model": ErrorResponse}}}},
)

ServiceDep = Annotated[{Entity}Service, Depends(get_{entity}_service)]
{Entity}Id = Annotated[int, Path(ge=1, description="The {entity}'s id.")]


@router.get("", response_model=PaginatedResponse[{Entity}Response])
async def list_{entities}(
    user: CurrentUser,
    service: ServiceDep,
    page: Annotated[int, Query(ge=1, description="Page number, from 1.")] = 1,
    per_page: Annotated[int, Query(ge=1, le=100, description="Items per page.")] = 20,
) -> PaginatedResponse[{Entity}Response]:
    """List the caller's {entities}, newest first, one page at a time."""
    return await service.list_page(user.id, PageParams(page=page, per_page=per_page))


@router.post("", response_model={Entity}Response, status_code=status.HTTP_201_CREATED)
async def create_{entity}(
    payload: {Entity}Create, user: CurrentUser, service: ServiceDep
) -> {Entity}Response:
    """Create a {entity} owned by the caller."""
    return await service.create(user.id, payload)


@router.get("/{{{entity}_id}}", response_model={Entity}Response)
async def read_{entity}(
    {entity}_id: {Entity}Id, user: CurrentUser, service: ServiceDep
) -> {Entity}Response:
    """Return one of the caller's {entities}."""
    return await service.get(user.id, {entity}_id)


@router.patch("/{{{entity}_id}}", response_model={Entity}Response)
async def update_{entity}(
    {entity}_id: {Entity}Id, payload: {Entity}Update, user: CurrentUser, service: ServiceDep
) -> {Entity}Response:
    """Change some fields of one of the caller's {entities}."""
    return await service.update(user.id, {entity}_id, payload)


@router.delete("/{{{entity}_id}}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_{entity}({entity}_id: {Entity}Id, user: CurrentUser, service: ServiceDep) -> None:
    """Delete one of the caller's {entities}."""
    await service.delete(user.id, {entity}_id)
'''
SERVICE_TEST = '''\
"""Unit tests of `{Entity}Service`, with the repository mocked."""

from unittest.mock import AsyncMock

import pytest

from src.exceptions import NotFoundError
from src.repositories.{entity}_repository import {Entity}Repository
from src.services.event_service import EventService
from src.services.{entity}_service import {Entity}Service


@pytest.fixture
def {entities}() -> AsyncMock:
    """A mocked repository."""
    return AsyncMock(spec={Entity}Repository)


@pytest.fixture
def service({entities}: AsyncMock) -> {Entity}Service:
    """The service under test."""
    return {Entity}Service({entities}, AsyncMock(spec=EventService))


async def test_get_missing_{entity}_raises_not_found(
    service: {Entity}Service, {entities}: AsyncMock
) -> None:
    """An unknown id is reported as missing."""
    {entities}.get_for_owner.return_value = None

    with pytest.raises(NotFoundError):
        await service.get(4, 12)


async def test_delete_missing_{entity}_raises_not_found(
    service: {Entity}Service, {entities}: AsyncMock
) -> None:
    """Deleting an unknown id is reported as missing and deletes nothing."""
    {entities}.get_for_owner.return_value = None

    with pytest.raises(NotFoundError):
        await service.delete(4, 12)
    {entities}.delete.assert_not_awaited()
'''
REPOSITORY_TEST = '''\
"""Unit tests of `{Entity}Repository` on SQLite."""

from sqlalchemy.ext.asyncio import AsyncSession

from src.repositories.{entity}_repository import {Entity}Repository


async def test_count_for_owner_without_rows_returns_zero(session: AsyncSession) -> None:
    """An owner without {entities} has none."""
    assert await {Entity}Repository(session).count_for_owner(404) == 0


async def test_get_for_owner_unknown_id_returns_none(session: AsyncSession) -> None:
    """An unknown id gives None."""
    assert await {Entity}Repository(session).get_for_owner(1, 12345) is None
'''


def _fields(index: int) -> list[tuple[str, str, str, str]]:
    count = 3 + index % 5
    return [FIELD_TYPES[(index + i) % len(FIELD_TYPES)] for i in range(count)]


def entity_files(index: int) -> dict[str, str]:
    """Every file of one generated domain."""
    noun = NOUNS[index % len(NOUNS)]
    entity = noun if index < len(NOUNS) else f"{noun}{index // len(NOUNS)}"
    names = {"entity": entity, "Entity": entity.title(), "entities": f"{entity}s"}
    names["Entities"] = names["entities"].title()
    fields = _fields(index)
    names["columns"] = "\n".join(
        f"    {n}: Mapped[{t}] = mapped_column({col})" for n, t, col, _ in fields
    )
    names["schema_fields"] = "\n".join(
        f"    {n}: {t} = Field(examples=[{example}])" for n, t, _, example in fields
    )
    names["optional_fields"] = "\n".join(
        f"    {n}: {t} | None = Field(default=None, examples=[{example}])"
        for n, t, _, example in fields
    )
    return {
        f"src/models/{entity}.py": MODEL.format(**names),
        f"src/schemas/{entity}.py": SCHEMAS.format(**names),
        f"src/repositories/{entity}_repository.py": REPOSITORY.format(**names),
        f"src/services/{entity}_service.py": SERVICE.format(**names),
        f"src/api/routes/{names['entities']}.py": ROUTES.format(**names),
        f"src/api/providers/{entity}.py": PROVIDER.format(**names),
        f"tests/unit/test_{entity}_service.py": SERVICE_TEST.format(**names),
        f"tests/unit/test_{entity}_repository.py": REPOSITORY_TEST.format(**names),
    }


def golden() -> dict[str, str | bytes]:
    """The golden project's files (fixture names without their `.fixture` suffix)."""
    caches = {".ruff_cache", ".mypy_cache", ".pytest_cache", "__pycache__"}
    out: dict[str, str | bytes] = {}
    for path in sorted(GOLDEN_DIR.rglob("*")):
        rel = path.relative_to(GOLDEN_DIR)
        if path.is_file() and not caches.intersection(rel.parts):
            out[rel.as_posix().removesuffix(".fixture")] = path.read_bytes()
    return out


def generate(root: Path, target_lines: int) -> tuple[int, int]:
    """Write the repository and commit it; return (Python files, Python lines)."""
    files: dict[str, str | bytes] = golden()
    golden_names = set(files)
    lines = sum(str(c, "utf-8").count("\n") for p, c in files.items() if p.endswith(".py"))
    index = 0
    while lines < target_lines:
        for rel, text in entity_files(index).items():
            files[rel] = text
            lines += text.count("\n")
        index += 1
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    tidy(root, [rel for rel in files if rel.endswith(".py") and rel not in golden_names])
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "feat: all"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    return sum(1 for rel in files if rel.endswith(".py")), lines


def tidy(root: Path, generated: list[str]) -> None:
    """Sort imports, drop unused ones and format the generated modules (not timed)."""
    binary = ruff_binary()
    assert binary is not None, "ruff is not installed"
    common = ["--isolated", "--line-length", "100", "--target-version", "py313"]
    subprocess.run(
        [binary, "check", *common, "--select", "I,F401", "--fix", "--exit-zero", "-q", *generated],
        cwd=root,
        check=True,
    )
    subprocess.run([binary, "format", *common, "-q", *generated], cwd=root, check=True)


def ruff_floor(root: Path, files: list[str]) -> None:
    """One `ruff check --isolated` with the scanner's own arguments (lint.py)."""
    config = LintConfig()
    binary = ruff_binary()
    assert binary is not None, "ruff is not installed"
    args = [
        binary, "check", "--isolated", "--no-cache", "--exit-zero", "--output-format", "json",
        "--select", ",".join(DEFAULT_SELECT), "--line-length", str(config.line_length),
        "--target-version", config.target_version,
        "--config", f"lint.pydocstyle.convention='{config.docstring_convention}'", "--", *files,
    ]  # fmt: skip
    subprocess.run(args, cwd=root, check=True, capture_output=True)


def parse_all(root: Path, files: list[str]) -> None:
    """Read and `ast.parse` every file once."""
    for rel in files:
        ast.parse((root / rel).read_text("utf-8"), filename=rel)


def mandatory_work(root: Path) -> None:
    """What every full scan pays before any rule judges anything (a lower bound of a scan).

    List and read the tracked files and parse the Python ones (kept, as rules need them),
    one `ruff check` and one `ruff format --check` (STY-002), parse `uv.lock` (DEP, DSEC-003)
    and walk every tree once in Python (`nodes.walk`: the least any analysis written in
    Python does to look below the top-level statements).
    """
    ctx = RepoContext(root)
    with indexing(), gc_paused():  # as `engine.scan` does
        for module in ctx.python_files:
            if module.tree is not None:
                walk(module.tree)
        ctx.lint  # noqa: B018 - cached properties: computing them is the point
        ctx.format_check  # noqa: B018
        ctx.uv_lock  # noqa: B018


def resolve_times(root: Path, cache: Path, runs: int) -> list[float]:
    """`Workspace.resolve` of the repository on a warm mirror (the first, cold call untimed)."""
    workspace = Workspace(WorkspacePolicy(allow_local_paths=True, cache_dir=cache))
    workspace.resolve(str(root))
    return timed(lambda: workspace.resolve(str(root)), runs)


def timed(func: Callable[[], object], runs: int, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock seconds of `runs` calls; CPU seconds (this process and its children,
    user + system) appended to `cpu` when given: steadier than wall time on a shared machine.
    """
    out = []
    for _ in range(runs):
        before = _cpu_seconds()
        started = time.perf_counter()
        func()
        out.append(time.perf_counter() - started)
        if cpu is not None:
            cpu.append(_cpu_seconds() - before)
    return out


def _cpu_seconds() -> float:
    """User + system CPU of this process and of its waited-for children (ruff, git)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def pin_one_core() -> str:
    """Pin this process (and its children) to one CPU; say which."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo, else platform.processor()."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit() -> str:
    """The benchmarked engine's commit (short), with `+dirty` for local changes."""

    def run(*args: str) -> str:
        return subprocess.run(
            ["git", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()

    sha = run("rev-parse", "--short", "HEAD") or "unknown"
    return sha + ("+dirty" if run("status", "--porcelain", "--", "scanners") else "")


def main() -> int:
    """Generate, time, print the results table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000, help="Python lines to generate")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each measurement")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    parser.add_argument("--profile", action="store_true", help="cProfile one full scan")
    args = parser.parse_args()
    os.environ.setdefault("YARDSTICK_ADVISORY_DB", str(OSV_FIXTURE))
    pinned = pin_one_core()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="yardstick-bench-"))
    try:
        root = workdir / "repo"
        root.mkdir(parents=True)
        py_files, py_lines = generate(root, args.lines)
        files = lint_targets(RepoContext(root))
        ruff_cpu: list[float] = []
        parse_cpu: list[float] = []
        mandatory_cpu: list[float] = []
        scan_cpu: list[float] = []
        ruff_times: list[float] = []
        parse_times: list[float] = []
        mandatory_times: list[float] = []
        scan_times: list[float] = []
        reports = []
        # Rounds, each timing every measurement once: a shared machine's speed drifts over
        # tens of seconds, and a ratio is only fair between runs made side by side.
        for _ in range(args.runs):
            ruff_times += timed(lambda: ruff_floor(root, files), 1, ruff_cpu)
            parse_times += timed(lambda: parse_all(root, files), 1, parse_cpu)
            mandatory_times += timed(lambda: mandatory_work(root), 1, mandatory_cpu)
            scan_times += timed(lambda: reports.append(scan(root)), 1, scan_cpu)
        rescan_times = resolve_times(root, workdir / "cache", args.runs)
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(scan, root)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    report = reports[-1]
    floor = min(ruff_times) + min(parse_times)
    best, median = min(scan_times), statistics.median(scan_times)
    statuses = Counter(o.result.status.value for o in report.outcomes)
    slowest = sorted(report.outcomes, key=lambda o: o.duration_ms, reverse=True)[:5]
    print(f"# Engine scan benchmark ({datetime.now(UTC):%Y-%m-%d}, commit {git_commit()})\n")
    print(
        f"- machine: {cpu_model()}, nproc {os.cpu_count()}, {pinned}; Python "
        f"{platform.python_version()}, ruff {report.tool_versions.get('ruff', '?')}"
    )
    print(
        f"- repository: {py_files} Python files, {py_lines:,} Python lines, "
        f"{len(report.outcomes)} rules ({len(registry())} implemented); statuses "
        + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    )
    print("- slowest rules: " + ", ".join(f"{o.spec.id} {o.duration_ms:.0f} ms" for o in slowest))
    print()
    floor_cpu = min(ruff_cpu) + min(parse_cpu)
    print("| measurement | best (s) | median (s) | best CPU (s) |")
    print("|---|---:|---:|---:|")
    rows = [
        ("ruff check --isolated (floor part)", ruff_times, ruff_cpu),
        ("read + ast.parse every file (floor part)", parse_times, parse_cpu),
    ]
    for label, times, cpu in rows:
        print(f"| {label} | {min(times):.3f} | {statistics.median(times):.3f} | {min(cpu):.3f} |")
    print(f"| **floor** (sum of bests) | {floor:.3f} | | {floor_cpu:.3f} |")
    label = "mandatory work of any scan (parse, ruff check + format, uv.lock, one walk)"
    print(
        f"| {label} | {min(mandatory_times):.3f} | {statistics.median(mandatory_times):.3f} | "
        f"{min(mandatory_cpu):.3f} |"
    )
    print(
        f"| mandatory work / floor | {min(mandatory_times) / floor:.2f}x | | "
        f"{min(mandatory_cpu) / floor_cpu:.2f}x |"
    )
    print(f"| **full static scan** | {best:.3f} | {median:.3f} | {min(scan_cpu):.3f} |")
    print(
        f"| scan / floor | {best / floor:.2f}x | {median / floor:.2f}x | "
        f"{min(scan_cpu) / floor_cpu:.2f}x |"
    )
    paired = sorted(
        scan_s / (ruff_s + parse_s)
        for scan_s, ruff_s, parse_s in zip(scan_times, ruff_times, parse_times, strict=True)
    )
    print(
        f"| scan / floor of the same round (best, median of {len(paired)}) | "
        f"{paired[0]:.2f}x | {statistics.median(paired):.2f}x | |"
    )
    floor_rounds = [r + p for r, p in zip(ruff_times, parse_times, strict=True)]
    paired_mandatory = sorted(
        work / floor_s for work, floor_s in zip(mandatory_times, floor_rounds, strict=True)
    )
    print(
        f"| mandatory work / floor of the same round (best, median) | "
        f"{paired_mandatory[0]:.2f}x | {statistics.median(paired_mandatory):.2f}x | |"
    )
    print(
        f"| rescan of an unchanged commit (`Workspace.resolve`, warm mirror) | "
        f"{min(rescan_times):.3f} | {statistics.median(rescan_times):.3f} | |"
    )
    under_5s = "met" if best < 5.0 else "MISSED"
    within_2x = "met" if statistics.median(paired) <= 2 else "MISSED"
    print(f"\nTarget: full scan < 5 s: {under_5s}; at most 2x the floor: {within_2x}")
    rescan = "met" if min(rescan_times) < 0.2 else "MISSED"
    print(f"Target (rescan of an unchanged commit < 200 ms): {rescan}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
