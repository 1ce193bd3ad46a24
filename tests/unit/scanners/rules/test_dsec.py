"""DSEC rules: automated dependency updates and a vulnerability audit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepo import golden_files
from tests.unit.scanners.rules.harness import FAIL, WARN, Case, case_ids, check
from tests.unit.scanners.rules.test_wf import PRE_COMMIT, WORKFLOW

DEPENDABOT = """\
version: 2
updates:
  - package-ecosystem: uv
    directory: /
    schedule: {interval: weekly}
  - package-ecosystem: github-actions
    directory: /
    schedule: {interval: weekly}
"""
BOT = ".github/dependabot.yml"
CI = ".github/workflows/ci.yml"
PC = ".pre-commit-config.yaml"
MINE = {BOT: DEPENDABOT, CI: WORKFLOW, PC: PRE_COMMIT}
GOLDEN = golden_files()
BASE = {rel: text for rel, text in MINE.items() if rel not in GOLDEN}
NO_BOTS = {rel: None for rel in GOLDEN if "dependabot" in rel or "renovate" in rel} | {BOT: None}
NO_AUDIT = {rel: None for rel in GOLDEN if rel.startswith(".github/workflows/")} | {
    CI: WORKFLOW.replace("          uv run pip-audit\n", ""),
    PC: PRE_COMMIT,
}
APP_LAYOUT = {
    "pyproject.toml": '[project]\nname = "orders"\nversion = "0.1.0"\n',
    "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    "renovate.json5": "{extends: ['config:recommended']}\n",
    ".gitlab-ci.yml": "audit:\n  script: [safety scan]\n",
}

# ----- DSEC-001 --------------------------------------------------------------------------------
DSEC001 = [
    Case("golden passes"),
    Case("renovate.json5 passes", files=APP_LAYOUT),
    Case(
        "backend subfolder with a root dependabot passes",
        prefix="backend/",
        repo_changes={BOT: DEPENDABOT},
    ),
    Case("yaml spelling passes", {**NO_BOTS, ".github/dependabot.yaml": DEPENDABOT}),
    Case(".renovaterc passes", {**NO_BOTS, ".renovaterc": "{}\n"}),
    Case(".github/renovate.json passes", {**NO_BOTS, ".github/renovate.json": "{}\n"}),
    Case(
        "renovate key in package.json passes",
        {**NO_BOTS, "package.json": '{"name": "x", "renovate": {"extends": ["config:base"]}}'},
    ),
    Case(
        "package.json without renovate fails",
        {**NO_BOTS, "package.json": '{"name": "x"}'},
        FAIL,
        path=BOT,
    ),
    Case("malformed package.json fails", {**NO_BOTS, "package.json": '{"renovate": {'}, FAIL),
    Case(
        "GitHub Actions updates only warn",
        {BOT: DEPENDABOT.replace("uv", "docker")},
        WARN,
        path=BOT,
        message="Python",
    ),
    Case("no updates fail", {BOT: "version: 2\nupdates: []\n"}, FAIL, path=BOT),
    Case("malformed dependabot fails", {BOT: "version: 2\nupdates: [\n"}, FAIL, path=BOT),
    Case(
        "dependabot under a subfolder is not read",
        {**NO_BOTS},
        FAIL,
        prefix="backend/",
        repo_changes={"backend/.github/dependabot.yml": DEPENDABOT},
        path=BOT,
    ),
    Case("nothing fails", NO_BOTS, FAIL, path=BOT),
]


@pytest.mark.parametrize("case", DSEC001, ids=case_ids(DSEC001))
def test_dsec001_automated_updates(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "DSEC-001", case, BASE)


# ----- DSEC-002 --------------------------------------------------------------------------------
AUDIT_HOOK = (
    "  - repo: https://github.com/pypa/pip-audit\n    rev: v2.10.0\n    hooks:\n"
    "      - id: pip-audit\n"
)
DSEC002 = [
    Case("golden passes"),
    Case("safety in GitLab CI passes", files=APP_LAYOUT),
    Case("backend subfolder passes", prefix="backend/"),
    Case("pip-audit pre-commit hook passes", {**NO_AUDIT, PC: PRE_COMMIT + AUDIT_HOOK}),
    Case(
        "audit through a Makefile passes",
        {
            **NO_AUDIT,
            "Makefile": "audit:\n\tuv run pip-audit\n",
            "Jenkinsfile": "sh 'make audit'\n",
        },
    ),
    Case("no audit fails", NO_AUDIT, FAIL, path=PC),
    Case(
        "a step named safety does not count",
        {**NO_AUDIT, CI: "jobs:\n  a:\n    steps:\n      - name: safety\n        run: echo\n"},
        FAIL,
        path=PC,
    ),
    Case(
        "no audit and no pre-commit fails", {**NO_AUDIT, PC: None}, FAIL, path=".github/workflows"
    ),
]


@pytest.mark.parametrize("case", DSEC002, ids=case_ids(DSEC002))
def test_dsec002_vulnerability_audit(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "DSEC-002", case, BASE)
