"""Gitignore matching with git's semantics, to judge what a repository's `.gitignore` ignores.

Implements gitignore(5): comments and escapes, trailing-space trimming, `!` negation (last
matching pattern wins), anchoring (a `/` at the start or in the middle), directory-only
patterns (trailing `/`), `*`, `?`, `[...]`, and `**` in leading (`**/x`), trailing (`x/**`)
and middle (`a/**/b`) positions. A path inside an ignored directory stays ignored whatever
later patterns say, as in git. Patterns of nested `.gitignore` files apply below their folder
and take precedence over those of their parents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True, slots=True)
class Pattern:
    """One pattern line of a `.gitignore` file."""

    source: str  # repository-relative path of the .gitignore file
    line: int
    text: str  # the line as written (trimmed)
    negated: bool
    dir_only: bool
    base: str  # folder the pattern is relative to ('' for the repository root)
    regex: re.Pattern[str]

    def matches(self, path: str, is_dir: bool) -> bool:
        """Whether this pattern matches `path` itself (not its parents)."""
        if self.dir_only and not is_dir:
            return False
        if self.base:
            if not path.startswith(f"{self.base}/"):
                return False
            path = path[len(self.base) + 1 :]
        return self.regex.fullmatch(path) is not None


def _trim(line: str) -> str:
    """Drop the newline and unescaped trailing spaces."""
    line = line.rstrip("\r\n")
    while line.endswith(" ") and not line.endswith("\\ "):
        line = line[:-1]
    return line


def _char_class(body: str, start: int) -> tuple[str, int] | None:
    """Translate `[...]` starting at `start` (the `[`); None when it is not closed."""
    i = start + 1
    negate = i < len(body) and body[i] in "!^"
    if negate:
        i += 1
    chars = []
    if i < len(body) and body[i] == "]":
        chars.append("\\]")
        i += 1
    while i < len(body) and body[i] != "]":
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            i += 1
            chars.append(re.escape(body[i]))
        elif char == "-":
            chars.append("-")
        else:
            chars.append(re.escape(char))
        i += 1
    if i >= len(body):
        return None
    inner = "".join(chars)
    return (f"[^/{inner}]" if negate else f"[{inner}]"), i + 1


def translate(body: str) -> str:
    """Regex source for a pattern body (no `!`, no trailing `/`), relative to its base."""
    anchored = "/" in body
    body = body.removeprefix("/")
    out = [] if anchored else ["(?:.*/)?"]
    i = 0
    while i < len(body):
        at_segment_start = i == 0 or body[i - 1] == "/"
        if body.startswith("**/", i) and at_segment_start:
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("**", i) and at_segment_start and i + 2 == len(body):
            out.append(".+" if i else ".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        elif body[i] == "[" and (translated := _char_class(body, i)) is not None:
            out.append(translated[0])
            i = translated[1]
        elif body[i] == "\\" and i + 1 < len(body):
            out.append(re.escape(body[i + 1]))
            i += 2
        else:
            out.append(re.escape(body[i]))
            i += 1
    return "".join(out)


def parse(text: str, source: str = ".gitignore") -> list[Pattern]:
    """Patterns of one `.gitignore` file at repository-relative path `source`."""
    base = str(PurePosixPath(source).parent)
    base = "" if base == "." else base
    patterns = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _trim(raw)
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        body = line[1:] if negated else line
        if body.startswith(("\\!", "\\#")):
            body = body[1:]
        dir_only = body.endswith("/") and not body.endswith("\\/")
        body = body.rstrip("/") if dir_only else body
        if not body:
            continue
        try:
            regex = re.compile(translate(body), re.DOTALL)
        except re.error:
            continue  # git ignores patterns it cannot use; so do we
        patterns.append(Pattern(source, number, line, negated, dir_only, base, regex))
    return patterns


class GitIgnore:
    """The combined patterns of a repository's `.gitignore` files."""

    def __init__(self, patterns: Iterable[Pattern]) -> None:
        """Patterns in precedence order: parents' files first, then deeper ones."""
        self.patterns = sorted(patterns, key=lambda p: p.base.count("/") + bool(p.base))

    @classmethod
    def from_files(cls, files: Iterable[tuple[str, str]]) -> GitIgnore:
        """Build from (repository-relative path, text) pairs of `.gitignore` files."""
        return cls(p for source, text in files for p in parse(text, source))

    def _last_match(self, path: str, is_dir: bool) -> Pattern | None:
        found = None
        for pattern in self.patterns:
            if pattern.matches(path, is_dir):
                found = pattern
        return found

    def decisive(self, path: str, is_dir: bool = False) -> Pattern | None:
        """The pattern that decides whether `path` is ignored (an ignored parent's first)."""
        parts = PurePosixPath(path).parts
        for depth in range(1, len(parts)):
            parent = self._last_match("/".join(parts[:depth]), True)
            if parent is not None and not parent.negated:
                return parent
        return self._last_match(path, is_dir)

    def ignored(self, path: str, is_dir: bool = False) -> bool:
        """Whether git would ignore the repository-relative `path`."""
        pattern = self.decisive(path, is_dir)
        return pattern is not None and not pattern.negated
