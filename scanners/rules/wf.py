"""Development Workflow: pre-commit hooks, a CI pipeline, a Dockerfile."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from scanners.analysis.ci import PRE_COMMIT_CONFIG, load_ci, load_pre_commit
from scanners.analysis.history import Branch, HistoryUnavailable
from scanners.context import RepoContext
from scanners.results import Evidence, RuleResult
from scanners.rules import register
from scanners.rules.base import Rule

# Hook categories: a hook matches by its id or by the command of its `entry`.
HOOKS: dict[str, tuple[frozenset[str], re.Pattern[str]]] = {
    "black or ruff-format": (
        frozenset({"black", "black-jupyter", "ruff-format"}),
        re.compile(r"\bblack\b|\bruff\s+format\b"),
    ),
    "ruff": (frozenset({"ruff", "ruff-check"}), re.compile(r"\bruff\b(?!\s+format)")),
    "mypy": (frozenset({"mypy"}), re.compile(r"\bmypy\b")),
    "detect-secrets": (frozenset({"detect-secrets"}), re.compile(r"\bdetect-secrets\b")),
}
CI_CHECKS: dict[str, re.Pattern[str]] = {
    "lint": re.compile(
        r"\bruff\b(?!\s+format)|\bflake8\b|\bpylint\b|\bblack\b[^\n]*--check"
        r"|ruff-action"
    ),
    "type check": re.compile(r"\bmypy\b|\b(?:based)?pyright\b|\bpytype\b|\bty\s+check\b"),
    "tests with coverage": re.compile(r"--cov\b|\bcoverage\s+run\b|\bpytest-cov\b"),
    "security scan": re.compile(
        r"\bbandit\b|\bpip-audit\b|\bpip_audit\b|\bsafety\s+(?:check|scan)\b|pyupio/safety"
        r"|\bsemgrep\b|\btrivy\b|codeql|\bsnyk\b|\bosv-scanner\b|\bgrype\b"
        r"|dependency-review-action|\bruff\b[^\n]*--(?:extend-)?select[ =]\S*\bS\b",
        re.IGNORECASE,
    ),
}
DOCKERFILE_NAMES = ("Dockerfile", "Containerfile")
_FROM = re.compile(r"^\s*FROM\s+\S+", re.IGNORECASE | re.MULTILINE)


@register
class PreCommitHooks(Rule):
    """`.pre-commit-config.yaml` runs black/ruff-format, ruff, mypy and detect-secrets."""

    id = "WF-001"
    heuristic = (
        "Parses .pre-commit-config.yaml (project root, then repository root) with the safe "
        "YAML loader; a hook counts by id, repository URL or local `entry` command. "
        "detect-secrets is required by name (other secret scanners do not replace it)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Check the four required hooks."""
        config = load_pre_commit(ctx)
        if config.path is None:
            return self.failed(
                "No pre-commit configuration.",
                [Evidence(PRE_COMMIT_CONFIG, None, "add .pre-commit-config.yaml")],
            )
        if config.error is not None:
            return self.failed(
                f"{config.path} cannot be read.", [Evidence(config.path, None, config.error)]
            )
        missing = [
            name
            for name, (ids, entry) in HOOKS.items()
            if not any(h.id in ids or entry.search(h.entry) for h in config.hooks)
        ]
        if missing:
            return self.failed(
                f"pre-commit lacks {', '.join(missing)}.",
                [Evidence(config.path, None, f"missing hooks: {', '.join(missing)}")],
            )
        return self.passed(f"{config.path} runs every required hook.")


