"""WF rules: pre-commit hooks, a CI pipeline, a Dockerfile; hostile YAML included."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.analysis.ci import walk_strings
from tests.gitrepo import golden_files
from tests.unit.scanners.rules.harness import FAIL, WARN, Case, case_ids, check

PRE_COMMIT = """\
repos:
  - repo: https://github.com/psf/black
    rev: 25.1.0
    hooks:
      - id: black
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: v0.17.5
    hooks:
      - id: ruff
        args: [--fix]
  - repo: https://github.com/pre-commit/mirrors-mypy
    rev: v2.4.1
    hooks:
      - id: mypy
  - repo: https://github.com/Yelp/detect-secrets
    rev: v1.5.0
    hooks:
      - id: detect-secrets
        args: [--baseline, .secrets.baseline]
"""
WORKFLOW = """\
name: CI
on: [push, pull_request]
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: astral-sh/setup-uv@v6
      - name: Lint
        run: |
          uv run ruff check .
          uv run black --check .
      - name: Types
        run: uv run mypy src
      - name: Tests
        run: uv run pytest --cov=src --cov-report=xml
      - name: Security
        run: |
          uv run bandit -r src
          uv run pip-audit
"""
DOCKERFILE = """\
# syntax=docker/dockerfile:1
FROM python:3.13-slim AS base
WORKDIR /app
COPY . .
CMD ["uvicorn", "src.main:app"]
"""
PC = ".pre-commit-config.yaml"
CI = ".github/workflows/ci.yml"
MINE = {PC: PRE_COMMIT, CI: WORKFLOW, "Dockerfile": DOCKERFILE}
GOLDEN = golden_files()
BASE = {rel: text for rel, text in MINE.items() if rel not in GOLDEN}
NO_CI = {rel: None for rel in GOLDEN if rel.startswith(".github/workflows/")} | {CI: None}

#: A "billion laughs" YAML: nine levels of nine aliases (10^9 leaves if expanded).
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)
LOCAL_HOOKS = """\
repos:
  - repo: local
    hooks:
      - {id: format, name: format, entry: uv run ruff format, language: system}
      - {id: lint, name: lint, entry: uv run ruff check --fix, language: system}
      - {id: types, name: types, entry: uv run mypy, language: system}
      - {id: detect-secrets, name: secrets, entry: detect-secrets-hook, language: system}
"""
GITLAB = """\
stages: [check]
lint:
  stage: check
  script: [flake8 app, pyright]
test:
  script:
    - coverage run -m pytest
    - coverage xml
security:
  script: [semgrep --config auto]
