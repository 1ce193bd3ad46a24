"""Submit a page's form as a browser would, from its rendered HTML (no browser needed).

Catches forms whose rendered values the browser would not send back: a `type=date` input
drops any value that is not `YYYY-MM-DD`, as Chrome and Firefox do.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class _FormReader(HTMLParser):
    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.found = False
        self.values: dict[str, list[str]] = {}
        self.date_inputs: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._selected = False
        self._textarea: str | None = None
        self._multiple = False

    def _add(self, name: str, value: str) -> None:
        self.values.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self.inside = a.get("action", "") == self.action and not self.found
            self.found = self.found or self.inside
        elif not self.inside:
            return
        elif tag == "input" and "name" in a:
            self._input(a)
        elif tag == "select":
            self._select, self._first_option, self._selected = a["name"], None, False
            self._multiple = "multiple" in a
        elif tag == "option" and self._select is not None:
            self._option(a)
        elif tag == "textarea":
            self._textarea = a["name"]
            self._add(a["name"], "")

    def _input(self, a: dict[str, str]) -> None:
        kind, value = a.get("type", "text"), a.get("value", "")
        if kind == "date":
            self.date_inputs[a["name"]] = value
            self._add(a["name"], value if _ISO_DATE.fullmatch(value) else "")
        elif kind in {"checkbox", "radio"}:
            if "checked" in a:
                self._add(a["name"], a.get("value", "on"))
        elif kind not in {"submit", "button"}:
            self._add(a["name"], value)

    def _option(self, a: dict[str, str]) -> None:
        assert self._select is not None
        if self._first_option is None:
            self._first_option = a.get("value", "")
        if "selected" in a:
            self._selected = True
            self._add(self._select, a.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.values[self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            # A single select sends its first option when none is marked selected.
            if not self._selected and not self._multiple and self._first_option is not None:
                self._add(self._select, self._first_option)
            self._select = None
        elif tag == "textarea":
            if self._textarea is not None:
                # The HTML parser keeps the newline that follows <textarea>; browsers drop it.
                self.values[self._textarea][-1] = self.values[self._textarea][-1].removeprefix("\n")
            self._textarea = None


def form_values(html: str, action: str = "") -> dict[str, list[str]]:
    """What submitting the page's POST form with this `action` sends, before the user types."""
    reader = _FormReader(action)
    reader.feed(html)
    assert reader.found, f"no POST form with action {action!r} on the page"
    return reader.values


def date_values(html: str, action: str = "") -> dict[str, str]:
    """The `value` of each `type=date` input of the form, as rendered."""
    reader = _FormReader(action)
    reader.feed(html)
    assert reader.found, f"no POST form with action {action!r} on the page"
    return reader.date_inputs
