"""Map the paths a report names onto the checkout's tracked files.

A report is often made in another folder (a CI runner's `/home/runner/work/api/api/src/...`,
a Windows `C:\\build\\...`, paths relative to a Cobertura `<source>`). A report path maps to
the tracked file sharing the longest trailing run of path components with it. When several
tracked files share that suffix, the folder offset learnt from the unambiguous matches
(report prefix -> checkout prefix, i.e. the common prefixes to strip and add) decides; a
path that stays ambiguous, or shares only its file name with a deeper tracked path, is left
unmapped rather than guessed.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

Parts = tuple[str, ...]


def split(path: str) -> Parts:
    """Components of a report path, normalised (backslashes, `.`, `..`, drive letters)."""
    text = path.replace("\\", "/").strip()
    if len(text) > 1 and text[1] == ":":  # C:/build/...
        text = text[2:]
    text = posixpath.normpath(text) if text else ""
    return tuple(p for p in text.split("/") if p not in {"", ".", ".."})


@dataclass
class _Match:
    report: Parts
    length: int  # trailing components shared
    candidates: list[str]


@dataclass
class PathMapper:
    """Maps report paths to repository-relative tracked files (built once per report)."""

    tracked: Iterable[str]
    extensions: tuple[str, ...] = (".py",)
    _index: dict[Parts, list[str]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for rel in self.tracked:
            if not rel.endswith(self.extensions):
                continue
            parts = tuple(rel.split("/"))
            for k in range(1, len(parts) + 1):
                self._index.setdefault(parts[-k:], []).append(rel)

    def _best(self, report: Parts) -> _Match | None:
        for k in range(len(report), 0, -1):
            found = self._index.get(report[-k:])
            if found is not None:
                return _Match(report, k, found)
        return None

    def _acceptable(self, match: _Match, rel: str) -> bool:
        """A file-name-only match is trusted only when one side has nothing more to compare."""
        return match.length >= 2 or match.length in (len(match.report), rel.count("/") + 1)

    def map(self, paths: Iterable[str], roots: Iterable[str] = ()) -> dict[str, str]:
        """Report path -> tracked file, for every report path that maps without guessing."""
        prefixes = [split(r) for r in roots]
        matches: dict[str, _Match] = {}
        for path in paths:
            parts = split(path)
            if not parts:
                continue
            tries = [parts] + [root + parts for root in prefixes]
            found = [m for t in tries if (m := self._best(t)) is not None]
            if found:
                matches[path] = max(found, key=lambda m: (m.length, -len(m.candidates)))
        mapped: dict[str, str] = {}
        offsets: Counter[tuple[Parts, Parts]] = Counter()
        for path, match in matches.items():
            if len(match.candidates) == 1 and self._acceptable(match, match.candidates[0]):
                mapped[path] = match.candidates[0]
                offsets[_offset(match, match.candidates[0])] += 1
        for path, match in matches.items():
            if path in mapped or len(match.candidates) == 1:
                continue
            chosen = _by_offset(match, offsets)
            if chosen is not None and self._acceptable(match, chosen):
                mapped[path] = chosen
        return mapped


def _offset(match: _Match, rel: str) -> tuple[Parts, Parts]:
    """(report prefix, checkout prefix) around the shared suffix."""
    repo = tuple(rel.split("/"))
    return match.report[: len(match.report) - match.length], repo[: len(repo) - match.length]


def _by_offset(match: _Match, offsets: Counter[tuple[Parts, Parts]]) -> str | None:
    """Among equally long matches, the one whose offset the unambiguous matches used most."""
    scored = sorted(((offsets[_offset(match, rel)], rel) for rel in match.candidates), reverse=True)
    if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1]