"""
APP_LAYOUT = {
    "pyproject.toml": '[project]\nname = "orders"\nversion = "0.1.0"\n',
    "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    PC: LOCAL_HOOKS,
    ".gitlab-ci.yml": GITLAB,
    "docker/Dockerfile": "from python:3.13\n",
}


def without_hook(hook_id: str) -> str:
    """The sample pre-commit config without one hook (which must be there)."""
    line = f"      - id: {hook_id}\n"
    assert line in PRE_COMMIT, hook_id
    return PRE_COMMIT.replace(line, "      - id: check-yaml\n")


# ----- WF-001 ----------------------------------------------------------------------------------
WF001 = [
    Case("golden passes"),
    Case("local hooks by entry pass", files=APP_LAYOUT),
    Case("backend subfolder passes", prefix="backend/"),
    Case("yml spelling passes", {PC: None, ".pre-commit-config.yml": PRE_COMMIT}),
    Case("ruff-format replaces black", {PC: PRE_COMMIT.replace("id: black", "id: ruff-format")}),
    Case(
        "missing detect-secrets fails",
        {PC: without_hook("detect-secrets")},
        FAIL,
        path=PC,
        message="detect-secrets",
    ),
    Case("missing mypy fails", {PC: without_hook("mypy")}, FAIL, path=PC, message="mypy"),
    Case(
        "ruff-format alone is not a linter",
        {PC: without_hook("ruff").replace("id: black", "id: ruff-format")},
        FAIL,
        path=PC,
        message="lacks ruff",
    ),
    Case("missing file fails", {PC: None}, FAIL, path=PC),
    Case("malformed YAML fails", {PC: "repos:\n  - repo: [unclosed\n"}, FAIL, path=PC),
    Case("a list instead of a mapping fails", {PC: "- black\n- ruff\n"}, FAIL, path=PC),
    Case("repos that is not a list fails", {PC: "repos: black\n"}, FAIL, path=PC),
    Case(
        "hooks of the wrong shape are ignored",
        {PC: "repos:\n  - hooks: [black, {id: 3}]\n  - 7\n"},
        FAIL,
        path=PC,
    ),
    Case("billion laughs fails without expanding", {PC: LAUGHS + "repos: *i\n"}, FAIL, path=PC),
    Case("binary config fails", {PC: b"\x00repos"}, FAIL, path=PC),
]


@pytest.mark.parametrize("case", WF001, ids=case_ids(WF001))
def test_wf001_pre_commit_hooks(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "WF-001", case, BASE)


# ----- WF-004 ----------------------------------------------------------------------------------
JENKINS = """\
pipeline {
  stages {
    // sh 'mypy src'
    stage('lint') { steps { sh 'ruff check .' } }
    stage('test') { steps { sh 'pytest --cov=src' } }
    stage('audit') { steps { sh 'pip-audit' } }
  }
}
"""
MAKE_CI = "jobs:\n  ci:\n    steps:\n      - run: make check\n"
MAKEFILE = "check:\n\truff check .\n\tmypy src\n\tpytest --cov\n\tbandit -r src\n"
PRE_COMMIT_CI = (
    "jobs:\n  ci:\n    steps:\n      - uses: pre-commit/action@v3.0.1\n"
    "      - run: pytest --cov && pip-audit\n"
)
LABELS_ONLY = (
    "jobs:\n  ci:\n    steps:\n      - name: Type safety with mypy\n        run: ruff check\n"
    "      - run: pytest --cov\n      - run: trivy fs .\n"
)
WF004 = [
    Case("golden passes"),
    Case("GitLab CI passes", files=APP_LAYOUT),
    Case("backend subfolder passes", prefix="backend/"),
    Case(
        "workflow at the repository root of a subfolder project passes",
        {CI: None},
        prefix="backend/",
        repo_changes={CI: WORKFLOW},
    ),
    Case("Makefile targets called from CI count", {**NO_CI, CI: MAKE_CI, "Makefile": MAKEFILE}),
    Case("pre-commit hooks run in CI count", {**NO_CI, CI: PRE_COMMIT_CI}),
    Case(
        "ruff security rules count",
        {
            **NO_CI,
            ".gitea/workflows/ci.yaml": WORKFLOW.replace(
                "uv run bandit -r src\n          uv run pip-audit",
                "uv run ruff check --select=S,B .",
            ),
        },
    ),
    Case(
        "commented Jenkins steps do not count",
        {**NO_CI, "Jenkinsfile": JENKINS},
        WARN,
        path="Jenkinsfile",
        message="not type check",
    ),
    Case(
        "step names do not count", {**NO_CI, CI: LABELS_ONLY}, WARN, path=CI, message="type check"
    ),
    Case(
        "lint only warns",
        {**NO_CI, CI: "jobs:\n  l:\n    steps:\n      - run: ruff check\n"},
        WARN,
        path=CI,
    ),
    Case(
        "tests without coverage warn",
        {**NO_CI, CI: WORKFLOW.replace("--cov=src --cov-report=xml", "-q")},
        WARN,
        path=CI,
        message="tests with coverage",
    ),
    Case(
        "a pipeline of echoes fails",
        {**NO_CI, CI: "jobs:\n  a:\n    steps:\n      - run: echo hi\n"},
        FAIL,
        path=CI,
    ),
    Case("no CI fails", NO_CI, FAIL, path=".github/workflows"),
    Case("malformed workflow fails", {**NO_CI, CI: "jobs: [\n"}, FAIL, path=CI),
    Case(
        "billion laughs fails without expanding",
        {**NO_CI, CI: LAUGHS + "jobs:\n  a:\n    steps: *i\n"},
        FAIL,
        path=CI,
    ),
    Case(
        "workflows in subfolders are not run",
        {**NO_CI, ".github/workflows/x/ci.yml": WORKFLOW},
        FAIL,
        path=".github/workflows",
    ),
]


@pytest.mark.parametrize("case", WF004, ids=case_ids(WF004))
def test_wf004_ci_pipeline(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "WF-004", case, BASE)


def test_walk_strings_visits_each_container_once_within_budget() -> None:
    shared = ["run"] * 3
    data = {"name": "skipped label", "a": [shared, shared, {"if": "skipped", "run": "x"}]}
    assert sorted(walk_strings(data)) == ["run", "run", "run", "x"]
    deep: list[object] = []
    node = deep
    for _ in range(100):
        child: list[object] = ["s"]
        node.append(child)
        node = child
    assert len(list(walk_strings(deep, budget=50))) < 50


# ----- WF-005 ----------------------------------------------------------------------------------
WF005 = [
    Case("golden passes"),
    Case("docker/Dockerfile with lower-case from passes", files=APP_LAYOUT),
    Case("backend subfolder passes", prefix="backend/"),
    Case("named Dockerfile passes", {"Dockerfile": None, "deploy/api.Dockerfile": DOCKERFILE}),
    Case("Containerfile passes", {"Dockerfile": None, "Containerfile": DOCKERFILE}),
    Case("Dockerfile.prod passes", {"Dockerfile": None, "Dockerfile.prod": DOCKERFILE}),
    Case(
        "no FROM fails", {"Dockerfile": "# FROM python:3.13\nRUN true\n"}, FAIL, path="Dockerfile"
    ),
    Case("binary Dockerfile fails", {"Dockerfile": b"\x00FROM x"}, FAIL, path="Dockerfile"),
    Case("missing Dockerfile fails", {"Dockerfile": None}, FAIL, path="Dockerfile"),
    Case(
        ".dockerignore is not a Dockerfile",
        {"Dockerfile": None, ".dockerignore": "FROM x\n"},
        FAIL,
        path="Dockerfile",
    ),
]


@pytest.mark.parametrize("case", WF005, ids=case_ids(WF005))
def test_wf005_dockerfile(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "WF-005", case, BASE)
