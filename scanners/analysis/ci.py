"""What the CI pipelines and pre-commit hooks of a checkout run, as text to match against.

YAML is parsed with `ctx.load_yaml` (safe loader) and walked once per distinct container with
a node budget, so YAML bombs (aliases as shared references) cost nothing. Only
command-bearing strings are kept: labels such as `name:` ("Type safety") never count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from scanners.context import RepoContext

CI_FILES = (
    ".gitlab-ci.yml",
    ".gitlab-ci.yaml",
    "Jenkinsfile",
    ".circleci/config.yml",
    ".circleci/config.yaml",
    "azure-pipelines.yml",
    "azure-pipelines.yaml",
    "bitbucket-pipelines.yml",
    ".travis.yml",
    ".drone.yml",
    ".woodpecker.yml",
)
CI_DIRS = (".github/workflows", ".gitea/workflows", ".forgejo/workflows", ".woodpecker")
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
_LABEL_KEYS = frozenset({"name", "displayName", "description", "title", "label", "if", "when"})
_WALK_BUDGET = 50_000
# Files a pipeline delegates to, keyed by the command that reaches them.
_DELEGATES = (
    (re.compile(r"\bmake\b"), ("Makefile", "makefile", "GNUmakefile")),
    (re.compile(r"\bjust\b"), ("justfile", "Justfile", ".justfile")),
    (re.compile(r"\btox\b"), ("tox.ini",)),
    (re.compile(r"\bnox\b"), ("noxfile.py",)),
)
_RUNS_PRE_COMMIT = re.compile(r"\bpre-commit\b|\bprek\b")


@dataclass(slots=True)
class CiConfig:
    """One pipeline file (or a file it delegates to) and the commands it holds."""

    path: str
    commands: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def text(self) -> str:
        """All commands, one per line."""
        return "\n".join(self.commands)


@dataclass(frozen=True, slots=True)
class Hook:
    """One pre-commit hook: its id, the repository it comes from and its entry."""

    id: str
    repo: str
    entry: str = ""

    @property
    def text(self) -> str:
        """Everything that names what the hook runs."""
        return f"{self.id} {self.repo} {self.entry}"


@dataclass(slots=True)
class PreCommit:
    """The pre-commit configuration: its path, hooks, or why it could not be read."""

    path: str | None
    hooks: list[Hook] = field(default_factory=list)
    error: str | None = None


def candidate_paths(ctx: RepoContext, rel: str) -> list[str]:
    """`rel` at the project root, then at the repository root (without duplicates)."""
    paths = [ctx.path(rel), rel]
    return list(dict.fromkeys(paths))


def find_file(ctx: RepoContext, *names: str) -> str | None:
    """The first tracked file among `names`, project root first, then repository root."""
    for name in names:
        for path in candidate_paths(ctx, name):
            if ctx.exists(path):
                return path
    return None


def ci_paths(ctx: RepoContext) -> list[str]:
    """Tracked CI configuration files at the repository or project root."""
    found: list[str] = []
    for rel in CI_FILES:
        found.extend(p for p in candidate_paths(ctx, rel) if ctx.exists(p))
    for folder in CI_DIRS:
        for base in candidate_paths(ctx, folder):
            found.extend(
                p
                for p in ctx.files
                if p.startswith(f"{base}/")
                and p.endswith((".yml", ".yaml"))
                and "/" not in p[len(base) + 1 :]
            )
    return list(dict.fromkeys(found))


def load_ci(ctx: RepoContext) -> list[CiConfig]:
    """Every CI configuration and the task files (Makefile, tox.ini...) its commands call.

    Computed once per context (WF-004 and DSEC-002 both read it): a shared list, do not
    mutate.
    """
    return ctx.memo("load_ci", _load_ci)


def _load_ci(ctx: RepoContext) -> list[CiConfig]:
    configs = [_load_one(ctx, path) for path in ci_paths(ctx)]
    joined = "\n".join(c.text for c in configs)
    for pattern, names in _DELEGATES:
        if pattern.search(joined):
            path = find_file(ctx, *names)
            text = ctx.read_text(path) if path else None
            if path and text is not None:
                configs.append(CiConfig(path, _strip_comments(text, "#")))
    if _RUNS_PRE_COMMIT.search(joined):
        pre_commit = load_pre_commit(ctx)
        if pre_commit.path and pre_commit.hooks:
            configs.append(CiConfig(pre_commit.path, [h.text for h in pre_commit.hooks]))
    return configs


def _load_one(ctx: RepoContext, path: str) -> CiConfig:
    if not path.endswith((".yml", ".yaml")):
        text = ctx.read_text(path)
        if text is None:
            return CiConfig(path, error="unreadable or binary")
        return CiConfig(path, _strip_comments(text, "//"))
    data = ctx.load_yaml(path)
    if data is None:
        return CiConfig(path, error=ctx.parse_error(path) or "empty or unreadable")
    return CiConfig(path, list(walk_strings(data)))


def _strip_comments(text: str, marker: str) -> list[str]:
    return [line for line in text.splitlines() if not line.lstrip().startswith(marker)]


def walk_strings(data: Any, budget: int = _WALK_BUDGET) -> Iterator[str]:
    """Command-bearing strings of parsed YAML; each container once, at most `budget` nodes."""
    seen: set[int] = set()
    stack: list[Any] = [data]
    while stack and budget > 0:
        node = stack.pop()
        budget -= 1
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict | list):
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, dict):
                stack.extend(v for k, v in node.items() if k not in _LABEL_KEYS)
            else:
                stack.extend(node)


def load_pre_commit(ctx: RepoContext) -> PreCommit:
    """Hooks of `.pre-commit-config.yaml` (project root first, then repository root)."""
    path = find_file(ctx, PRE_COMMIT_CONFIG, ".pre-commit-config.yml")
    if path is None:
        return PreCommit(None)
    data = ctx.load_yaml(path)
    if not isinstance(data, dict):
        error = ctx.parse_error(path) or "not a mapping with `repos:`"
        return PreCommit(path, error=error)
    repos = data.get("repos")
    if not isinstance(repos, list):
        return PreCommit(path, error="no `repos:` list")
    hooks: list[Hook] = []
    for repo in repos[:500]:
        if not isinstance(repo, dict) or not isinstance(repo.get("hooks"), list):
            continue
        url = repo.get("repo")
        for hook in repo["hooks"][:500]:
            if isinstance(hook, dict) and isinstance(hook.get("id"), str):
                entry = hook.get("entry")
                hooks.append(
                    Hook(
                        hook["id"],
                        str(url) if isinstance(url, str) else "",
                        entry if isinstance(entry, str) else "",
                    )
                )
    return PreCommit(path, hooks)
