"""Server-rendered SVG charts: no JavaScript, so the CSP stays strict and pages print well."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True, slots=True)
class Point:
    """One value of a series (None: no data that day)."""

    day: date
    value: float | None


@dataclass(frozen=True, slots=True)
class Scale:
    """A value axis: `low`..`high` with ticks at round numbers, and the data's own range."""

    low: float
    high: float
    ticks: tuple[float, ...]
    data_low: float | None = None
    data_high: float | None = None

    @property
    def text(self) -> str:
        """What the data spans as scores, e.g. "scores 62-78" with an en dash ("" without
        data)."""
        return self.describe()

    def describe(self, what: str = "scores", unit: str = "") -> str:
        """What the data spans, e.g. "passing 40-80%" with an en dash ("" without data)."""
        if self.data_low is None or self.data_high is None:
            return ""
        low, high = f"{self.data_low:.0f}", f"{self.data_high:.0f}"
        return f"{what} {low}{unit}" if low == high else f"{what} {low}\u2013{high}{unit}"

    def y(self, value: float, top: float, bottom: float) -> float:
        """The y coordinate of `value` between `top` (high) and `bottom` (low)."""
        return round(bottom - (bottom - top) * (value - self.low) / (self.high - self.low), 1)


MIN_SPAN = 10.0
STEPS = (1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 50.0)


def scale_of(
    values: Iterable[float | None], *, bounds: tuple[float, float] = (0.0, 100.0), most: int = 6
) -> Scale:
    """An axis covering `values` with some padding, ticks at round numbers (at most `most`),
    kept within `bounds` (scores are 0-100). Without values: the whole of `bounds`."""
    known = [v for v in values if v is not None]
    floor, ceiling = bounds
    if not known:
        return Scale(floor, ceiling, _ticks(floor, ceiling, 25.0))
    data_low, data_high = min(known), max(known)
    # At least MIN_SPAN points tall, so half a point of change never looks like a cliff.
    pad = max((data_high - data_low) * 0.1, (MIN_SPAN - (data_high - data_low)) / 2, 1.0)
    # Shifted inside the bounds rather than cut, so a score of 100 keeps a full-height axis.
    want_low, want_high = data_low - pad, data_high + pad
    if want_low < floor:
        want_low, want_high = floor, min(ceiling, want_high + floor - want_low)
    if want_high > ceiling:
        want_low, want_high = max(floor, want_low - (want_high - ceiling)), ceiling
    for step in STEPS:
        low = max(floor, math.floor(want_low / step) * step)
        high = min(ceiling, math.ceil(want_high / step) * step)
        if (high - low) / step + 1 <= most:
            return Scale(low, high, _ticks(low, high, step), data_low, data_high)
    return Scale(floor, ceiling, _ticks(floor, ceiling, 25.0), data_low, data_high)


def _ticks(low: float, high: float, step: float) -> tuple[float, ...]:
    count = round((high - low) / step)
    return tuple(low + step * i for i in range(count + 1))


def shared_scale(rows: Iterable[Sequence[float | None]]) -> Scale:
    """One scale for every row of a table, so the same value sits at the same height."""
    return scale_of(v for row in rows for v in row)


def _tick_text(value: float) -> str:
    return f"{value:g}"


def _paths(coords: Sequence[tuple[float, float] | None]) -> tuple[str, list[tuple[float, float]]]:
    """A path's `d` with pen-ups at gaps, and the isolated points (no neighbour) as dots."""
    segments: list[str] = []
    dots: list[tuple[float, float]] = []
    run: list[tuple[float, float]] = []
    for coord in [*coords, None]:
        if coord is not None:
            run.append(coord)
            continue
        if len(run) == 1:
            dots.append(run[0])
        elif run:
            segments.append(
                " ".join(f"{'M' if i == 0 else 'L'}{x},{y}" for i, (x, y) in enumerate(run))
            )
        run = []
    return " ".join(segments), dots


