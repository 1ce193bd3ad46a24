"""Widgets shared by the forms of every area."""

from __future__ import annotations

from typing import Any

from django import forms

#: The only value format an `<input type="date">` accepts (RFC 3339 full-date).
ISO_DATE = "%Y-%m-%d"


class DateInput(forms.DateInput):
    """The browser's date picker, fed ISO dates.

    A date input drops any value that is not `YYYY-MM-DD`, and Django's default rendering follows
    the locale (`07/12/2026` in en-gb): the field would show empty and the form fail with
    "This field is required." on submit. Every `type=date` field uses this widget.
    """

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=ISO_DATE)