@register
class CiPipeline(Rule):
    """A CI pipeline runs lint, type check, tests with coverage and a security scan."""

    id = "WF-004"
    heuristic = (
        "Reads GitHub/Gitea/Forgejo workflows, .gitlab-ci.yml, Jenkinsfile, CircleCI, Azure, "
        "Bitbucket, Travis, Drone and Woodpecker files (repository and project root). Only "
        "commands count (step names and comments do not); Makefile/justfile/tox/nox targets "
        "and pre-commit hooks count when the pipeline calls them. All four pass, some warn."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Match the pipeline commands against the four kinds of checks."""
        configs = load_ci(ctx)
        if not configs:
            return self.failed(
                "No CI pipeline.",
                [
                    Evidence(
                        ".github/workflows",
                        None,
                        "add a CI workflow (GitHub Actions, GitLab CI...)",
                    )
                ],
            )
        broken = [Evidence(c.path, None, c.error) for c in configs if c.error]
        text = "\n".join(c.text for c in configs)
        found = [name for name, pattern in CI_CHECKS.items() if pattern.search(text)]
        missing = [name for name in CI_CHECKS if name not in found]
        if not missing:
            return self.passed("CI runs lint, type check, tests with coverage and a security scan.")
        evidence = [*broken, Evidence(configs[0].path, None, f"CI lacks {', '.join(missing)}")]
        if found:
            return self.warned(
                f"CI runs {', '.join(found)} but not {', '.join(missing)}.", evidence
            )
        return self.failed("CI runs none of lint, type check, coverage, security scan.", evidence)


def dockerfiles(ctx: RepoContext) -> list[str]:
    """Tracked Dockerfiles: `Dockerfile`, `Containerfile`, `*.Dockerfile`, `Dockerfile.*`."""
    out = []
    for path in ctx.files:
        name = PurePosixPath(path).name
        if (
            name in DOCKERFILE_NAMES
            or name.endswith((".Dockerfile", ".dockerfile"))
            or name.startswith(tuple(f"{n}." for n in DOCKERFILE_NAMES))
        ):
            out.append(path)
    return sorted(out, key=lambda p: (p.count("/"), p))


@register
class Dockerfile(Rule):
    """A Dockerfile builds the service."""

    id = "WF-005"
    heuristic = "A tracked Dockerfile/Containerfile/*.Dockerfile/Dockerfile.* with a FROM line."

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Find a Dockerfile with a FROM instruction."""
        paths = dockerfiles(ctx)
        for path in paths:
            if _FROM.search(ctx.read_text(path) or ""):
                return self.passed(f"{path} builds an image.")
        if paths:
            return self.failed(
                "No Dockerfile has a FROM instruction.",
                [Evidence(p, None, "no FROM line") for p in paths],
            )
        return self.failed(
            "No Dockerfile.", [Evidence(ctx.path("Dockerfile"), None, "add a Dockerfile")]
        )


MAX_EVIDENCE = 50
COMMIT_WINDOW = 100
CONVENTIONAL_SHARE = 0.9
CONVENTIONAL_TYPES = (
    "feat", "fix", "docs", "style", "refactor", "perf", "test", "tests", "build", "ci", "chore",
    "revert", "deps", "security", "release",
)  # fmt: skip
_CONVENTIONAL = re.compile(
    rf"^(?:(?:{'|'.join(CONVENTIONAL_TYPES)})(?:\([^()\n]*\))?!?: \S|Revert \")", re.IGNORECASE
)
LONG_LIVED_BRANCHES = frozenset({"main", "master", "develop"})
BRANCH_PREFIXES = ("feature/", "bugfix/", "hotfix/")
#: Branches that dependency bots and pre-commit.ci create (DSEC-001 asks for the bots).
BOT_BRANCHES = re.compile(r"^(?:dependabot|renovate)/|^pre-commit-ci-update-config$")


def is_conventional(subject: str) -> bool:
    """Whether a commit subject follows Conventional Commits (`type(scope)!: summary`)."""
    return bool(_CONVENTIONAL.match(subject))


@register
class ConventionalCommits(Rule):
    """At least 90% of the last 100 non-merge commits follow Conventional Commits."""

    id = "WF-002"
    heuristic = (
        f"Types accepted (any case): {', '.join(CONVENTIONAL_TYPES)}; an optional (scope) and "
        '`!`, then `: ` and a summary. Git\'s own `Revert "..."` subjects count as conforming.'
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Share of conforming subjects among the last 100 non-merge commits."""
        try:
            commits = ctx.history.commits(COMMIT_WINDOW)
        except HistoryUnavailable as exc:
            return self.not_applicable(exc.reason)
        if not commits:
            return self.not_applicable("no non-merge commits to judge")
        off = [c for c in commits if not is_conventional(c.subject)]
        share = 1 - len(off) / len(commits)
        summary = f"{share:.0%} of the last {len(commits)} non-merge commits are conventional"
        if share >= CONVENTIONAL_SHARE:
            return self.passed(summary)
        evidence = [Evidence(None, None, f"{c.short} {c.subject!r}") for c in off[:MAX_EVIDENCE]]
        return self.failed(f"{summary} (need {CONVENTIONAL_SHARE:.0%})", evidence)


def _branch_ok(branch: Branch) -> bool:
    name = branch.name
    if name in LONG_LIVED_BRANCHES or BOT_BRANCHES.search(name):
        return True
    return any(name.startswith(p) and len(name) > len(p) for p in BRANCH_PREFIXES)


@register
class BranchNaming(Rule):
    """Branches other than main/master/develop are named feature/, bugfix/ or hotfix/."""

    id = "WF-003"
    heuristic = (
        "Reads local branches and remote-tracking branches (a scanned clone keeps the "
        "remote's branches there). Dependabot, Renovate and pre-commit.ci branches are exempt."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail listing branches with another name."""
        try:
            branches = ctx.history.branches()
        except HistoryUnavailable as exc:
            return self.not_applicable(exc.reason)
        bad = sorted({b.name for b in branches if not _branch_ok(b)})
        if not bad:
            return self.passed(f"{len(branches)} branch ref(s) follow the naming convention")
        evidence = [
            Evidence(None, None, f"branch {name!r}: name it feature/, bugfix/ or hotfix/...")
            for name in bad[:MAX_EVIDENCE]
        ]
        return self.failed(f"{len(bad)} branch(es) outside the naming convention", evidence)
