"""Query parameters as numbers, without the traps of `str.isdigit` and `int`."""

from __future__ import annotations

MAX_DIGITS = 18  # below bigint's range and far below int()'s digit limit


def whole_number(text: str) -> int | None:
    """`text` as a non-negative integer of ASCII digits, or None. `"²".isdigit()` is True
    and `int("²")` raises, and `int()` refuses over 4,300 digits: neither may become a 500."""
    text = text.strip()
    if not text or len(text) > MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
