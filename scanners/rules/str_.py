"""STR: the standard's project structure, .gitignore coverage and nothing committed by mistake."""

from __future__ import annotations

import configparser
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from scanners.analysis.env_files import env_file_places
from scanners.analysis.gitignore import GitIgnore
from scanners.layers import LAYER_ALIASES
from scanners.results import Evidence, RuleResult
from scanners.rules import Rule, register

if TYPE_CHECKING:
    from scanners.context import RepoContext

MAX_EVIDENCE = 50
APP_PACKAGES = ("src", "app")
#: Folders below the app package that never hold layers.
_NOT_LAYERS = frozenset({"tests", "test", "migrations", "alembic", "__pycache__"})


def _module(ctx: RepoContext, folder: str, name: str) -> bool:
    """Whether `folder/name.py` or the package `folder/name/` is tracked."""
    return ctx.exists(f"{folder}/{name}.py") or ctx.exists(f"{folder}/{name}/__init__.py")


def _app_package(ctx: RepoContext) -> str | None:
    """`src/` (or `app/`): the first holding main.py, else the first that exists."""
    existing = [ctx.path(n) for n in APP_PACKAGES if ctx.dir_exists(ctx.path(n))]
    with_main = [folder for folder in existing if _module(ctx, folder, "main")]
    candidates = with_main or existing
    return candidates[0] if candidates else None


def _folders_below(ctx: RepoContext, base: str) -> set[str]:
    """Every folder (repository-relative) below `base` that holds tracked files."""
    out: set[str] = set()
    for name in ctx.files:
        if not name.startswith(f"{base}/"):
            continue
        parts = PurePosixPath(name[len(base) + 1 :]).parts[:-1]
        for depth in range(1, len(parts) + 1):
            if parts[depth - 1] in _NOT_LAYERS or parts[depth - 1].startswith("."):
                break
            out.add(f"{base}/{'/'.join(parts[:depth])}")
    return out


def _find(folders: set[str], base: str, aliases: tuple[str, ...]) -> list[str]:
    """Folders whose path below `base` ends with one of `aliases`, shallowest first."""
    found = [
        f
        for f in folders
        if any(f"/{f}".endswith(f"/{base}/{a}") or f"/{f}".endswith(f"/{a}") for a in aliases)
    ]
    return sorted(found, key=lambda f: (f.count("/"), f))


