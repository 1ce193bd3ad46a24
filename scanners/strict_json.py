"""The one strict JSON reader for untrusted documents (API bodies, CI reports, webhooks).

`json.loads` accepts what no sender means and what the database cannot hold: `NaN` and
`Infinity` (and `1e999`, which reads as infinity), a key given twice (the last one silently
wins), nesting deep enough to exhaust the interpreter's stack, and `\\ud800` escapes that
decode to lone surrogates (no UTF-8 form, so every later `.encode()` fails) or `\\u0000`
(PostgreSQL text cannot hold NUL). This module refuses all of them with a `JSONInputError`
that names the place (a JSON pointer).

Depth is measured before parsing by a scan of the bytes outside strings (no recursion), and a
`RecursionError` from the C parser is still caught as a backstop.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

MAX_DEPTH = 64
# A JSON string (escapes included): removed before counting brackets.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


class JSONInputError(ValueError):
    """The document is refused. `malformed` is True for a syntax error (not JSON at all),
    False for well-formed JSON with forbidden content; `pointer` names that content."""

    def __init__(self, message: str, *, pointer: str = "", malformed: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.pointer = pointer
        self.malformed = malformed


def nesting_depth(data: bytes, limit: int = MAX_DEPTH) -> int:
    """The deepest nesting of arrays and objects in `data`, counted up to `limit + 1`."""
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKET)
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JSONInputError(f"duplicate key {key!r}", pointer=f"/{_escape(key)}")
            seen.add(key)
    return document


def _no_constant(name: str) -> float:
    raise JSONInputError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: a JSON number that reads as infinity
        raise JSONInputError(f"{text[:20]} is out of range")
    return value


def bad_text(text: str) -> str | None:
    """Why `text` cannot be stored or encoded (a NUL, a lone surrogate), or None."""
    if "\x00" in text:
        return "a NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "a lone surrogate (not valid Unicode)"
    return None


def _escape(key: str) -> str:
    """A key as a JSON pointer segment, printable even when it holds what is refused."""
    printable = key.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return printable.replace("~", "~0").replace("/", "~1")


def _strings(document: Any) -> Iterator[tuple[str, str]]:
    """Every key and string value with its JSON pointer, walked without recursion."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, str):
            yield pointer, value
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{pointer}/{_escape(key)}"
                yield child, key
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{pointer}/{index}", item) for index, item in enumerate(value))


def find_bad_text(document: Any) -> tuple[str, str] | None:
    """The first (pointer, reason) of a key or string that cannot be stored, or None."""
    for pointer, text in _strings(document):
        reason = bad_text(text)
        if reason is not None:
            return pointer or "/", reason
    return None


def parse(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse `data` refusing NaN/Infinity, duplicate keys and nesting beyond `max_depth`;
    strings are returned as sent (see `find_bad_text`)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if nesting_depth(raw, max_depth) > max_depth:
        raise JSONInputError(f"nested deeper than {max_depth} levels")
    try:
        text = raw.decode("utf-8")  # strictly: json.loads(bytes) would let surrogates through
        return json.loads(
            text, parse_constant=_no_constant, parse_float=_finite, object_pairs_hook=_unique_keys
        )
    except JSONInputError:
        raise
    except RecursionError:
        raise JSONInputError(f"nested deeper than {max_depth} levels") from None
    except UnicodeDecodeError as exc:
        raise JSONInputError(
            f"not UTF-8: {exc.reason} at byte {exc.start}", malformed=True
        ) from None
    except ValueError as exc:  # JSONDecodeError, and integers over the digit limit
        raise JSONInputError(f"malformed JSON: {exc}", malformed=True) from None


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """`parse`, then refuse any key or string holding a NUL or a lone surrogate."""
    document = parse(data, max_depth=max_depth)
    found = find_bad_text(document)
    if found is not None:
        pointer, reason = found
        raise JSONInputError(f"{pointer} contains {reason}", pointer=pointer)
    return document
