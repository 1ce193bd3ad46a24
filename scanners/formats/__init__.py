"""Renderers of a `Report`: JSON (versioned schema), SARIF 2.1.0 and a terminal table."""

from __future__ import annotations

from scanners.formats.json_report import ReportFormatError, load_json, render_json, report_to_dict
from scanners.formats.sarif import default_anchor, render_sarif, report_to_sarif
from scanners.formats.text import render_diff_text, render_text, use_colour

#: Output formats the CLI offers.
FORMATS = ("text", "json", "sarif")

__all__ = [
    "FORMATS",
    "ReportFormatError",
    "default_anchor",
    "load_json",
    "render_diff_text",
    "render_json",
    "render_sarif",
    "render_text",
    "report_to_dict",
    "report_to_sarif",
    "use_colour",
]