@register
class SrcLayout(Rule):
    """The app package holds main.py, exceptions.py and middleware.py."""

    id = "STR-001"
    heuristic = (
        "The app package is src/ or, as many FastAPI projects name it, app/ (the first of the "
        "two holding main.py). Each module may also be a package (exceptions/__init__.py)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail naming the missing package or modules."""
        package = _app_package(ctx)
        if package is None:
            return self.failed(
                "no src/ (or app/) package",
                [Evidence(ctx.path("src"), None, "create the src/ package")],
            )
        missing = [n for n in ("main", "exceptions", "middleware") if not _module(ctx, package, n)]
        if missing:
            evidence = [Evidence(f"{package}/{n}.py", None, f"missing {n}.py") for n in missing]
            return self.failed(f"{package}/ lacks {', '.join(missing)}", evidence)
        return self.passed(f"{package}/ holds main, exceptions and middleware")


@register
class LayerPackages(Rule):
    """Layer packages (api/routes, services, repositories, models, schemas, core) exist."""

    id = "STR-002"
    heuristic = (
        "Layers are folders found by name anywhere below the app package: api/routes (also "
        "routes, routers, endpoints), services, repositories (also crud), models, schemas, "
        "core. One folder per layer must be a package (hold __init__.py)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail for each layer that is missing or not a package."""
        base = ctx.app_package_rel
        if base is None:
            return self.failed("no app package", [Evidence(ctx.path("src"), None, "no src/")])
        folders = _folders_below(ctx, base)
        evidence = []
        for layer, aliases in LAYER_ALIASES.items():
            found = _find(folders, base, aliases)
            if not found:
                evidence.append(Evidence(f"{base}/{aliases[0]}", None, f"no {layer} layer"))
            elif not any(ctx.exists(f"{f}/__init__.py") for f in found):
                evidence.append(Evidence(f"{found[0]}/__init__.py", None, "missing __init__.py"))
        if evidence:
            return self.failed(f"{len(evidence)} layer package(s) missing", evidence)
        return self.passed("every layer package exists")


#: (folder aliases, module names (any one suffices), project-root alternatives).
CORE_MODULES: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (("core",), ("config",), ()),
    (("core",), ("security",), ()),
    (("core",), ("database",), ()),
    (("core",), ("logging",), ("logging_config.yaml",)),
    (("api",), ("dependencies",), ()),
    (("repositories", "crud"), ("base",), ()),
)


@register
class CoreModules(Rule):
    """Core modules: config, security, database, logging, api dependencies, base repository."""

    id = "STR-003"
    heuristic = (
        "Looks for core/, api/ and repositories/ (or crud/) folders below the app package, "
        "each module as a file or a package; logging_config.yaml at the project root stands "
        "in for core/logging.py."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail with the expected path of each missing module."""
        base = ctx.app_package_rel or ctx.path("src")
        folders = _folders_below(ctx, base)
        evidence = []
        for aliases, names, alternatives in CORE_MODULES:
            found = _find(folders, base, aliases)
            if any(_module(ctx, f, n) for f in found for n in names):
                continue
            if any(ctx.exists(ctx.path(alt)) for alt in alternatives):
                continue
            where = found[0] if found else f"{base}/{aliases[0]}"
            evidence.append(Evidence(f"{where}/{names[0]}.py", None, f"missing {names[0]}.py"))
        if evidence:
            return self.failed(f"{len(evidence)} core module(s) missing", evidence)
        return self.passed("core modules present")


def _missing(ctx: RepoContext, files: tuple[str, ...], dirs: tuple[str, ...]) -> list[Evidence]:
    """Evidence for project-root files and folders (holding a tracked file) that are absent."""
    out = [
        Evidence(ctx.path(f), None, f"missing {f}") for f in files if not ctx.exists(ctx.path(f))
    ]
    out += [
        Evidence(ctx.path(d), None, f"missing {d}/")
        for d in dirs
        if not ctx.dir_exists(ctx.path(d))
    ]
    return out


@register
class TestLayout(Rule):
    """tests/unit, tests/integration, tests/e2e and tests/conftest.py exist."""

    id = "STR-004"
    heuristic = "git tracks no empty folder: each test folder must hold a file (e.g. __init__.py)."

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail naming each missing path."""
        evidence = _missing(
            ctx, ("tests/conftest.py",), ("tests/unit", "tests/integration", "tests/e2e")
        )
        if evidence:
            return self.failed(f"{len(evidence)} test path(s) missing", evidence)
        return self.passed("unit, integration and e2e test folders with conftest.py")


def _script_location(text: str | None) -> str | None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text or "")
    except configparser.Error:
        return None
    location = parser.get("alembic", "script_location", fallback="").strip()
    return location.removeprefix("%(here)s").strip("/").removeprefix("./") or None


@register
class AlembicLayout(Rule):
    """alembic.ini and alembic/versions/ at the project root."""

    id = "STR-005"
    heuristic = (
        "alembic/versions/ must hold a tracked file (a migration or .gitkeep). When alembic.ini "
        "points script_location at another folder that has versions/, the result is warn."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail naming alembic.ini or alembic/versions/ when missing."""
        evidence = _missing(ctx, ("alembic.ini",), ("alembic/versions",))
        if not evidence:
            return self.passed("alembic.ini and alembic/versions/")
        location = _script_location(ctx.read_text(ctx.path("alembic.ini")))
        if location and location != "alembic" and ctx.dir_exists(ctx.path(f"{location}/versions")):
            where = Evidence(ctx.path("alembic.ini"), None, f"migrations in {location}/versions/")
            return self.warned("migrations live outside alembic/versions/", [where])
        return self.failed("Alembic migrations are not set up as the standard lays out", evidence)


@register
class RootFiles(Rule):
    """README.md, .gitignore, .env.example, .pre-commit-config.yaml and docs/ at the root."""

    id = "STR-006"
    heuristic = "In a monorepo, a file at the repository root also counts for the project."

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail naming each missing root file."""
        evidence = [
            Evidence(ctx.path(name), None, f"missing {name}")
            for name in ("README.md", ".gitignore", ".env.example", ".pre-commit-config.yaml")
            if not (ctx.exists(ctx.path(name)) or ctx.exists(name))
        ]
        if not (ctx.dir_exists(ctx.path("docs")) or ctx.dir_exists("docs")):
            evidence.append(Evidence(ctx.path("docs"), None, "missing docs/"))
        if evidence:
            return self.failed(f"{len(evidence)} root file(s) missing", evidence)
        return self.passed("root files present")


def _gitignore(ctx: RepoContext) -> GitIgnore:
    files = [f for f in ctx.files if PurePosixPath(f).name == ".gitignore"]
    return GitIgnore.from_files((f, ctx.read_text(f) or "") for f in files)


def _nearest_gitignore(ctx: RepoContext, folder: str | None = None) -> str:
    """The .gitignore of `folder` (default: the project root), else of the closest above it."""
    where = ctx.project_rel if folder is None else folder
    parts = PurePosixPath(where).parts if where not in ("", ".") else ()
    for depth in range(len(parts), -1, -1):
        candidate = "/".join((*parts[:depth], ".gitignore"))
        if ctx.exists(candidate):
            return candidate
    return ctx.path(".gitignore")


def _ignores_dir(rules: GitIgnore, folder: str) -> bool:
    """The folder is ignored, or everything in it is (`logs/*`); `*.pyc` alone does not count."""
    return rules.ignored(folder, is_dir=True) or rules.ignored(f"{folder}/yardstick-probe")


@register
class GitignoreCoverage(Rule):
    """.gitignore ignores .env, logs/, __pycache__/ and .pytest_cache/ (by matching)."""

    id = "STR-007"
    heuristic = (
        "Every tracked .gitignore from the repository root down to the probed folder is "
        "applied as git applies them (pathspec patterns: negation, anchoring, folder-only "
        "patterns, **; deeper files win; an ignored folder cannot be re-included). .env is "
        "probed where it would live: beside each tracked .env template (.env.example, "
        ".env.sample, ...) and at each env_file of a Compose file, else at the project root; "
        "logs/, __pycache__/ and .pytest_cache/ at the project root, and __pycache__/ inside "
        "the app package. A folder counts as ignored "
        "when it is, or when everything in it is (logs/*); *.pyc alone does not ignore "
        "__pycache__/."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail with one evidence item per path git would not ignore."""
        rules, source = _gitignore(ctx), _nearest_gitignore(ctx)
        if not rules.patterns:
            return self.failed("no .gitignore", [Evidence(source, None, "no .gitignore")])
        package = ctx.app_package_rel or ctx.path("src")
        probes = [
            *((place, False) for place in env_file_places(ctx)),
            (ctx.path("logs"), True),
            (ctx.path("__pycache__"), True),
            (f"{package}/__pycache__", True),
            (ctx.path(".pytest_cache"), True),
        ]
        evidence = []
        for path, is_dir in probes:
            if _ignores_dir(rules, path) if is_dir else rules.ignored(path):
                continue
            decisive = rules.decisive(path, is_dir)
            shown = f"{path}/" if is_dir else path
            if decisive is not None:  # a negation re-includes it
                evidence.append(Evidence(decisive.source, decisive.line, f"{shown} re-included"))
            else:
                nearest = _nearest_gitignore(ctx, str(PurePosixPath(path).parent))
                evidence.append(Evidence(nearest, None, f"{shown} is not ignored"))
        if evidence:
            return self.failed(f"{len(evidence)} path(s) not ignored", evidence)
        return self.passed(".env, logs/, __pycache__/ and .pytest_cache/ are ignored")


_KEEP_FILES = frozenset({".gitkeep", ".keep", ".gitignore", "README.md"})


def _forbidden(path: str) -> str | None:
    """Why a tracked file must not be committed, or None."""
    pure = PurePosixPath(path)
    name, folders = pure.name, pure.parts[:-1]
    if name == ".env" or (name.startswith(".env.") and "example" not in name.split(".")[2:]):
        return "environment file with possible secrets"
    if "__pycache__" in folders or pure.suffix in (".pyc", ".pyo"):
        return "compiled Python bytecode"
    if ".pytest_cache" in folders:
        return "pytest cache"
    if "logs" in folders and name not in _KEEP_FILES and pure.suffix != ".py":
        return "log file"
    return None


@register
class NothingForbiddenTracked(Rule):
    """No .env files, logs, __pycache__/, .pytest_cache/ or *.pyc are tracked."""

    id = "STR-008"
    heuristic = (
        "Tracked files anywhere in the repository: .env and .env.* except templates named "
        "*.example (also .env.prod.example.fixture: any `example` part of the name; "
        ".env.sample fails: rename it .env.example), anything under __pycache__/ or "
        ".pytest_cache/, *.pyc/*.pyo, and files under a logs/ folder except .gitkeep/.keep/"
        ".gitignore/README.md and Python modules (a logs/ package is code, not logs)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail with each offending path (at most 50 listed)."""
        evidence = [Evidence(f, None, why) for f in ctx.files if (why := _forbidden(f))]
        if not evidence:
            return self.passed("nothing that must stay local is tracked")
        more = f" (first {MAX_EVIDENCE} listed)" if len(evidence) > MAX_EVIDENCE else ""
        message = f"{len(evidence)} file(s) that must not be committed are tracked{more}"
        return self.failed(message, evidence[:MAX_EVIDENCE])
