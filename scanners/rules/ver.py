"""VER: supported versions of Python, Pydantic and SQLAlchemy, and a kept changelog."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from scanners.analysis.project import (
    admitted_below,
    declared_anywhere,
    locked_versions,
    manifest_problem,
    missing_evidence,
    requirement_evidence,
    runtime,
    table_line,
)
from scanners.deps import normalise
from scanners.results import Evidence, RuleResult
from scanners.rules import Rule, register

if TYPE_CHECKING:
    from scanners.context import RepoContext

MIN_PYTHON = Version("3.13")
ASYNC_DRIVERS = ("asyncpg", "aiosqlite", "psycopg", "aiomysql", "asyncmy")
#: SQLAlchemy extras that install an async driver (`asyncio` alone installs none).
DRIVER_EXTRAS = frozenset(
    {
        "postgresql-asyncpg",
        "postgresql-psycopg",
        "postgresql-psycopgbinary",
        "aiosqlite",
        "aiomysql",
        "asyncmy",
    }
)


def _at_least(ctx: RepoContext, name: str, floor: Version) -> tuple[bool, str]:
    """Whether `name` is held at >= floor by its runtime specifier or, failing that, the lock."""
    reqs = runtime(ctx, name)
    for req in reqs:
        lowest = admitted_below(req.specifier_set(), floor)
        if lowest is None:
            return True, f"{req.raw} excludes every version below {floor}"
    locked = locked_versions(ctx, name)
    if locked and all(v >= floor for v in locked):
        return True, f"uv.lock resolves {name} {', '.join(map(str, locked))}"
    if not reqs:
        return False, f"{name} is not a runtime dependency"
    return False, f"{reqs[0].raw} admits versions below {floor}: require {name}>={floor}"


def _evidence(ctx: RepoContext, name: str, message: str) -> Evidence:
    reqs = runtime(ctx, name)
    if reqs:
        return requirement_evidence(ctx, reqs[0], message)
    return missing_evidence(ctx, message)


def _python_home(ctx: RepoContext) -> Evidence:
    """Where requires-python belongs: the `[project]` table, else the dependencies' manifest."""
    message = 'set requires-python = ">=3.13"'
    rel = ctx.path("pyproject.toml")
    line = table_line(ctx.read_text(rel), "project") if ctx.pyproject is not None else None
    return Evidence(rel, line, message) if line else missing_evidence(ctx, message)


@register
class PythonVersion(Rule):
    """`requires-python` admits no Python older than 3.13."""

    id = "VER-001"
    heuristic = (
        "Every final release below 3.13 (boundaries of the specifier included, e.g. 3.12.99) "
        "is tested against the project's Python constraint with packaging's SpecifierSet: "
        "[project] requires-python, else Poetry's `python` dependency (`^3.13` read as "
        "`>=3.13,<4`), else setup.cfg/setup.py python_requires."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail naming the oldest admitted version, or a missing/invalid Python constraint."""
        if (problem := manifest_problem(ctx)) is not None:
            return self.failed(problem.message, [problem])
        python = ctx.dependencies.python
        if python is None:
            return self.failed("requires-python is not set", [_python_home(ctx)])
        label = "requires-python" if python.source == "requires-python" else python.source
        try:
            spec = SpecifierSet(python.specifier)
        except InvalidSpecifier:
            return self.failed(
                f"{label} {python.raw!r} is not a valid specifier",
                [Evidence(python.path, python.line, "not a PEP 440 specifier")],
            )
        older = admitted_below(spec, MIN_PYTHON)
        if older is not None:
            message = f"{label} {python.raw!r} admits Python {older}: use '>=3.13'"
            return self.failed(message, [Evidence(python.path, python.line, message)])
        return self.passed(f"{label} {python.raw!r} admits 3.13 and later only")


@register
class PydanticV2(Rule):
    """Pydantic is constrained to v2 and pydantic-settings is declared."""

    id = "VER-002"
    heuristic = "Pydantic counts as v2 when its specifier excludes every 1.x or uv.lock pins 2.x."

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail for a Pydantic that may resolve to 1.x or a missing pydantic-settings."""
        if (problem := manifest_problem(ctx)) is not None:
            return self.failed(problem.message, [problem])
        evidence = []
        ok, why = _at_least(ctx, "pydantic", Version("2"))
        if not ok:
            evidence.append(_evidence(ctx, "pydantic", why))
        if not runtime(ctx, "pydantic-settings"):
            evidence.append(_evidence(ctx, "pydantic-settings", "pydantic-settings not declared"))
        if evidence:
            return self.failed("; ".join(e.message for e in evidence), evidence)
        return self.passed(f"{why}; pydantic-settings declared")


def _has_async_driver(ctx: RepoContext) -> bool:
    if runtime(ctx, *ASYNC_DRIVERS):
        return True
    extras = {normalise(e) for req in runtime(ctx, "sqlalchemy") for e in req.extras}
    return bool(extras & DRIVER_EXTRAS)


@register
class SqlAlchemyAsync(Rule):
    """SQLAlchemy >= 2.0 with an async driver, and Alembic, are declared."""

    id = "VER-003"
    heuristic = (
        "SQLAlchemy must be a runtime dependency whose specifier excludes 1.x (or that uv.lock "
        "resolves to 2.x). Async drivers: asyncpg, aiosqlite, psycopg (3; psycopg2 is not "
        "async), aiomysql, asyncmy, or a SQLAlchemy extra installing one (postgresql-asyncpg, "
        "...); sqlalchemy[asyncio] alone installs none. Alembic may sit in any group."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail listing what is missing."""
        if (problem := manifest_problem(ctx)) is not None:
            return self.failed(problem.message, [problem])
        evidence = []
        ok, why = _at_least(ctx, "sqlalchemy", Version("2.0"))
        if not ok:
            evidence.append(_evidence(ctx, "sqlalchemy", why))
        if not _has_async_driver(ctx):
            message = f"no async database driver ({', '.join(ASYNC_DRIVERS)}) at runtime"
            evidence.append(_evidence(ctx, "sqlalchemy", message))
        if not declared_anywhere(ctx, "alembic"):
            evidence.append(_evidence(ctx, "alembic", "alembic is not declared"))
        if evidence:
            return self.failed("; ".join(e.message for e in evidence), evidence)
        return self.passed(f"{why}; async driver and alembic declared")


def _changelog(ctx: RepoContext) -> str | None:
    """CHANGELOG.md (any case) at the project root, else at the repository root."""
    for folder in dict.fromkeys((ctx.project_rel, "")):
        for name in ctx.files:
            path = PurePosixPath(name)
            parent = "" if str(path.parent) == "." else str(path.parent)
            if parent == folder and path.name.lower() == "changelog.md":
                return name
    return None


@register
class Changelog(Rule):
    """`CHANGELOG.md` exists and is not empty."""

    id = "VER-004"
    heuristic = "Looked for at the project root, then the repository root; any letter case."

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail when the changelog is missing, empty or unreadable."""
        found = _changelog(ctx)
        if found is None:
            rel = ctx.path("CHANGELOG.md")
            return self.failed("no CHANGELOG.md", [Evidence(rel, None, "add CHANGELOG.md")])
        text = ctx.read_text(found)
        if text is None:
            return self.failed(f"{found} is unreadable", [Evidence(found, None, "binary file")])
        if not text.strip():
            return self.failed(f"{found} is empty", [Evidence(found, 1, "empty changelog")])
        return self.passed(f"{found} documents changes")
