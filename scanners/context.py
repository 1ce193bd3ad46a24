"""`RepoContext`: one checkout, analysed lazily and once, shared by every rule.

The checkout is untrusted input. Nothing here executes it; symlinks that leave the checkout
are never followed; unreadable, binary, huge or undecodable files become notes instead of
crashes.
"""

from __future__ import annotations

import ast
import os
import re
import stat
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate, islice, repeat
from operator import sub
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml

from scanners import tomlparse
from scanners.deps import Requirement
from scanners.layers import LAYER_ALIASES, LayerMap

if TYPE_CHECKING:
    from scanners.analysis.history import History
    from scanners.analysis.imports import ImportGraph
    from scanners.analysis.lint import FormatCheck, LintRun
    from scanners.analysis.pydantic_models import ModelIndex
    from scanners.analysis.routes import Route
    from scanners.depmodel import DependencyModel
    from scanners.discovery import Discovery
    from scanners.measured import Reports

# Folders that never hold app code.
EXCLUDED_DIRS = frozenset(
    {
        ".venv",
        "venv",
        "env",
        ".env",
        "node_modules",
        "vendor",
        "vendored",
        "third_party",
        "site-packages",
        "__pycache__",
        ".git",
        ".tox",
        ".nox",
        "build",
        "dist",
        "migrations",
        "alembic",
        "tests",
        "test",
    }
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits for reading an untrusted checkout."""

    max_file_bytes: int = 2 * 1024 * 1024
    max_files: int = 100_000
    max_ast_depth: int = 500  # deeper trees are refused before the parser recurses


@dataclass(slots=True)
class PyModule:
    """One Python file of the checkout, parsed once."""

    path: str  # repository-relative, posix
    source: str | None
    tree: ast.Module | None
    error: str | None = None
    error_line: int | None = None
    lines: int = 0

    @property
    def stem(self) -> str:
        """File name without `.py`."""
        return PurePosixPath(self.path).stem


@dataclass(slots=True)
class Note:
    """A file the engine skipped or could not read, and why."""

    path: str
    reason: str


@dataclass
class RepoContext:
    """Lazy analyses of one checkout at `root`; `project_dir` overrides root detection."""

    root: Path
    project_dir: str | None = None
    limits: Limits = field(default_factory=Limits)
    notes: list[Note] = field(default_factory=list)
    #: Measured results (coverage, test run, mypy) for the report rules; None: none given.
    reports: Reports | None = None

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        self._root_str = str(self.root)
        self._text_cache: dict[str, str | None] = {}
        self._parse_errors: dict[str, str] = {}
        self._memo: dict[str, Any] = {}

    def memo[T](self, key: str, compute: Callable[[RepoContext], T]) -> T:
        """`compute(self)`, computed once per context and `key` (a shared value: do not mutate).

        For derived analyses that several rules ask for (`find_settings`, ...).
        """
        if key not in self._memo:
            self._memo[key] = compute(self)
        return self._memo[key]  # type: ignore[no-any-return]

    def release(self) -> None:
        """Drop the cached analyses: some refer back to this context (a reference cycle).

        A scan that made its own context calls this at its end, so the context and its
        parsed trees are freed at once by reference counting, while the cyclic collector is
        still paused (`scanners.gcpause`): its next pass would otherwise traverse them all.
        """
        self._memo.clear()
        cached = [n for n, a in vars(type(self)).items() if isinstance(a, cached_property)]
        for name in cached:
            vars(self).pop(name, None)

    # ----- file index -------------------------------------------------------------------
    @cached_property
    def files(self) -> list[str]:
        """Tracked files (git) or every regular file (plain folder), posix, sorted."""
        limit = self.limits.max_files
        listed = self._git_ls_files()
        candidates = (
            (name for name in listed if self._is_regular(name))
            if listed is not None
            else self._walk()
        )
        # Stop at the limit: a hostile tree of millions of files is never even stat()ed.
        names = list(islice(candidates, limit + 1))
        if len(names) > limit:
            self.notes.append(
                Note(".", f"more than {limit} files: only the first {limit} are read")
            )
            names = names[:limit]
        return sorted(names)

    @cached_property
    def file_set(self) -> frozenset[str]:
        """`files` as a set, for membership tests."""
        return frozenset(self.files)

    def _git_ls_files(self) -> list[str] | None:
        if not (self.root / ".git").exists():
            return None
        try:
            out = subprocess.run(
                ["git", "-c", "core.fsmonitor=false", "ls-files", "-z"],  # noqa: S607
                cwd=self.root,
                capture_output=True,
                timeout=60,
                check=True,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        return [name for name in out.decode("utf-8", "surrogateescape").split("\0") if name]

    def _walk(self) -> Iterator[str]:
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames[:] = [d for d in dirnames if d != ".git"]
            rel_dir = Path(dirpath).relative_to(self.root)
            for name in filenames:
                rel = (rel_dir / name).as_posix()
                if self._is_regular(rel):
                    yield rel

    def _is_regular(self, rel: str) -> bool:
        """A real file inside the checkout: symlinks only when they stay inside it."""
        try:  # one lstat: `Path.is_symlink()` then `is_file()` cost two, through pathlib
            mode = os.lstat(os.path.join(self._root_str, rel)).st_mode
        except (OSError, ValueError):
            return False  # what `is_symlink()` and `is_file()` say of a missing path
        if not stat.S_ISLNK(mode):
            return stat.S_ISREG(mode)
        path = self.root / rel
        try:
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(self.root) or not target.is_file():
                    self.notes.append(Note(rel, "symlink pointing outside the checkout: ignored"))
                    return False
                return True
            return path.is_file()
        except (OSError, RuntimeError):  # RuntimeError: symlink loop
            self.notes.append(Note(rel, "unreadable path: ignored"))
            return False

    def exists(self, rel: str) -> bool:
        """Whether a tracked file exists at a repository-relative path."""
        return rel in self.file_set

    def dir_exists(self, rel: str) -> bool:
        """Whether any tracked file sits below a repository-relative folder."""
        prefix = rel.rstrip("/") + "/"
        return any(name.startswith(prefix) for name in self.files)

    def read_bytes(self, rel: str) -> bytes | None:
        """Contents of a tracked file, or None when missing, too large or unreadable."""
        if rel not in self.file_set:
            return None
        try:
            with open(os.path.join(self._root_str, rel), "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size > self.limits.max_file_bytes:
                    self.notes.append(Note(rel, f"{size} bytes: larger than the read limit"))
                    return None
                return handle.read()
        except OSError as exc:
            self.notes.append(Note(rel, f"unreadable: {exc.strerror}"))
            return None

    def read_text(self, rel: str) -> str | None:
        """Text of a tracked file; None for missing, binary, huge or undecodable files."""
        cache = self._text_cache
        if rel in cache:
            return cache[rel]
        data = self.read_bytes(rel)
        text: str | None = None
        if data is not None:
            if b"\0" in data[:8192]:
                self.notes.append(Note(rel, "binary file: skipped"))
            else:
                try:
                    text = data.decode("utf-8-sig")
                except UnicodeDecodeError:
                    text = data.decode("latin-1")
                    self.notes.append(Note(rel, "not UTF-8: read as Latin-1"))
        cache[rel] = text
        return text

    # ----- project root -----------------------------------------------------------------
    @cached_property
    def discovery(self) -> Discovery:
        """The checkout's Python projects and the one judged (`scanners.discovery`)."""
        from scanners.discovery import discover

        return discover(self, self.project_dir)

    @cached_property
    def project_rel(self) -> str:
        """Repository-relative project root ('' for the repository root): `discovery.chosen`."""
        return self.discovery.chosen

    def path(self, rel_to_project: str) -> str:
        """Repository-relative path of a path given relative to the project root."""
        rel = rel_to_project.strip("/")
        return f"{self.project_rel}/{rel}" if self.project_rel else rel

    @cached_property
    def project_files(self) -> list[str]:
        """Tracked files below the project root, relative to the project root."""
        prefix = f"{self.project_rel}/" if self.project_rel else ""
        return [name[len(prefix) :] for name in self.files if name.startswith(prefix)]

    # ----- parsed configuration ---------------------------------------------------------
    @cached_property
    def pyproject(self) -> dict[str, Any] | None:
        """Parsed `pyproject.toml` of the project root, or None (see `pyproject_error`)."""
        return self.load_toml(self.path("pyproject.toml"))

    @property
    def pyproject_error(self) -> str | None:
        """Why `pyproject` is None when the file exists."""
        return self._parse_errors.get(self.path("pyproject.toml"))

    @property
    def uv_lock_rel(self) -> str:
        """Repository-relative `uv.lock` of the project; a workspace member's is its root's."""
        return self.discovery.uv_lock()

    @cached_property
    def uv_lock(self) -> dict[str, Any] | None:
        """Parsed `uv.lock` of the project (`uv_lock_rel`), or None; without `sdist`/`wheels`.

        Those artefact lists (URLs, hashes, sizes) are most of a lock file and no rule reads
        them: they are cut from the text before parsing (2.5x faster on a real lock),
        and only in the exact layout uv writes. A text that does not parse without them is
        parsed whole, so a broken lock file is reported with TOML's own error.
        """
        rel = self.uv_lock_rel
        text = self.read_text(rel)
        if text is None:
            return None
        try:
            return tomlparse.loads(_LOCK_ARTEFACTS.sub("", text))
        except (tomlparse.TOMLDecodeError, RecursionError):
            return self.load_toml(rel)

    def load_toml(self, rel: str) -> dict[str, Any] | None:
        """Parse a tracked TOML file; None (with a recorded error) when it is not TOML."""
        text = self.read_text(rel)
        if text is None:
            return None
        try:
            return tomlparse.loads(text)
        except (tomlparse.TOMLDecodeError, RecursionError) as exc:
            self._parse_error(rel, f"not valid TOML: {exc}")
            return None

    def load_yaml(self, rel: str) -> Any:
        """Parse a tracked YAML file safely; None when missing or malformed."""
        text = self.read_text(rel)
        if text is None:
            return None
        try:
            return _yaml_load(text)
        except (yaml.YAMLError, RecursionError) as exc:
            self._parse_error(rel, f"not valid YAML: {exc}")
            return None

    def parse_error(self, rel: str) -> str | None:
        """The parse error recorded for a file, if any."""
        return self._parse_errors.get(rel)

    def _parse_error(self, rel: str, message: str) -> None:
        self._parse_errors[rel] = message
        self.notes.append(Note(rel, message))

    # ----- dependencies -----------------------------------------------------------------
    @cached_property
    def dependencies(self) -> DependencyModel:
        """Every dependency declaration of the project, in any manager (`scanners.depmodel`)."""
        from scanners.depmodel import read_dependency_model

        model = read_dependency_model(self)
        self.notes.extend(
            Note(n.path, f"line {n.line}: {n.message}" if n.line else n.message)
            for n in model.notes
        )
        return model

    @cached_property
    def runtime_requirements(self) -> list[Requirement]:
        """Runtime declarations in any manager (see `scanners.depmodel`)."""
        return self.dependencies.runtime()

    @cached_property
    def dev_requirements(self) -> list[Requirement]:
        """Development declarations in any manager (see `scanners.depmodel`)."""
        return self.dependencies.dev()

    def runtime_names(self) -> set[str]:
        """Normalised names of runtime dependencies (extras folded in as `name[extra]`)."""
        names: set[str] = set()
        for req in self.runtime_requirements:
            names.add(req.name)
            names.update(f"{req.name}[{extra}]" for extra in req.extras)
        return names

    def dev_names(self) -> set[str]:
        """Normalised names of dev dependencies."""
        return {req.name for req in self.dev_requirements}

    # ----- Python sources ---------------------------------------------------------------
    @cached_property
    def python_files(self) -> list[PyModule]:
        """Every tracked `.py` file under the project root, parsed once."""
        prefix = f"{self.project_rel}/" if self.project_rel else ""
        return [
            self._parse(name)
            for name in self.files
            if name.endswith(".py") and name.startswith(prefix)
        ]

    @cached_property
    def app_files(self) -> list[PyModule]:
        """App code: Python under the project root except tests, migrations, venvs, vendored."""
        prefix_len = len(self.project_rel) + 1 if self.project_rel else 0
        return [m for m in self.python_files if not _excluded(m.path[prefix_len:])]

    def module(self, rel: str) -> PyModule | None:
        """The parsed module at a repository-relative path, if tracked."""
        mod = self._modules_by_path.get(rel)
        if mod is not None:
            return mod
        return self._parse(rel) if rel.endswith(".py") and rel in self.file_set else None

    @cached_property
    def _modules_by_path(self) -> dict[str, PyModule]:
        index: dict[str, PyModule] = {}
        for mod in self.python_files:
            index.setdefault(mod.path, mod)  # the first one, as a scan of the list finds
        return index

    def _parse(self, rel: str) -> PyModule:
        text = self.read_text(rel)
        if text is None:
            return PyModule(rel, None, None, "unreadable, binary or too large")
        lines = text.count("\n") + 1
        if _too_deep(text, self.limits.max_ast_depth):
            return PyModule(rel, text, None, "nested too deeply to parse safely", None, lines)
        try:
            with warnings.catch_warnings():  # the checkout's `"\d"` is not the scanner's warning
                warnings.simplefilter("ignore", SyntaxWarning)
                tree = ast.parse(text, filename=rel)
        except SyntaxError as exc:
            return PyModule(rel, text, None, f"syntax error: {exc.msg}", exc.lineno, lines)
        except (ValueError, RecursionError, MemoryError) as exc:
            return PyModule(rel, text, None, f"cannot parse: {type(exc).__name__}", None, lines)
        return PyModule(rel, text, tree, None, None, lines)

    @cached_property
    def app_package_rel(self) -> str | None:
        """Repository-relative folder of the app package (`src`, `app`, ...), if any."""
        for name in ("src", "app"):
            candidate = self.path(name)
            if self.dir_exists(candidate):
                return candidate
        main = next((m for m in self.app_files if m.stem == "main"), None)
        return str(PurePosixPath(main.path).parent) if main else None

    @cached_property
    def layer_map(self) -> LayerMap:
        """The role (layer) of every app module (`scanners.layers`)."""
        prefix_len = len(self.project_rel) + 1 if self.project_rel else 0
        return LayerMap((m.path[prefix_len:], m.tree) for m in self.app_files)

    def layer_of(self, rel: str) -> str | None:
        """The layer of an app module or folder at a repository-relative path."""
        prefix = f"{self.project_rel}/" if self.project_rel else ""
        if prefix and not rel.startswith(prefix):
            return None
        local = rel[len(prefix) :]
        if local.endswith(".py"):
            return self.layer_map.role(local)
        return self.layer_map.folder_role(local)

    def layer_files(self, layer: str) -> list[PyModule]:
        """App modules whose role is `layer` (by file name or layer folder, `scanners.layers`)."""
        if layer not in LAYER_ALIASES:
            raise KeyError(layer)
        cached = self._memo.get(f"layer_files:{layer}")
        if cached is not None:
            return list(cached)
        out = [m for m in self.app_files if self.layer_of(m.path) == layer]
        self._memo[f"layer_files:{layer}"] = out
        return list(out)

    def layer_dirs(self, layer: str) -> list[str]:
        """Repository-relative folders that hold a layer."""
        dirs = {str(PurePosixPath(m.path).parent) for m in self.layer_files(layer)}
        return sorted(dirs)

    # ----- git --------------------------------------------------------------------------
    @cached_property
    def git(self) -> Any:
        """A GitPython `Repo` for the checkout, or None outside a git repository."""
        if not (self.root / ".git").exists():
            return None
        from git import Repo
        from git.exc import GitError

        try:
            return Repo(self.root)
        except (GitError, OSError):
            return None

    @cached_property
    def commit_sha(self) -> str | None:
        """The checked-out commit, if any."""
        repo = self.git
        if repo is None:
            return None
        try:
            return str(repo.head.commit.hexsha)
        except (ValueError, TypeError, OSError):
            return None  # unborn branch: no commit yet

    # ----- shared code analyses (computed once, see scanners/analysis/) ----------------
    @cached_property
    def import_graph(self) -> ImportGraph:
        """Imports of every project Python file (`scanners.analysis.imports`)."""
        from scanners.analysis.imports import build_import_graph

        return build_import_graph(self)

    @cached_property
    def routes(self) -> list[Route]:
        """FastAPI route handlers of the app code (`scanners.analysis.routes`)."""
        from scanners.analysis.routes import find_routes

        return find_routes(self)

    @cached_property
    def pydantic_models(self) -> ModelIndex:
        """Pydantic model classes of the app code (`scanners.analysis.pydantic_models`)."""
        from scanners.analysis.pydantic_models import find_models

        return find_models(self)

    @cached_property
    def lint(self) -> LintRun:
        """The scan's one `ruff check --isolated` run (`scanners.analysis.lint`)."""
        from scanners.analysis.lint import run_lint

        return run_lint(self)

    @cached_property
    def format_check(self) -> FormatCheck:
        """The scan's one `ruff format --check --isolated` run."""
        from scanners.analysis.lint import run_format_check

        return run_format_check(self)

    @cached_property
    def history(self) -> History:
        """Git history queries; they raise `HistoryUnavailable` (rules: not applicable)."""
        from scanners.analysis.history import History

        return History(self.git)

    def tool_versions(self) -> dict[str, str]:
        """Versions of the external tools the scan runs, for the report."""
        from scanners.analysis.lint import ruff_version

        version = ruff_version()
        return {"ruff": version} if version else {}


# uv's own layout of a package's artefacts: one `sdist = { ... }` line, and `wheels = [`
# with one `    { ... },` line per wheel, closed by `]` alone on its line.
_LOCK_ARTEFACTS = re.compile(
    r"^sdist = \{[^\n]*\}\n|^wheels = \[\n(?:    \{[^\n]*\},\n)*\]\n", re.M
)


def _yaml_load(text: str) -> Any:
    """`yaml.safe_load(text)`, parsed by libyaml when PyYAML has it (several times faster).

    The C parser feeds the same safe constructor, so a document gives the same data. A
    document it refuses is parsed again in Python, so that the error is PyYAML's own.
    """
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)  # noqa: S506 # nosec B506
        except (yaml.YAMLError, RecursionError):
            pass
    return yaml.safe_load(text)


