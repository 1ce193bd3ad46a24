"""Project discovery: the Python projects of a checkout, and which one a scan judges.

A checkout may hold one project at its root, a uv workspace (a root `pyproject.toml` with
`[tool.uv.workspace] members = [...]` and member projects), several services side by side
(`services/a`, `services/b`; `src/api`, `src/app`), a service declared by requirements files
only, or a `setup.py`/`setup.cfg` project. `discover` lists them as `Candidate`s and chooses
the one to judge:

1. the folder the user named (`--project-dir`, the registration's project folder), always;
2. otherwise the one candidate that holds a web app (a FastAPI, Litestar, Flask, Quart, Sanic
   or Starlette application object, Pyramid's `make_wsgi_app()`, or Django's WSGI/ASGI
   application); when several do, the shallowest
   (a declared project before a requirements-only folder, then by path), and the others are
   listed so the user can name one;
3. otherwise the shallowest candidate with a declared project; otherwise the repository root.

A workspace root without `[project]` whose member holds the app is thereby judged at the
member; a workspace root that is the service (its own code holds the app, its members are
libraries) is judged at the root: a member's code is never counted as its root's.

Folders never searched: virtual environments, `node_modules`, vendored and third-party
code, build output, hidden folders and test folders (fixtures of other projects live
there). Templates and examples (`{{cookiecutter.*}}`, `template(s)/`, `example(s)/`,
`docs/`) are searched only when nothing else holds a project: a cookiecutter repository is
judged at its template, a service is never judged at its documentation's sample code.

Nothing is executed: manifests are parsed as TOML, Python files only when their text names
an application class, and then with `ast`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal, Protocol

from scanners import tomlparse

Kind = Literal["workspace-root", "workspace-member", "standalone", "requirements-only"]

#: Folders whose content is never a project of the checkout.
SKIPPED_DIRS = frozenset(
    {
        ".venv",
        "venv",
        "env",
        "virtualenv",
        "node_modules",
        "site-packages",
        "vendor",
        "vendored",
        "third_party",
        "__pycache__",
        "build",
        "dist",
        "tests",
        "test",
        "testdata",
        "test_data",
        "fixtures",
    }
)
#: Folders searched only when nothing outside them holds a project.
TEMPLATE_DIRS = frozenset(
    {"template", "templates", "example", "examples", "docs", "docs_src", "samples"}
)
#: Folders inside a project whose Python files are not its app code.
_NOT_APP_CODE = SKIPPED_DIRS | {"migrations", "alembic", "scripts"}
LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock")
_REQUIREMENTS = re.compile(r"^requirements[\w.-]*\.(txt|in)$", re.I)
_APP_TEXT = re.compile(
    r"\b(FastAPI|Litestar|Flask|Quart|Sanic|Starlette|make_wsgi_app)\s*\("
    r"|\bget_[aw]sgi_application\s*\("
)
_APP_CALLS = {
    "FastAPI": "FastAPI",
    "Litestar": "Litestar",
    "Flask": "Flask",
    "Quart": "Quart",
    "Sanic": "Sanic",
    "Starlette": "Starlette",
    "make_wsgi_app": "Pyramid",
    "get_asgi_application": "Django",
    "get_wsgi_application": "Django",
}
#: Python sources larger than this are not searched for an application object.
_MAX_APP_SOURCE = 512 * 1024
KIND_LABELS = {
    "workspace-root": "uv workspace root",
    "workspace-member": "uv workspace member",
    "standalone": "standalone project",
    "requirements-only": "requirements-only service",
}


class Checkout(Protocol):
    """What discovery reads of a checkout (`RepoContext` provides it)."""

    @property
    def files(self) -> list[str]:
        """Tracked files, repository-relative posix paths."""
        ...

    def read_text(self, rel: str) -> str | None:
        """Text of a tracked file, or None."""
        ...


@dataclass(frozen=True, slots=True)
class WebApp:
    """An application object found in a project's code."""

    framework: str
    path: str
    line: int

    def describe(self) -> str:
        """`FastAPI app in backend/app/main.py:12`."""
        return f"{self.framework} app in {self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One Python project of the checkout."""

    folder: str  # repository-relative, '' for the root
    kind: Kind
    manifest: str  # the file that makes it a project (pyproject.toml, setup.py, requirements)
    declares_project: bool  # a [project] table, setup() call or requirements: it has deps
    web_app: WebApp | None
    lock: str | None  # repository-relative lock that governs it, if any
    workspace: str | None = None  # a member's workspace root folder
    template: bool = False  # found in a template/example folder

    @property
    def label(self) -> str:
        """The folder as shown to people: `.` for the root."""
        return self.folder or "."

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (docs/report-schema.json `discovery.candidates[]`)."""
        return {
            "folder": self.folder,
            "kind": self.kind,
            "manifest": self.manifest,
            "web_app": self.web_app.describe() if self.web_app else None,
            "lock": self.lock,
            "workspace": self.workspace,
        }


@dataclass(frozen=True, slots=True)
class Discovery:
    """The candidates of a checkout and the folder a scan judges."""

    chosen: str
    reason: str
    candidates: tuple[Candidate, ...]
    named: bool = False  # the folder was named by the user

    def candidate(self, folder: str) -> Candidate | None:
        """The candidate at `folder`, if that folder is one."""
        return next((c for c in self.candidates if c.folder == folder), None)

    @property
    def others(self) -> list[Candidate]:
        """Candidates other than the judged one."""
        return [c for c in self.candidates if c.folder != self.chosen]

    def uv_lock(self) -> str:
        """Repository-relative `uv.lock` that governs the judged project.

        A workspace member's lock is its workspace root's; anything else: its own folder's.
        """
        found = self.candidate(self.chosen)
        if found is not None and found.lock is not None and found.lock.endswith("uv.lock"):
            return found.lock
        if found is not None and found.workspace is not None:
            return _join(found.workspace, "uv.lock")  # where `uv lock` writes it
        return _join(self.chosen, "uv.lock")

    def lock_source(self) -> str:
        """The judged project's folder relative to its uv.lock's folder ('.' when the same)."""
        lock_dir = str(PurePosixPath(self.uv_lock()).parent)
        lock_dir = "" if lock_dir == "." else lock_dir
        if lock_dir == self.chosen:
            return "."
        return self.chosen[len(lock_dir) + 1 :] if lock_dir else self.chosen

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (docs/report-schema.json `discovery`)."""
        return {
            "chosen": self.chosen,
            "reason": self.reason,
            "named": self.named,
            "candidates": [c.to_dict() for c in self.candidates],
        }


