"""Documentation: a complete README, ADRs and diagrams under `docs/`."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from scanners.analysis.ci import candidate_paths
from scanners.analysis.markdown import Document, matches_topic, parse_document
from scanners.context import RepoContext
from scanners.results import Evidence, RuleResult
from scanners.rules import register
from scanners.rules.base import Rule

README_NAMES = ("README.md", "README.rst", "README.markdown", "README")
README_TOPICS: dict[str, tuple[str, ...]] = {
    "purpose": (
        "purpose",
        "about",
        "overview",
        "description",
        "introduction",
        "intro",
        "what is",
        "why",
        "features",
        "summary",
    ),
    "setup": (
        "setup",
        "set up",
        "installation",
        "install",
        "getting started",
        "quick start",
        "quickstart",
        "prerequisites",
        "requirements",
        "running locally",
    ),
    "environment variables": (
        "environment",
        "env var",
        "configuration",
        "configuring",
        "config",
        "settings",
        ".env",
    ),
    "API": ("api", "endpoints", "routes", "openapi", "swagger", "usage"),
    "development": (
        "development",
        "developing",
        "contributing",
        "contribution",
        "workflow",
        "local dev",
        "testing",
        "tests",
    ),
    "deployment": (
        "deploy",
        "deployment",
        "deploying",
        "production",
        "release",
        "hosting",
        "docker",
        "kubernetes",
    ),
    "troubleshooting": (
        "troubleshoot",
        "troubleshooting",
        "faq",
        "known issues",
        "common problems",
        "common issues",
        "debugging",
        "gotchas",
    ),
}
WARN_AT = 5
DOC_SUFFIXES = (".md", ".markdown", ".rst")
DIAGRAM_FENCES = frozenset({"mermaid", "plantuml", "puml", "uml", "image", "figure"})
DIAGRAM_FILES = (
    ".png",
    ".svg",
    ".jpg",
    ".jpeg",
    ".gif",
    ".webp",
    ".mmd",
    ".puml",
    ".plantuml",
    ".drawio",
    ".excalidraw",
    ".dot",
)
ADR_FOLDERS = ("adr", "adrs", "decisions", "architecture-decisions", "decision-records")
_STATUS_LINE = re.compile(r"^\s*(?:[-*]\s*)?(?:\*\*|__)?status(?:\*\*|__)?\s*:", re.IGNORECASE)


def _load(ctx: RepoContext, path: str) -> Document | None:
    text = ctx.read_text(path)
    if text is None:
        return None
    return parse_document(text, rst=path.endswith(".rst"))


def readme_paths(ctx: RepoContext) -> list[str]:
    """README files at the project root and the repository root."""
    return [p for name in README_NAMES for p in candidate_paths(ctx, name) if ctx.exists(p)]


def docs_files(ctx: RepoContext, suffixes: tuple[str, ...] = DOC_SUFFIXES) -> list[str]:
    """Tracked files under `docs/` (project root and repository root) ending in `suffixes`."""
    bases = [f"{base}/" for base in candidate_paths(ctx, "docs")]
    return [p for p in ctx.files if p.startswith(tuple(bases)) and p.lower().endswith(suffixes)]


@register
class ReadmeSections(Rule):
    """README has purpose, setup, environment, API, development, deployment, troubleshooting."""

    id = "DOC-001"
    heuristic = (
        "Headings of README.md/.rst (project and repository root merged) are matched by "
        "keyword, word prefix or near-typo against seven topics; the purpose may also be the "
        "prose under the title. All seven pass, five or six warn, fewer fail."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Match README headings against the seven topics."""
        paths = readme_paths(ctx)
        docs = [d for d in (_load(ctx, p) for p in paths) if d is not None]
        if not docs:
            where = paths[0] if paths else ctx.path("README.md")
            return self.failed("No readable README.", [Evidence(where, None, "add a README.md")])
        headings = [h.text for d in docs for h in d.headings]
        found = {
            t
            for t, words in README_TOPICS.items()
            if any(matches_topic(h, words) for h in headings)
        }
        if any(len(d.intro.split()) >= 5 for d in docs):
            found.add("purpose")
        missing = [t for t in README_TOPICS if t not in found]
        if not missing:
            return self.passed("README covers every topic.")
        evidence = [Evidence(paths[0], None, f"missing sections: {', '.join(missing)}")]
        message = f"README lacks {len(missing)} of {len(README_TOPICS)} sections."
        if len(found) >= WARN_AT:
            return self.warned(message, evidence)
        return self.failed(message, evidence)


def _adr_gaps(doc: Document) -> list[str]:
    """ADR parts (status, context, decision) a document lacks."""
    gaps = []
    if not (
        any("status" in h.text for h in doc.headings)
        or any(_STATUS_LINE.match(line) for line in doc.lines[:60])
    ):
        gaps.append("status")
    for part in ("context", "decision"):
        if not any(part in h.text for h in doc.headings):
            gaps.append(part)
    return gaps


def _in_adr_folder(path: str) -> bool:
    return any(part.lower() in ADR_FOLDERS for part in PurePosixPath(path).parts[:-1])


@register
class ArchitectureDecisionRecords(Rule):
    """Architecture decisions in `docs/` in ADR form (status, context, decision)."""

    id = "DOC-002"
    heuristic = (
        "Markdown/reST under docs/: an ADR has a status (heading, `Status:` line or front "
        "matter) and context and decision headings. One complete ADR passes; files in "
        "docs/adr (or decisions/) that lack parts warn; nothing ADR-like fails."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Look for at least one complete ADR under `docs/`."""
        incomplete: list[Evidence] = []
        for path in docs_files(ctx):
            doc = _load(ctx, path)
            if doc is None:
                continue
            gaps = _adr_gaps(doc)
            if not gaps:
                return self.passed(f"ADR found: {path}.")
            if _in_adr_folder(path) or len(gaps) == 1:
                incomplete.append(Evidence(path, None, f"ADR lacks {', '.join(gaps)}"))
        if incomplete:
            return self.warned("ADR-like documents lack status/context/decision.", incomplete)
        return self.failed(
            "No architecture decision records in docs/.",
            [
                Evidence(
                    ctx.path("docs/adr"),
                    None,
                    "add docs/adr/0001-<title>.md with Status, Context and Decision sections",
                )
            ],
        )


@register
class Diagrams(Rule):
    """Diagrams in the docs: mermaid/plantuml fences or image files."""

    id = "DOC-003"
    heuristic = (
        "A mermaid/plantuml fence (or reST diagram/image directive) in docs/ or the README, "
        "`@startuml` text, or an image/diagram source file (png, svg, jpg, mmd, puml, drawio) "
        "under docs/."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Find one diagram."""
        images = docs_files(ctx, DIAGRAM_FILES)
        if images:
            return self.passed(f"Diagram file {images[0]}.")
        for path in [*docs_files(ctx), *readme_paths(ctx)]:
            doc = _load(ctx, path)
            if doc is None:
                continue
            if any(lang in DIAGRAM_FENCES for lang, _ in doc.fences) or any(
                "@startuml" in line for line in doc.lines
            ):
                return self.passed(f"Diagram in {path}.")
        return self.failed(
            "No diagrams in the docs.",
            [
                Evidence(
                    ctx.path("docs"),
                    None,
                    "add a mermaid diagram (```mermaid) or an image to docs/",
                )
            ],
        )