def _excluded(rel_to_project: str) -> bool:
    parts = PurePosixPath(rel_to_project).parts[:-1]
    name = PurePosixPath(rel_to_project).name
    if name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py":
        return True
    return any(part in EXCLUDED_DIRS or part.startswith(".") for part in parts)


def _too_deep(text: str, limit: int) -> bool:
    """`_nesting_depth(text) > limit`, skipping the character loop when brackets are few."""
    if text.count("(") + text.count("[") + text.count("{") <= limit:
        return False  # the depth never exceeds the number of opening brackets
    return _nesting_depth(text) > limit


def _nesting_depth(text: str) -> int:
    """Cheap upper bound of bracket nesting, to refuse sources that would overflow the parser.

    The depth after each bracket, never below zero, is the running sum of +1 (opening) and
    -1 (closing) minus the lowest the sum has been (when below zero): computed with C-level
    iterators over the brackets alone, not a Python loop over every character.
    """
    brackets = _NOT_BRACKETS.sub("", text)
    if not brackets:
        return 0
    sums: list[int] = list(accumulate(map(_BRACKET_STEP.__getitem__, brackets)))
    floors: Iterator[int] = map(min, accumulate(sums, min), repeat(0))
    depths: Iterator[int] = map(sub, sums, floors)
    return max(0, max(depths))


_NOT_BRACKETS = re.compile(r"[^()\[\]{}]+")
_BRACKET_STEP = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


if sys.getrecursionlimit() < 3000:
    sys.setrecursionlimit(3000)
