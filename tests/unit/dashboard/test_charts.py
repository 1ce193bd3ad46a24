"""Server-rendered charts: axes scaled to the data, dots for lone days, marks, shared scales."""

from __future__ import annotations

import re
from datetime import date, timedelta

from dashboard.charts import Point, day_marks, line_chart, scale_of, shared_scale, sparkline

DAY = date(2026, 3, 1)
TICK = re.compile(
    r'<text class="tick value(?: minor)?" x="[\d.]+" y="[\d.]+" text-anchor="end">([\d.]+)</text>'
)
PATH_Y = re.compile(r"[ML][\d.]+,([\d.]+)")
CIRCLE = re.compile(r'<circle class="dot" cx="([\d.]+)" cy="([\d.]+)"')


def _points(values: list[float | None], start: date = DAY) -> list[Point]:
    return [Point(start + timedelta(days=i), v) for i, v in enumerate(values)]


def test_scale_covers_the_data_with_padding_at_round_ticks() -> None:
    scale = scale_of([62.0, 71.5, 78.0])
    assert (scale.low, scale.high) == (60.0, 80.0)
    assert scale.ticks == (60.0, 65.0, 70.0, 75.0, 80.0)
    assert scale.text == "scores 62\u201378"


def test_a_half_point_change_is_not_drawn_as_a_cliff() -> None:
    scale = scale_of([50.2, 50.7])
    assert scale.high - scale.low >= 10
    assert scale.low <= 50.2
    assert scale.high >= 50.7


def test_scale_stays_within_0_and_100_and_opens_inwards_at_a_bound() -> None:
    top = scale_of([100.0, 100.0])
    assert (top.low, top.high) == (90.0, 100.0)
    bottom = scale_of([0.0])
    assert (bottom.low, bottom.high) == (0.0, 10.0)
    whole = scale_of([0.0, 100.0])
    assert (whole.low, whole.high) == (0.0, 100.0)
    assert len(whole.ticks) <= 6


def test_scale_without_data_is_the_whole_range() -> None:
    scale = scale_of([None, None])
    assert (scale.low, scale.high) == (0.0, 100.0)
    assert scale.text == ""


def test_line_chart_axis_ticks_follow_the_data_not_0_to_100() -> None:
    html = line_chart(_points([64.0, 70.0, 76.0]))
    ticks = [float(t) for t in TICK.findall(html)]
    assert ticks == [60.0, 65.0, 70.0, 75.0, 80.0]
    assert "scores 64\u201376" in html
    assert 'aria-label="score history from 2026-03-01 to 2026-03-03; latest 76.0; scores' in html


def test_line_chart_writes_dates_under_the_axis() -> None:
    html = line_chart(_points([70.0] * 90))
    dates = re.findall(r'<text class="tick date"[^>]*>([\d-]+)</text>', html)
    assert dates[0] == "2026-03-01"
    assert dates[-1] == (DAY + timedelta(days=89)).isoformat()
    assert len(dates) == 5


def test_a_single_point_is_a_dot() -> None:
    html = line_chart(_points([None] * 29 + [72.0]))
    assert len(CIRCLE.findall(html)) == 1
    assert '<path class="line"' not in html


def test_isolated_points_between_gaps_are_dots_and_runs_are_lines() -> None:
    html = line_chart(_points([70.0, None, 71.0, 72.0, None, 73.0]))
    assert len(CIRCLE.findall(html)) == 2  # the first and the last day stand alone
    (path,) = re.findall(r'<path class="line" d="([^"]*)"', html)
    assert path.count("M") == 1
    assert path.count("L") == 1


def test_sparkline_dots_a_lone_day() -> None:
    html = sparkline([None, 60.0, None, 61.0, 62.0])
    assert len(CIRCLE.findall(html)) == 1
    assert "no history" in sparkline([None, None])


