"""DOC rules: README sections, ADRs under docs/, diagrams."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.analysis.markdown import matches_topic, parse_document
from tests.gitrepo import golden_files
from tests.unit.scanners.rules.harness import FAIL, WARN, Case, case_ids, check

README = """\
# Notes service

A small service that stores notes for users behind a versioned REST API.

## Setup
Install uv, then `uv sync`.

## Environment variables
See `.env.example`.

## API
`GET /api/v1/notes`

## Development
`uv run pytest`

## Deployment
Build the Dockerfile.

## Troubleshooting
Check the logs.
"""
ADR = """\
# 1. Use PostgreSQL

## Status
Accepted

## Context
We need a relational store.

## Decision
PostgreSQL 17.

## Consequences
We run migrations with Alembic.
"""
ARCHITECTURE = "# Architecture\n\n```mermaid\nflowchart LR\n  api --> db\n```\n"
MINE = {
    "README.md": README,
    "docs/adr/0001-use-postgresql.md": ADR,
    "docs/architecture.md": ARCHITECTURE,
}
GOLDEN = golden_files()
BASE = {rel: text for rel, text in MINE.items() if rel not in GOLDEN}
NO_DOCS = {rel: None for rel in GOLDEN if rel.startswith("docs/")} | {
    rel: None for rel in MINE if rel.startswith("docs/")
}
APP_LAYOUT = {
    "pyproject.toml": '[project]\nname = "orders"\nversion = "0.1.0"\n',
    "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    "README.rst": "Orders\n======\n\nOrders API for the shop front end and its back office.\n\n"
    + "".join(
        f"{title}\n{'-' * len(title)}\n\ntext\n\n"
        for title in (
            "Installation",
            "Configuration",
            "Endpoints",
            "Contributing",
            "Deploying",
            "FAQ",
        )
    ),
    "docs/decisions/0002-queue.md": "---\nstatus: accepted\n---\n# Queue\n\n## Context and "
    "Problem Statement\nx\n\n## Decision Outcome\ny\n",
    "docs/flow.puml": "@startuml\na -> b\n@enduml\n",
}


def readme_without(*sections: str) -> str:
    """The sample README without some `## ` sections."""
    parts = README.split("\n## ")
    kept = [parts[0], *(p for p in parts[1:] if p.split("\n", 1)[0] not in sections)]
    return "\n## ".join(kept)


# ----- DOC-001 ---------------------------------------------------------------------------------
DOC001 = [
    Case("golden passes"),
    Case("app layout with reStructuredText passes", files=APP_LAYOUT),
    Case("backend subfolder passes", prefix="backend/"),
    Case(
        "README at the repository root of a subfolder project passes",
        {"README.md": None},
        prefix="backend/",
        repo_changes={"README.md": README},
    ),
    Case(
        "fuzzy headings pass",
        {
            "README.md": "# X\n\n## About\n## Getting Started\n"
            "## Configuration\n## API endpoints\n## Contributing\n"
            "## Deploying to production\n## Troubleshoting\n"
        },
    ),
    Case(
        "setext headings pass",
        {
            "README.md": "X\n=\n\nWhat it does and why it exists here.\n\n"
            + "".join(
                f"{t}\n---\n\n"
                for t in ("Setup", "Settings", "API", "Development", "Deployment", "FAQ")
            )
        },
    ),
    Case(
        "one missing section warns",
        {"README.md": readme_without("Troubleshooting")},
        WARN,
        path="README.md",
        message="lacks 1 of 7",
    ),
    Case(
        "two missing sections warn",
        {"README.md": readme_without("API", "Deployment")},
        WARN,
        path="README.md",
    ),
    Case(
        "three missing sections fail",
        {"README.md": readme_without("API", "Deployment", "Troubleshooting")},
        FAIL,
        path="README.md",
    ),
    Case(
        "headings inside code fences do not count",
        {"README.md": "# X\n\n```\n## Setup\n## API\n## Deployment\n```\n"},
        FAIL,
        path="README.md",
    ),
    Case("missing README fails", {"README.md": None}, FAIL, path="README.md"),
    Case("binary README fails", {"README.md": b"\x00\x01\x02"}, FAIL, path="README.md"),
]


@pytest.mark.parametrize("case", DOC001, ids=case_ids(DOC001))
def test_doc001_readme_sections(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "DOC-001", case, BASE)


def test_doc001_names_the_missing_sections(tmp_path: Path) -> None:
    case = Case("two", {"README.md": readme_without("API", "Troubleshooting")}, WARN)
    result = check(tmp_path, "DOC-001", case, BASE)
    assert result.evidence[0].message == "missing sections: API, troubleshooting"


# ----- DOC-002 ---------------------------------------------------------------------------------
ADR_PATH = "docs/adr/0001-use-postgresql.md"
DOC002 = [
    Case("golden passes"),
    Case("MADR front matter in docs/decisions passes", files=APP_LAYOUT),
    Case("backend subfolder passes", prefix="backend/"),
    Case("ADR outside an adr folder passes", {**NO_DOCS, "docs/architecture/db.md": ADR}),
    Case(
        "status line instead of heading passes",
        {**NO_DOCS, "docs/adr/1.md": ADR.replace("## Status\n", "**Status:** ")},
    ),
    Case(
        "ADR without a decision warns",
        {**NO_DOCS, ADR_PATH: ADR.replace("## Decision", "## Choice")},
        WARN,
        path=ADR_PATH,
        message="lack",
    ),
    Case("no docs fails", NO_DOCS, FAIL, path="docs/adr"),
    Case(
        "docs without ADRs fail",
        {**NO_DOCS, "docs/index.md": "# Docs\n\nHello.\n"},
        FAIL,
        path="docs/adr",
    ),
    Case("ADRs outside docs do not count", {**NO_DOCS, "adr/0001.md": ADR}, FAIL),
]


@pytest.mark.parametrize("case", DOC002, ids=case_ids(DOC002))
def test_doc002_architecture_decision_records(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "DOC-002", case, BASE)


# ----- DOC-003 ---------------------------------------------------------------------------------
DOC003 = [
    Case("golden passes"),
    Case("plantuml source file passes", files=APP_LAYOUT),
    Case("backend subfolder passes", prefix="backend/"),
    Case("image passes", {**NO_DOCS, "docs/img/flow.png": b"\x89PNG\r\n\x1a\n\x00\x00"}),
    Case("plantuml fence passes", {**NO_DOCS, "docs/a.md": "```plantuml\n@startuml\n```\n"}),
    Case(
        "mermaid in the README passes",
        {**NO_DOCS, "README.md": README + "\n```mermaid\ngraph TD\n a-->b\n```\n"},
    ),
    Case("no docs fails", NO_DOCS, FAIL, path="docs"),
    Case(
        "python fences are not diagrams",
        {**NO_DOCS, "docs/a.md": "```python\nx = 1\n```\n"},
        FAIL,
        path="docs",
    ),
]


@pytest.mark.parametrize("case", DOC003, ids=case_ids(DOC003))
def test_doc003_diagrams(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "DOC-003", case, BASE)


# ----- helpers ---------------------------------------------------------------------------------
def test_parse_document_reads_headings_intro_and_fences() -> None:
    doc = parse_document(
        "# Title\n\n[![ci](x.svg)](y)\nIntro words here.\n\n~~~mermaid\n"
        "# not a heading\n~~~\n## Next ##\n"
    )
    assert [(h.text, h.level, h.line) for h in doc.headings] == [("title", 1, 1), ("next", 2, 9)]
    assert doc.intro == "Intro words here."
    assert doc.fences == [("mermaid", 6)]


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("getting started", True),
        ("deploymnet", True),
        ("api reference", True),
        ("capital", False),
        ("rapid", False),
    ],
)
def test_matches_topic_is_fuzzy_but_word_based(heading: str, expected: bool) -> None:
    keywords = ("getting started", "deployment", "api")
    assert matches_topic(heading, keywords) is expected
