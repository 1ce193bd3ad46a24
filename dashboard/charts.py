"""Server-rendered SVG charts: no JavaScript, so the CSP stays strict and pages print well."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True, slots=True)
class Point:
    """One value of a series (None: no data that day)."""

    day: date
    value: float | None


def _scale(values: Sequence[float | None], width: float, height: float, pad: float = 2.0):  # type: ignore[no-untyped-def]
    count = max(len(values) - 1, 1)
    known = [v for v in values if v is not None]
    low, high = (min(known), max(known)) if known else (0.0, 100.0)
    if high - low < 1:
        low, high = low - 1, high + 1

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad + (width - 2 * pad) * i / count
        y = height - pad - (height - 2 * pad) * (v - low) / (high - low)
        return round(x, 1), round(y, 1)

    return xy


def sparkline(values: Sequence[float | None], width: int = 120, height: int = 28) -> SafeString:
    """A small trend line; gaps where a day has no value."""
    if not any(v is not None for v in values):
        return mark_safe('<span class="muted">no history</span>')
    xy = _scale(values, width, height)
    segments: list[str] = []
    current: list[str] = []
    for i, value in enumerate(values):
        if value is None:
            if current:
                segments.append(" ".join(current))
                current = []
            continue
        x, y = xy(i, value)
        current.append(f"{'M' if not current else 'L'}{x},{y}")
    if current:
        segments.append(" ".join(current))
    last = next(v for v in reversed(values) if v is not None)
    label = escape(f"trend, latest {last:.0f}")
    return mark_safe(  # noqa: S308 - numbers and an escaped label only  # nosec B703
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{label}"><path d="{" ".join(segments)}"/></svg>'
    )


def line_chart(
    points: Sequence[Point],
    width: int = 720,
    height: int = 180,
    *,
    domain: tuple[float, float] = (0, 100),
    marks: Sequence[tuple[date, str]] = (),
) -> SafeString:
    """A score history chart (0-100) with a baseline grid and first/last date labels.

    `marks` draws a labelled vertical line on each of those days (e.g. a new standard).
    """
    if not any(p.value is not None for p in points):
        return mark_safe('<p class="empty">No history yet: it appears after the first scans.</p>')
    pad_left, pad = 34.0, 16.0
    low, high = domain
    count = max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad_left + (width - pad_left - pad) * i / count
        y = height - pad - (height - 2 * pad) * (v - low) / (high - low)
        return round(x, 1), round(y, 1)

    grid = []
    for tick in (0, 25, 50, 75, 100):
        _, y = xy(0, tick)
        minor = "" if tick in (0, 50, 100) else " minor"  # hidden on phones: fewer labels
        grid.append(
            f'<line class="grid" x1="{pad_left}" x2="{width - pad}" y1="{y}" y2="{y}"/>'
            f'<text class="tick{minor}" x="{pad_left - 6}" y="{y + 4}" '
            f'text-anchor="end">{tick}</text>'
        )
    path: list[str] = []
    pen_up = True
    for i, point in enumerate(points):
        if point.value is None:
            pen_up = True
            continue
        x, y = xy(i, point.value)
        path.append(f"{'M' if pen_up else 'L'}{x},{y}")
        pen_up = False
    first, last = points[0].day.isoformat(), points[-1].day.isoformat()
    index = {p.day: i for i, p in enumerate(points)}
    for day, text in marks:
        if day in index:
            x, _ = xy(index[day], high)
            grid.append(
                f'<line class="mark" x1="{x}" x2="{x}" y1="{pad}" y2="{height - pad}"/>'
                f'<text class="tick mark-label" x="{x + 3}" y="{pad + 10}">{escape(text)}</text>'
            )
    latest = next(p for p in reversed(points) if p.value is not None)
    label = escape(f"score history from {first} to {last}; latest {latest.value:.1f}")
    return mark_safe(  # noqa: S308 - numbers, ISO dates and an escaped label only  # nosec B703
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{label}">'
        f'{"".join(grid)}<path class="line" d="{" ".join(path)}"/>'
        f'<text class="tick" x="{pad_left}" y="{height - 2}">{first}</text>'
        f'<text class="tick" x="{width - pad}" y="{height - 2}" text-anchor="end">{last}</text>'
        f"</svg>"
    )


def heat_class(score: float | None) -> str:
    """CSS class of a heat-map cell for a score."""
    if score is None:
        return "heat-none"
    if score >= 90:
        return "heat-5"
    if score >= 75:
        return "heat-4"
    if score >= 50:
        return "heat-3"
    if score >= 25:
        return "heat-2"
    return "heat-1"


def burnup_chart(
    days: Sequence[date],
    done: Sequence[int | None],
    ideal: Sequence[float],
    total: int,
    width: int = 720,
    height: int = 220,
) -> SafeString:
    """A burn-up: repositories done per day, the scope line and the ideal line to the target."""
    if not days or total == 0:
        return mark_safe('<p class="empty">Nothing in scope yet.</p>')
    pad_left, pad = 34.0, 16.0
    count = max(len(days) - 1, 1)
    top = max(total, max((d for d in done if d is not None), default=0), 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad_left + (width - pad_left - pad) * i / count
        y = height - pad - (height - 2 * pad) * v / top
        return round(x, 1), round(y, 1)

    def path(values: Sequence[float | None]) -> str:
        out: list[str] = []
        pen_up = True
        for i, value in enumerate(values):
            if value is None:
                pen_up = True
                continue
            x, y = xy(i, value)
            out.append(f"{'M' if pen_up else 'L'}{x},{y}")
            pen_up = False
        return " ".join(out)

    ticks = sorted({0, top // 2, top})
    grid = "".join(
        f'<line class="grid" x1="{pad_left}" x2="{width - pad}" y1="{xy(0, t)[1]}" '
        f'y2="{xy(0, t)[1]}"/><text class="tick" x="{pad_left - 6}" y="{xy(0, t)[1] + 4}" '
        f'text-anchor="end">{t}</text>'
        for t in ticks
    )
    latest = next((d for d in reversed(done) if d is not None), 0)
    label = escape(f"burn-up: {latest} of {total} repositories done; target {days[-1]}")
    first, last = days[0].isoformat(), days[-1].isoformat()
    return mark_safe(  # noqa: S308 - numbers, ISO dates and an escaped label only  # nosec B703
        f'<svg class="chart burnup" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{label}">{grid}'
        f'<path class="scope" d="{path([float(total)] * len(days))}"/>'
        f'<path class="ideal" d="{path(list(ideal))}"/>'
        f'<path class="line" d="{path([None if d is None else float(d) for d in done])}"/>'
        f'<text class="tick" x="{pad_left}" y="{height - 2}">{first}</text>'
        f'<text class="tick" x="{width - pad}" y="{height - 2}" text-anchor="end">{last}</text>'
        f"</svg>"
    )