def describe_kind(candidate: Candidate) -> str:
    """`uv workspace member with a web app`: the candidate's kind for people."""
    label = KIND_LABELS[candidate.kind]
    return f"{label} with a web app" if candidate.web_app is not None else label


def normalise_folder(folder: str) -> str:
    """A user-given project folder as a repository-relative posix path ('' for the root)."""
    text = folder.replace("\\", "/").strip().strip("/")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    return "/".join(parts)


def discover(checkout: Checkout, named: str | None = None) -> Discovery:
    """The candidates of `checkout` and the one to judge (`named` when given)."""
    candidates = find_candidates(checkout)
    if named is not None:
        return _named(normalise_folder(named), candidates, checkout)
    return _choose(candidates)


# ----- finding candidates ----------------------------------------------------------------
def find_candidates(checkout: Checkout) -> tuple[Candidate, ...]:
    """Every Python project of the checkout, sorted by folder."""
    files = [f for f in checkout.files if not _skipped(f)]
    primary = [f for f in files if not _in_template(f)]
    found = _candidates_in(checkout, primary, template=False)
    if not found:
        found = _candidates_in(checkout, files, template=True)
    return tuple(sorted(found, key=lambda c: (c.folder.count("/") if c.folder else -1, c.folder)))


def _candidates_in(checkout: Checkout, files: list[str], *, template: bool) -> list[Candidate]:
    file_set = set(files)
    by_folder: dict[str, list[str]] = {}
    for name in files:
        by_folder.setdefault(_parent(name), []).append(PurePosixPath(name).name)
    pyprojects = {
        folder: _load_toml(checkout, _join(folder, "pyproject.toml"))
        for folder, names in by_folder.items()
        if "pyproject.toml" in names
    }
    members = _workspace_members(pyprojects)
    folders = _declared_folders(checkout, by_folder, pyprojects, members)
    requirement_folders = _requirement_folders(by_folder)
    apps = _web_apps(checkout, files, set(folders) | set(requirement_folders))
    for folder, manifest in requirement_folders.items():
        if folder in folders or not _has_python(file_set, folder):
            continue
        nested = any(_inside(folder, other) for other in folders)
        if nested and folder not in apps:
            continue  # a plugin's or a tool's requirements inside a project, not a service
        folders[folder] = ("requirements-only", manifest, True)
    return [
        Candidate(
            folder=folder,
            kind=kind,
            manifest=manifest,
            declares_project=declares,
            web_app=apps.get(folder),
            lock=_lock(file_set, folder, members.get(folder)),
            workspace=members.get(folder),
            template=template,
        )
        for folder, (kind, manifest, declares) in folders.items()
    ]