def _dots(dots: Sequence[tuple[float, float]], radius: float) -> str:
    return "".join(f'<circle class="dot" cx="{x}" cy="{y}" r="{radius}"/>' for x, y in dots)


def sparkline(
    values: Sequence[float | None],
    width: int = 120,
    height: int = 28,
    *,
    scale: Scale | None = None,
    marks: Sequence[tuple[int, str]] = (),
) -> SafeString:
    """A small trend line; gaps where a day has no value, a dot for a lone day.

    `scale`: the table's shared scale (`shared_scale`), so rows compare by height; by default
    the row's own. `marks`: (index in `values`, text) of days to mark, e.g. a new standard.
    """
    if not any(v is not None for v in values):
        return mark_safe('<span class="muted">no history</span>')
    scale = scale or scale_of(values)
    pad = 2.0
    count = max(len(values) - 1, 1)
    coords = [
        None
        if v is None
        else (round(pad + (width - 2 * pad) * i / count, 1), scale.y(v, pad, height - pad))
        for i, v in enumerate(values)
    ]
    path, dots = _paths(coords)
    lines = "".join(
        f'<line class="mark" x1="{x}" x2="{x}" y1="0" y2="{height}"><title>{escape(text)}'
        f"</title></line>"
        for i, text in marks
        if 0 <= i < len(values)
        for x in (round(pad + (width - 2 * pad) * i / count, 1),)
    )
    last = next(v for v in reversed(values) if v is not None)
    label = escape(f"trend, latest {last:.0f}; axis {scale.low:g}\u2013{scale.high:g}")
    return mark_safe(  # noqa: S308 - numbers and escaped text only  # nosec B703
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{label}">{lines}<path d="{path}"/>{_dots(dots, 1.8)}</svg>'
    )


def day_marks(
    days: Sequence[date], marks: Iterable[tuple[date, str]]
) -> tuple[tuple[int, str], ...]:
    """`marks` by day as (index in `days`, text), for a sparkline over `days`; others dropped."""
    index = {day: i for i, day in enumerate(days)}
    return tuple((index[day], text) for day, text in marks if day in index)


