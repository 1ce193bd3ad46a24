"""Headings, intro text and code fences of Markdown and reStructuredText documents."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

_ATX = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:.])\1{2,}\s*$")
_FENCE = re.compile(r"^ {0,3}(```+|~~~+)\s*([\w+-]*)")
_NOISE = re.compile(r"^\s*(?:!\[|\[!\[|<img|<p|</p|<a |<div|</div|<!--|\[.*\]:)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Heading:
    """A section title, its level (1 = top) and line."""

    text: str
    level: int
    line: int


@dataclass(slots=True)
class Document:
    """What the rules read from a document: headings, intro prose, fence languages."""

    headings: list[Heading] = field(default_factory=list)
    intro: str = ""  # prose between the title and the next heading
    fences: list[tuple[str, int]] = field(default_factory=list)  # (language, line)
    lines: list[str] = field(default_factory=list)  # text outside code fences


def parse_document(text: str, rst: bool = False) -> Document:
    """Parse a Markdown (or, with `rst`, reStructuredText) document."""
    doc = Document()
    raw = text.splitlines()
    fence: str | None = None
    intro: list[str] = []
    for index, line in enumerate(raw):
        match = _FENCE.match(line)
        if fence is not None:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None
            continue
        if match and not rst:
            fence = match.group(1)
            doc.fences.append((match.group(2).lower(), index + 1))
            continue
        doc.lines.append(line)
        heading = _heading(raw, index, rst)
        if heading is not None:
            doc.headings.append(heading)
        elif len(doc.headings) == 1 and line.strip() and not _is_underline(line, rst):
            intro.append(line)
    doc.intro = " ".join(line.strip() for line in intro if not _NOISE.match(line))
    doc.fences.extend(_rst_directives(raw) if rst else [])
    return doc


def _heading(raw: list[str], index: int, rst: bool) -> Heading | None:
    line = raw[index]
    if not rst:
        atx = _ATX.match(line)
        if atx:
            return Heading(_clean(atx.group(2)), len(atx.group(1)), index + 1)
    following = raw[index + 1] if index + 1 < len(raw) else ""
    underline = _RST_UNDERLINE if rst else _SETEXT
    if line.strip() and underline.match(following) and not _is_underline(line, rst):
        level = 1 if following.lstrip()[0] in "=#" else 2
        return Heading(_clean(line), level, index + 1)
    return None


def _is_underline(line: str, rst: bool) -> bool:
    return bool((_RST_UNDERLINE if rst else _SETEXT).match(line))


def _clean(text: str) -> str:
    """Heading text without emphasis, links, emoji and punctuation, lower-cased."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\s/&-]", " ", text.lower())
    return " ".join(text.replace("_", " ").split())


def _rst_directives(raw: list[str]) -> list[tuple[str, int]]:
    pattern = re.compile(r"^\s*\.\.\s+(mermaid|uml|plantuml|image|figure)::")
    return [(m.group(1), i + 1) for i, line in enumerate(raw) if (m := pattern.match(line))]


def matches_topic(heading: str, keywords: tuple[str, ...]) -> bool:
    """Whether a cleaned heading names a topic: a keyword phrase in it, or a near-typo word."""
    padded = f" {heading} "
    words = heading.split()
    for keyword in keywords:
        if f" {keyword}" in padded:
            return True
        if (
            " " not in keyword
            and len(keyword) >= 6
            and any(
                SequenceMatcher(None, keyword, word[: len(keyword) + 2]).ratio() >= 0.85
                for word in words
            )
        ):
            return True
    return False