def _declared_folders(
    checkout: Checkout,
    by_folder: dict[str, list[str]],
    pyprojects: dict[str, dict[str, Any]],
    members: dict[str, str],
) -> dict[str, tuple[Kind, str, bool]]:
    """Folder -> (kind, manifest, declares a project) for pyproject and setup.py projects."""
    out: dict[str, tuple[Kind, str, bool]] = {}
    for folder, data in pyprojects.items():
        kind: Kind = "standalone"
        if folder in members:
            kind = "workspace-member"
        elif _workspace_table(data) is not None:
            kind = "workspace-root"
        out[folder] = (kind, _join(folder, "pyproject.toml"), isinstance(data.get("project"), dict))
    for folder, names in by_folder.items():
        setup = None if folder in out else _setup_manifest(checkout, folder, names)
        if setup is not None:
            out[folder] = ("standalone", setup, True)
    return out


def _workspace_table(data: dict[str, Any]) -> dict[str, Any] | None:
    tool = data.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    workspace = uv.get("workspace") if isinstance(uv, dict) else None
    return workspace if isinstance(workspace, dict) else None


def _workspace_members(pyprojects: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Member folder -> workspace root folder, from every `[tool.uv.workspace]` table."""
    out: dict[str, str] = {}
    for root, data in sorted(pyprojects.items()):
        table = _workspace_table(data)
        if table is None:
            continue
        include = [_glob(root, g) for g in _strings(table.get("members"))]
        exclude = [_glob(root, g) for g in _strings(table.get("exclude"))]
        for folder in pyprojects:
            if folder == root or folder in out:
                continue
            if any(p.fullmatch(folder) for p in include) and not any(
                p.fullmatch(folder) for p in exclude
            ):
                out[folder] = root
    return out


def _glob(root: str, pattern: str) -> re.Pattern[str]:
    """A uv member glob (relative to the workspace root) as a regex over folders."""
    text = normalise_folder(pattern)
    out = []
    i = 0
    while i < len(text):
        if text.startswith("**", i):
            out.append(".*")
            i += 2
        elif text[i] == "*":
            out.append("[^/]*")
            i += 1
        elif text[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(text[i]))
            i += 1
    body = "".join(out)
    return re.compile(f"{re.escape(root)}/{body}" if root else body)


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _setup_manifest(checkout: Checkout, folder: str, names: list[str]) -> str | None:
    """`setup.py` calling `setup(...)`, or `setup.cfg` with `[metadata]`/`[options]`."""
    if "setup.py" in names:
        rel = _join(folder, "setup.py")
        if re.search(r"\bsetup\s*\(", checkout.read_text(rel) or ""):
            return rel
    if "setup.cfg" in names:
        rel = _join(folder, "setup.cfg")
        if re.search(r"^\[(metadata|options)\]", checkout.read_text(rel) or "", re.M):
            return rel
    return None


def _requirement_folders(by_folder: dict[str, list[str]]) -> dict[str, str]:
    """Folder -> its first requirements file (`requirements*.txt` or `requirements/*.txt`)."""
    out: dict[str, str] = {}
    for folder, names in sorted(by_folder.items()):
        for name in sorted(names):
            if _REQUIREMENTS.match(name):
                out.setdefault(folder, _join(folder, name))
            elif PurePosixPath(folder).name == "requirements" and name.endswith((".txt", ".in")):
                out.setdefault(_parent(folder), _join(folder, name))
    return out


def _has_python(files: set[str], folder: str) -> bool:
    prefix = f"{folder}/" if folder else ""
    return any(f.startswith(prefix) and f.endswith(".py") for f in files)


def _lock(files: set[str], folder: str, workspace: str | None) -> str | None:
    """The lock that governs a project: its workspace root's uv.lock, else its own lock."""
    if workspace is not None and _join(workspace, "uv.lock") in files:
        return _join(workspace, "uv.lock")
    return next((_join(folder, n) for n in LOCK_FILES if _join(folder, n) in files), None)


# ----- web applications ------------------------------------------------------------------
def _web_apps(checkout: Checkout, files: list[str], folders: set[str]) -> dict[str, WebApp]:
    """Folder -> the first application object in the code it owns (nested projects own theirs)."""
    out: dict[str, WebApp] = {}
    for name in files:
        if not name.endswith(".py"):
            continue
        owner = _owner(name, folders)
        if owner is None or not _app_code(name[len(owner) + 1 if owner else 0 :]):
            continue
        if owner in out and out[owner].framework != "Django":
            continue
        app = find_web_app(name, checkout.read_text)
        # Django's WSGI/ASGI entry point only when the code builds no other application:
        # a FastAPI service that mounts Django is a FastAPI service.
        if app is not None and (owner not in out or app.framework != "Django"):
            out[owner] = app
    return out


def find_web_app(rel: str, read_text: Callable[[str], str | None]) -> WebApp | None:
    """The first application object built in one Python file, found without running it."""
    text = read_text(rel)
    if not text or len(text) > _MAX_APP_SOURCE or not _APP_TEXT.search(text):
        return None
    try:
        tree = ast.parse(text, filename=rel)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    found = [
        (node.lineno, _APP_CALLS[name])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and (name := _callee(node.func)) in _APP_CALLS
    ]
    if not found:
        return None
    line, framework = min(found)
    return WebApp(framework, rel, line)


def _callee(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _owner(name: str, folders: set[str]) -> str | None:
    """The deepest folder among `folders` that contains the file `name`."""
    for parent in PurePosixPath(name).parents:
        folder = "" if str(parent) == "." else str(parent)
        if folder in folders:
            return folder
    return None


def _app_code(rel_to_project: str) -> bool:
    path = PurePosixPath(rel_to_project)
    if path.name.startswith("test_") or path.name == "conftest.py":
        return False
    return not any(part in _NOT_APP_CODE for part in path.parts[:-1])


# ----- choosing ----------------------------------------------------------------------------
def _named(folder: str, candidates: tuple[Candidate, ...], checkout: Checkout) -> Discovery:
    found = next((c for c in candidates if c.folder == folder), None)
    if found is not None:
        reason = f"named by the user: a {describe_kind(found)}{_member_note(found)}"
    elif folder and not any(_inside(f, folder) for f in checkout.files):
        reason = "named by the user, but no tracked file is below that folder"
    else:
        reason = (
            "named by the user, but not a detected Python project "
            "(no pyproject.toml, setup.py or requirements file with Python code)"
        )
    return Discovery(folder, reason, candidates, named=True)


def _member_note(candidate: Candidate) -> str:
    if candidate.kind != "workspace-member":
        return ""
    where = candidate.workspace or "the repository root"
    return f"; a member of the uv workspace at {where}, whose uv.lock it uses"


def _choose(candidates: tuple[Candidate, ...]) -> Discovery:
    if not candidates:
        return Discovery("", "no Python project found: judged the repository root", candidates)
    pool = [c for c in candidates if not c.template] or list(candidates)
    web = sorted((c for c in pool if c.web_app is not None), key=_rank)
    if web:
        chosen = web[0]
        app = chosen.web_app.describe() if chosen.web_app is not None else ""
        if len(web) > 1:
            others = ", ".join(c.label for c in web[1:])
            why = (
                f"{len(web)} projects hold a web app; judged the shallowest ({app}); "
                f"name another project folder to judge it: {others}"
            )
        else:
            why = f"the only project with a web app ({app})"
    else:
        chosen = sorted(pool, key=lambda c: (not c.declares_project, *_rank(c)))[0]
        why = f"no project holds a web app: judged the shallowest {KIND_LABELS[chosen.kind]}"
    why += _member_note(chosen)
    if chosen.template:
        why += "; inside a template folder, as nothing else holds a project"
    return Discovery(chosen.folder, why, candidates)


def _rank(c: Candidate) -> tuple[int, int, str]:
    depth = c.folder.count("/") + 1 if c.folder else 0
    return (c.kind == "requirements-only", depth, c.folder)


# ----- paths -------------------------------------------------------------------------------
def _skipped(rel: str) -> bool:
    return any(p in SKIPPED_DIRS or p.startswith(".") for p in PurePosixPath(rel).parts[:-1])


def _in_template(rel: str) -> bool:
    return any(p in TEMPLATE_DIRS or "{{" in p or "{%" in p for p in PurePosixPath(rel).parts[:-1])


def _parent(rel: str) -> str:
    parent = str(PurePosixPath(rel).parent)
    return "" if parent == "." else parent


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _inside(path: str, folder: str) -> bool:
    """Whether `path` is strictly below `folder` ('' is the root, which holds everything)."""
    return path != folder and (not folder or path.startswith(f"{folder}/"))


def _load_toml(checkout: Checkout, rel: str) -> dict[str, Any]:
    text = checkout.read_text(rel)
    if text is None:
        return {}
    try:
        return tomlparse.loads(text)
    except (tomlparse.TOMLDecodeError, RecursionError):
        return {}  # the judged project's own reader reports the error