def _ahead(points: Sequence[Point], marks: Sequence[tuple[date, str]]) -> Sequence[Point]:
    """`points`, with empty days after the last up to the furthest mark a little ahead (a
    quarter of the span, a week at least): an initiative's coming target date shows."""
    last = points[-1].day
    horizon = last + timedelta(days=max(7, (last - points[0].day).days // 4))
    ahead = max((day for day, _ in marks if last < day <= horizon), default=None)
    if ahead is None:
        return points
    empty = [Point(last + timedelta(days=n), None) for n in range(1, (ahead - last).days + 1)]
    return [*points, *empty]


def line_chart(
    points: Sequence[Point],
    width: int = 720,
    height: int = 190,
    *,
    domain: tuple[float, float] | None = None,
    marks: Sequence[tuple[date, str]] = (),
    title: str = "score history",
    what: str = "scores",
    unit: str = "",
) -> SafeString:
    """A history chart (of scores, by default) with its axis scaled to the data (`domain`
    fixes it instead), dated x ticks and a dot for each lone day; `title`, `what` and `unit`
    name it and its values in the label ("score history …; scores 62-78").

    `marks` draws a labelled vertical line on each of those days within the chart's span
    (e.g. a new standard, an initiative's target date), and on those a little ahead of its
    last day, the axis extended to them (`_ahead`): a deadline coming shows.
    """
    if not any(p.value is not None for p in points):
        return mark_safe('<p class="empty">No history yet: it appears after the first scans.</p>')
    first_day, last_day = points[0].day, points[-1].day
    points = _ahead(points, marks)
    pad_left, pad, bottom_pad = 34.0, 16.0, 22.0
    top, bottom = pad, height - bottom_pad
    known = [p.value for p in points if p.value is not None]
    scale = scale_of(known)
    if domain is not None:
        scale = Scale(domain[0], domain[1], _ticks(*domain, 25.0), min(known), max(known))
    count = max(len(points) - 1, 1)

    def x_of(i: float) -> float:
        return round(pad_left + (width - pad_left - pad) * i / count, 1)

    parts: list[str] = []
    for n, tick in enumerate(scale.ticks):
        y = scale.y(tick, top, bottom)
        # Every other label is minor, hidden on phones (fewer, larger labels); ends stay.
        minor = " minor" if 0 < n < len(scale.ticks) - 1 and n % 2 else ""
        parts.append(
            f'<line class="grid" x1="{pad_left}" x2="{width - pad}" y1="{y}" y2="{y}"/>'
            f'<text class="tick value{minor}" x="{pad_left - 6}" y="{y + 4}" text-anchor="end">'
            f"{_tick_text(tick)}</text>"
        )
    end_day = points[-1].day
    for i in _date_ticks(len(points)):
        anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
        parts.append(
            f'<text class="tick date" x="{x_of(i)}" y="{height - 4}" text-anchor="{anchor}">'
            f"{points[i].day.isoformat()}</text>"
        )
    coords = [
        None if p.value is None else (x_of(i), scale.y(p.value, top, bottom))
        for i, p in enumerate(points)
    ]
    path, dots = _paths(coords)
    line = f'<path class="line" d="{path}"/>' if path else ""
    shown = [(day, text) for day, text in marks if first_day <= day <= end_day]
    for n, (day, text) in enumerate(shown):
        x = x_of((day - first_day).days * count / max((end_day - first_day).days, 1))
        # Labels step down in turn so close marks stay readable; right of centre they sit on
        # the line's left, so none runs off the chart.
        y = top + 10 + 11 * (n % 3)
        side = f'x="{x - 3}" text-anchor="end"' if x > width / 2 else f'x="{x + 3}"'
        parts.append(
            f'<line class="mark" x1="{x}" x2="{x}" y1="{top}" y2="{bottom}"><title>'
            f"{escape(text)} ({day.isoformat()})</title></line>"
            f'<text class="tick mark-label" {side} y="{y}">{escape(text)}</text>'
        )
    latest = next(p for p in reversed(points) if p.value is not None)
    spans = scale.describe(what, unit)
    label = escape(
        f"{title} from {first_day.isoformat()} to {last_day.isoformat()}; "
        f"latest {latest.value:.1f}{unit}; {spans}"
    )
    return mark_safe(  # noqa: S308 - numbers, ISO dates and escaped text only  # nosec B703
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{label}" '
        f'data-first="{first_day.isoformat()}" data-last="{last_day.isoformat()}">'
        f"{''.join(parts)}{line}{_dots(dots, 3)}"
        f'<text class="tick range" x="{width - pad}" y="{top - 4}" text-anchor="end">'
        f"{escape(spans)}</text></svg>"
    )


def _date_ticks(count: int, most: int = 5) -> list[int]:
    """Indexes of the dates written under the x axis: first, last and evenly between."""
    if count <= 1:
        return [0]
    shown = min(most, count)
    return sorted({round(i * (count - 1) / (shown - 1)) for i in range(shown)})


# Heat-map bands, best first: (lowest score of the band, CSS class). Below the last: heat-1.
HEAT_BANDS = ((90.0, "heat-5"), (75.0, "heat-4"), (50.0, "heat-3"), (25.0, "heat-2"))


def heat_class(score: float | None) -> str:
    """CSS class of a heat-map cell for a score."""
    if score is None:
        return "heat-none"
    for low, css in HEAT_BANDS:
        if score >= low:
            return css
    return "heat-1"


def heat_legend() -> list[tuple[str, str]]:
    """The heat map's colour classes with the scores each stands for, best first."""
    legend, high = [], None
    for low, css in HEAT_BANDS:
        legend.append((css, f"{low:g} to {high:g}" if high else f"{low:g} and above"))
        high = low
    lowest = f"under {high:g}" if high else "any score"
    return [*legend, ("heat-1", lowest), ("heat-none", "no score")]


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
