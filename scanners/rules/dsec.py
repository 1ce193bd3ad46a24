"""Dependency Security: automated updates and a vulnerability audit."""

from __future__ import annotations

import json
import re
from typing import Any

from scanners.analysis.ci import load_ci, load_pre_commit
from scanners.context import RepoContext
from scanners.results import Evidence, RuleResult
from scanners.rules import register
from scanners.rules.base import Rule

DEPENDABOT = (".github/dependabot.yml", ".github/dependabot.yaml")
RENOVATE = (
    "renovate.json",
    "renovate.json5",
    ".renovaterc",
    ".renovaterc.json",
    ".renovaterc.json5",
    ".github/renovate.json",
    ".github/renovate.json5",
    ".gitlab/renovate.json",
    ".gitlab/renovate.json5",
)
PYTHON_ECOSYSTEMS = frozenset({"pip", "uv", "poetry", "pipenv"})
AUDIT = re.compile(r"\bpip-audit\b|\bpip_audit\b|\bsafety\b|pyupio/safety", re.IGNORECASE)
AUDIT_HOOKS = frozenset({"pip-audit", "safety", "python-safety-dependencies-check"})


def _dependabot(ctx: RepoContext, path: str) -> RuleResult:
    data = ctx.load_yaml(path)
    updates = data.get("updates") if isinstance(data, dict) else None
    if not isinstance(updates, list) or not updates:
        why = ctx.parse_error(path) or "no `updates:` entries"
        return Rule.failed("Dependabot is not configured.", [Evidence(path, None, why)])
    ecosystems = {str(u.get("package-ecosystem")) for u in updates[:200] if isinstance(u, dict)}
    if ecosystems & PYTHON_ECOSYSTEMS:
        return Rule.passed(f"Dependabot updates {', '.join(sorted(ecosystems))}.")
    return Rule.warned(
        "Dependabot does not update the Python dependencies.",
        [Evidence(path, None, "add an `updates:` entry with package-ecosystem: uv (or pip)")],
    )


def _renovate_in_package_json(ctx: RepoContext) -> bool:
    """Whether the root `package.json` holds a `renovate` configuration object."""
    text = ctx.read_text("package.json")
    if text is None or '"renovate"' not in text:
        return False
    try:
        data: Any = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and isinstance(data.get("renovate"), dict)


@register
class AutomatedDependencyUpdates(Rule):
    """Automated dependency updates are configured (Dependabot or Renovate)."""

    id = "DSEC-001"
    heuristic = (
        "At the repository root, where the bots read them: Dependabot (.github/dependabot.yml|"
        "yaml with `updates:`; warns when no Python ecosystem is listed) or a Renovate config "
        "(renovate.json(5), .renovaterc(.json), .github/.gitlab renovate.json, or a `renovate` "
        "key in package.json)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Find a Dependabot or Renovate configuration."""
        for path in RENOVATE:
            if ctx.exists(path):
                return self.passed(f"Renovate configured in {path}.")
        if _renovate_in_package_json(ctx):
            return self.passed("Renovate configured in package.json.")
        for path in DEPENDABOT:
            if ctx.exists(path):
                return _dependabot(ctx, path)
        return self.failed(
            "No automated dependency updates.",
            [Evidence(DEPENDABOT[0], None, "add Dependabot (or Renovate) configuration")],
        )


@register
class VulnerabilityAudit(Rule):
    """pip-audit or safety runs in CI or pre-commit."""

    id = "DSEC-002"
    heuristic = (
        "Searches CI commands (and what they delegate to) and pre-commit hook ids, entries "
        "and repositories for pip-audit or safety."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Look for pip-audit/safety in CI and pre-commit."""
        for config in load_ci(ctx):
            if AUDIT.search(config.text):
                return self.passed(f"Dependency audit runs from {config.path}.")
        pre_commit = load_pre_commit(ctx)
        for hook in pre_commit.hooks:
            if hook.id in AUDIT_HOOKS or AUDIT.search(f"{hook.entry} {hook.repo}"):
                return self.passed(f"Dependency audit hook {hook.id} in {pre_commit.path}.")
        where = pre_commit.path or ".github/workflows"
        return self.failed(
            "Neither pip-audit nor safety runs in CI or pre-commit.",
            [Evidence(where, None, "add `uv run pip-audit` to CI or a pip-audit hook")],
        )