def test_marks_are_placed_on_their_day_and_outside_ones_dropped() -> None:
    points = _points([70.0] * 11)
    html = line_chart(
        points,
        marks=[(DAY + timedelta(days=5), "standard 2.0"), (DAY - timedelta(days=1), "early")],
    )
    lines = re.findall(r'<line class="mark" x1="([\d.]+)"', html)
    assert len(lines) == 1
    first_x = float(re.findall(r'<text class="tick date" x="([\d.]+)"', html)[0])
    last_x = float(re.findall(r'<text class="tick date" x="([\d.]+)"', html)[-1])
    assert float(lines[0]) == round(first_x + (last_x - first_x) / 2, 1)
    assert "standard 2.0" in html
    assert "early" not in html


def test_a_target_date_a_little_ahead_extends_the_axis_to_it() -> None:
    points = _points([70.0] * 29)  # 28 days: a week ahead is within reach
    target = points[-1].day + timedelta(days=6)
    html = line_chart(points, marks=[(target, "Gold target"), (target + timedelta(60), "later")])
    dates = re.findall(r'<text class="tick date"[^>]*>([\d-]+)</text>', html)
    assert dates[-1] == target.isoformat()  # the axis runs to the deadline
    assert "Gold target" in html
    assert "later" not in html  # too far ahead: the chart keeps to its range
    # The history itself still ends on its last day; nothing is drawn ahead of it.
    assert f'data-last="{points[-1].day.isoformat()}"' in html
    line_end = float(re.findall(r"[ML]([\d.]+),[\d.]+", html.split('class="line" d="')[1])[-1])
    mark_x = float(re.findall(r'<line class="mark" x1="([\d.]+)"', html)[0])
    assert line_end < mark_x
    # Without a mark ahead the axis ends on the last day.
    assert (
        re.findall(r'<text class="tick date"[^>]*>([\d-]+)</text>', line_chart(points))[-1]
        == points[-1].day.isoformat()
    )


def test_mark_labels_are_escaped() -> None:
    html = line_chart(_points([70.0, 71.0]), marks=[(DAY, "<b>x</b> target")])
    assert "<b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt; target" in html


def test_a_shared_scale_draws_the_same_value_at_the_same_height_across_rows() -> None:
    rows: list[list[float | None]] = [[40.0, 50.0], [50.0, 90.0], [None, 50.0]]
    scale = shared_scale(rows)
    heights = [PATH_Y.findall(sparkline(row, scale=scale)) for row in rows]
    assert heights[0][1] == heights[1][0]  # 50 in both rows
    (dot,) = CIRCLE.findall(sparkline(rows[2], scale=scale))
    assert dot[1] == heights[0][1]
    # Each on its own scale, 50 sits at different heights.
    alone = [PATH_Y.findall(sparkline(row)) for row in rows[:2]]
    assert alone[0][1] != alone[1][0]


def test_sparkline_marks_days_by_index_and_drops_days_outside() -> None:
    days = [DAY + timedelta(days=i) for i in range(5)]
    marks = day_marks(days, [(days[2], "standard 2.0"), (DAY - timedelta(days=1), "before")])
    assert marks == ((2, "standard 2.0"),)
    html = sparkline([60.0, 61.0, 62.0, 63.0, 64.0], marks=marks)
    (x,) = re.findall(r'<line class="mark" x1="([\d.]+)"', html)
    assert float(x) == 60.0  # the middle of 2..118
    assert "<title>standard 2.0</title>" in html


def test_close_mark_labels_step_down_and_stay_inside_the_chart() -> None:
    points = _points([70.0] * 30)
    marks = [(DAY + timedelta(days=d), f"m{d}") for d in (1, 2, 28)]
    html = line_chart(points, marks=marks)
    labels = re.findall(r'<text class="tick mark-label" ([^>]*)>(m\d+)</text>', html)
    assert [text for _, text in labels] == ["m1", "m2", "m28"]
    heights = [re.search(r'y="([\d.]+)"', attrs).group(1) for attrs, _ in labels]  # type: ignore[union-attr]
    assert len(set(heights)) == 3
    assert 'text-anchor="end"' in labels[2][0]
    assert 'text-anchor="end"' not in labels[0][0]


def test_a_chart_of_another_measure_says_so() -> None:
    html = line_chart(_points([40.0, 80.0]), title="adoption history", what="passing", unit="%")
    assert 'aria-label="adoption history from 2026-03-01 to 2026-03-02; latest 80.0%; ' in html
    assert "passing 40\u201380%</text>" in html
