"""Line numbers in a TOML text, which tomli does not give."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import Any

from scanners.deps import normalise

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


_QUOTED = re.compile(r"(['\"])(.*?)\1")


class TomlLines:
    """Line numbers of tables, keys and strings in a TOML text (tomli gives none).

    Every lookup is an index built once, so a manifest of many thousand entries is located
    in linear time.
    """

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self._spans: dict[str, tuple[int, int]] = {}
        headers = [
            (number, _table_name(match.group(1)))
            for number, line in enumerate(self.lines, start=1)
            if (match := _HEADER.match(line))
        ]
        for index, (number, name) in enumerate(headers):
            end = headers[index + 1][0] if index + 1 < len(headers) else len(self.lines) + 1
            self._spans.setdefault(name, (number, end))
        self._headers = [number for number, _ in headers]
        self._keys: dict[str, dict[str, int]] = {}
        self._arrays: dict[tuple[str, str], dict[str, list[int]]] = {}

    def table(self, name: str) -> tuple[int, int] | None:
        """(header line, line after the table's last line) of `[name]`, or None."""
        return self._spans.get(_table_name(name))

    def header(self, name: str) -> int | None:
        """Line of the `[name]` heading, or None."""
        span = self.table(name)
        return span[0] if span else None

    def header_before(self, line: int | None) -> int | None:
        """Line of the table heading above `line` (None when no table holds it)."""
        at = bisect_right(self._headers, line or 0)
        return self._headers[at - 1] if at else None

    def key(self, table: str, key: str) -> int | None:
        """Line of `key = ...` directly inside `[table]` (names compared PEP 503-normalised)."""
        name = _table_name(table)
        if name not in self._keys:
            keys: dict[str, int] = {}
            span = self._spans.get(name)
            for number in range(span[0] + 1, span[1]) if span else ():
                left, sep, _ = self.lines[number - 1].partition("=")
                if sep:
                    keys.setdefault(normalise(left.strip().strip("\"'")), number)
            self._keys[name] = keys
        return self._keys[name].get(normalise(key))

    def entries(self, table: str, key: str, raws: list[object]) -> list[int | None]:
        """Line of each string of the array `key` in `[table]`, in order (else the key line)."""
        span = self.table(table)
        if span is None:
            return [None] * len(raws)
        key_line = self.key(table, key) or span[0]
        index = self._arrays.get((table, key))
        if index is None:
            index = {}
            for number in range(key_line, span[1]):
                for match in _QUOTED.finditer(self.lines[number - 1]):
                    index.setdefault(match.group(2), []).append(number)
            self._arrays[(table, key)] = index
        out: list[int | None] = []
        cursor = key_line
        for raw in raws:
            candidates = index.get(raw, []) if isinstance(raw, str) else []
            at = bisect_left(candidates, cursor)
            found = candidates[at] if at < len(candidates) else None
            cursor = found or cursor
            out.append(found or key_line)
        return out


def _table_name(header: str) -> str:
    parts = [p.strip().strip("\"'") for p in header.split(".")]
    return ".".join(parts)


def subtable(data: object, *keys: str) -> dict[str, Any]:
    """`data[k1][k2]...` when each level is a table, else an empty table."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}
