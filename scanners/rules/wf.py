"""Development Workflow: pre-commit hooks, a CI pipeline, a Dockerfile."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from scanners.analysis.ci import PRE_COMMIT_CONFIG, load_ci, load_pre_commit
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
