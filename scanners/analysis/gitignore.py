"""Gitignore matching with git's semantics, to judge what a repository's `.gitignore` files ignore.

Each pattern line is compiled by `pathspec` (its git-faithful `GitIgnoreSpecPattern`:
comments and escapes, trailing-space trimming, `!` negation, anchoring, directory-only
patterns, `*`, `?`, `[...]`, `**`; a pattern git cannot use, such as an unclosed `[`, is
dropped as git drops it). What pathspec does not model is the layering git does over
a checkout, done here as `git check-ignore` does it, without running git on the untrusted
checkout:

- every `.gitignore` from the repository root down to the folder of the path applies, its
  patterns relative to its own folder; a deeper file's matching pattern beats a shallower
  file's, and inside one file the last matching pattern wins;
- `x/**` matches what is inside `x`, not the folder itself (so `!x/keep` can re-include);
- git decides folder by folder from the top: once a parent folder is ignored, nothing below
  it can be re-included (`logs/` then `!logs/keep` leaves `logs/keep` ignored).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern


@dataclass(frozen=True, slots=True)
class Pattern:
    """One usable pattern line of a `.gitignore` file."""

    source: str  # repository-relative path of the .gitignore file
    line: int
    text: str  # the line as written
    negated: bool
    base: str  # folder the pattern is relative to ('' for the repository root)
    compiled: GitIgnoreSpecPattern


def translate(body: str) -> str:
    """The regex pathspec compiles a pattern line to ('' when git would drop the line)."""
    regex = _compile(body)
    return regex.regex.pattern if regex is not None and regex.regex is not None else ""


def _compile(line: str) -> GitIgnoreSpecPattern | None:
    try:
        pattern = GitIgnoreSpecPattern(line)
    except (ValueError, TypeError):  # pathspec's pattern errors are ValueErrors
        return None
    return pattern if pattern.include is not None else None


def parse(text: str, source: str = ".gitignore") -> list[Pattern]:
    """Patterns of one `.gitignore` file at repository-relative path `source`."""
    base = str(PurePosixPath(source).parent)
    base = "" if base == "." else base
    patterns = []
    for number, raw in enumerate(text.splitlines(), start=1):
        compiled = _compile(raw)
        if compiled is not None:
            negated = not compiled.include
            patterns.append(Pattern(source, number, raw.strip(), negated, base, compiled))
    return patterns


class _File:
    """The patterns of one `.gitignore`, matched as git matches one file's lines."""

    def __init__(self, base: str, patterns: list[Pattern]) -> None:
        self.base = base
        self.patterns = patterns

    def last_match(self, rel: str, is_dir: bool) -> Pattern | None:
        """The last pattern of the file matching `rel` (relative to the file's folder)."""
        for pattern in reversed(self.patterns):
            regex = pattern.compiled.regex
            # pathspec's `x/**` also matches the folder x itself; git's matches only below it
            whole = is_dir and not pattern.text.rstrip().endswith("/**")
            if regex is not None and regex.match(f"{rel}/" if whole else rel):
                return pattern
        return None


class GitIgnore:
    """The combined patterns of a repository's `.gitignore` files."""

    def __init__(self, patterns: Iterable[Pattern]) -> None:
        """Patterns of any number of `.gitignore` files (grouped by their `source`)."""
        self.patterns = list(patterns)
        by_source: dict[str, list[Pattern]] = {}
        for pattern in self.patterns:
            by_source.setdefault(pattern.source, []).append(pattern)
        files = [_File(group[0].base, group) for group in by_source.values()]
        # deepest folder first: its patterns beat those of the folders above it
        self._files = sorted(files, key=lambda f: -(f.base.count("/") + bool(f.base)))

    @classmethod
    def from_files(cls, files: Iterable[tuple[str, str]]) -> GitIgnore:
        """Build from (repository-relative path, text) pairs of `.gitignore` files."""
        return cls(p for source, text in files for p in parse(text, source))

    def _match(self, path: str, is_dir: bool) -> Pattern | None:
        """The pattern that decides `path` itself (not its parents), deepest file first."""
        for file in self._files:
            if file.base and not path.startswith(f"{file.base}/"):
                continue
            found = file.last_match(path[len(file.base) + 1 :] if file.base else path, is_dir)
            if found is not None:
                return found
        return None

    def decisive(self, path: str, is_dir: bool = False) -> Pattern | None:
        """The pattern that decides whether `path` is ignored (an ignored parent's first)."""
        parts = PurePosixPath(path).parts
        for depth in range(1, len(parts)):
            parent = self._match("/".join(parts[:depth]), True)
            if parent is not None and not parent.negated:
                return parent
        return self._match(path, is_dir)

    def ignored(self, path: str, is_dir: bool = False) -> bool:
        """Whether git would ignore the repository-relative `path`."""
        pattern = self.decisive(path, is_dir)
        return pattern is not None and not pattern.negated
