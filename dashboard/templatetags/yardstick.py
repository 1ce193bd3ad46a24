"""Template helpers: charts, badges, formatting. Decisions stay in views and services."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from dashboard import charts
from dashboard import markdown as markdown_text

register = template.Library()


@register.simple_tag
def sparkline(
    values: Sequence[float | None],
    scale: charts.Scale | None = None,
    marks: Sequence[tuple[int, str]] = (),
) -> SafeString:
    """`{% sparkline values [scale] [marks] %}`: a small trend line, on a table's shared scale,
    with marked days (`charts.day_marks`)."""
    return charts.sparkline(values, scale=scale, marks=marks)


@register.simple_tag
def line_chart(
    points: Sequence[charts.Point],
    marks: Sequence[tuple[date, str]] = (),
    title: str = "score history",
    what: str = "scores",
    unit: str = "",
) -> SafeString:
    """`{% line_chart points [marks] [title= what= unit=] %}`: a history chart scaled to its
    data, optionally with marked days; `title`, `what`, `unit` name it (charts.line_chart)."""
    return charts.line_chart(points, marks=marks, title=title, what=what, unit=unit)


@register.simple_tag
def burnup_chart(burnup: Any) -> SafeString:
    """`{% burnup_chart burnup %}`: an initiative's burn-up (selectors.initiatives.BurnUp)."""
    return charts.burnup_chart(burnup.days, burnup.done, burnup.ideal, burnup.total)


@register.simple_tag
def status_badge(status: str) -> SafeString:
    """`{% status_badge status %}`: a result's status as a coloured label."""
    label = "n/a" if status == "not_applicable" else status
    return format_html('<span class="status status-{}">{}</span>', status, label)


@register.simple_tag
def level_badge(level: str | None, why: str = "") -> SafeString:
    """`{% level_badge level why %}`: a level as a coloured label ("No level" when none).

    `why`: what keeps the next level out (dashboard/domain/levels.py), shown as
    the label's tooltip.
    """
    level = level or "none"
    title = level[:1].upper() + level[1:]
    label = "No level" if level == "none" else title
    tip = f"Level: {title}. {why}" if why else f"Level: {title}"
    return format_html('<span class="level level-{}" title="{}">{}</span>', level, tip, label)


@register.filter
def heat(score: float | None) -> str:
    """`{{ score|heat }}`: heat-map CSS class."""
    return charts.heat_class(score)


@register.filter
def score(value: float | None) -> str:
    """A score for display: one decimal, or an em dash."""
    return "—" if value is None else f"{value:.1f}"


@register.filter
def signed(value: float | None) -> str:
    """A change for display: +3.2 / -1.0 (typographic minus) / em dash."""
    if value is None:
        return "—"
    minus = "\u2212"  # typographic minus lines up with the plus sign
    return f"+{value:.1f}" if value > 0 else f"{minus}{abs(value):.1f}" if value < 0 else "±0"


@register.filter
def get(mapping: dict[str, Any] | None, key: str) -> Any:
    """`{{ mapping|get:key }}`."""
    return (mapping or {}).get(key)


@register.simple_tag(takes_context=True)
def query(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters changed (None removes one)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    if "page" not in changes:
        params.pop("page", None)  # a new sort or filter starts at page 1
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.inclusion_tag("partials/_sort.html", takes_context=True)
def sort_header(
    context: dict[str, Any], key: str, label: str, target: str, desc_first: bool = False
) -> dict[str, Any]:
    """A sortable column header that swaps the table in place and keeps a real link."""
    state = context["state"]
    if state.key == key:
        sort = key if state.descending else f"-{key}"
    else:
        sort = f"-{key}" if desc_first else key
    return {
        "href": query(context, sort=sort),
        "label": label,
        "target": target,
        "active": state.key == key,
        "descending": state.descending,
    }


@register.simple_tag
def project_folder(repository: Any) -> SafeString:
    """`{% project_folder repository %}`: the project folder beside a repository's name, where
    it has one (sibling rows of a monorepo may share a name) and the name does not already end
    with it (`mono (services/api)`); else nothing."""
    folder = str(getattr(repository, "project_dir", "") or "")
    if not folder or str(getattr(repository, "name", "")).endswith(f"({folder})"):
        return SafeString("")
    return format_html(' <code class="folder" title="project folder">{}/</code>', folder)


@register.filter
def markdown(text: str) -> SafeString:
    """`{{ text|markdown }}`: a safe Markdown subset as HTML (dashboard/markdown.py)."""
    return markdown_text.render(text or "")


@register.simple_tag
def options(choices: Iterable[Sequence[Any]], selected: object = "", label: str = "") -> SafeString:
    """`<option>`s of (value, text) pairs, `selected` marked; `label="id title"` shows a
    (value, title) pair as "value title". One string join: a page with pickers of 200 teams
    renders in a fraction of what a template loop costs."""
    chosen = str(selected)
    parts = []
    for value, text in choices:
        shown = f"{value} {text}" if label == "id title" else text
        mark = " selected" if str(value) == chosen and chosen else ""
        parts.append(f'<option value="{escape(value)}"{mark}>{escape(shown)}</option>')
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped above  # nosec B703
