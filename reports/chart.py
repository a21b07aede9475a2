"""The coverage trend chart's geometry, drawn as SVG by the report template (chart.svg.j2).

History to the report's date, then (when the deadline is later) the projection at the last
90 days' rate up to the deadline, in a shaded and labelled region. The legend sits below the
plot, so it never covers a line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from onemind.domain.programs import RATE_WINDOW_DAYS
from onemind.reports.trend import Trend

WIDTH, HEIGHT = 700, 306
LEFT, RIGHT, TOP, BOTTOM = 46, 684, 24, 224
LEGEND_TOP, LEGEND_ROW, LEGEND_COLUMNS = 256, 18, 3
MAX_X_TICKS = 8
TICK_MONTHS = (1, 2, 3, 6, 12, 24, 48)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CRISIS_TARGET = 20
SERIES = (
    ("crisis", "sworn, crisis-trained", "#b2182b"),
    ("sworn", "sworn, trained", "#2166ac"),
    ("nonsworn", "selected non-sworn, trained", "#4d9221"),
)


@dataclass(frozen=True)
class Line:
    """One series: its history as a polyline with dots, and its projection (maybe empty)."""

    label: str
    colour: str
    points: str
    dots: list[tuple[float, float]]
    projection: str


@dataclass(frozen=True)
class Marker:
    x: float
    label: str
    dash: str


@dataclass(frozen=True)
class LegendItem:
    x: float
    y: float
    label: str
    colour: str
    dash: str = ""


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    lines: list[Line]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    target_y: float
    markers: list[Marker]
    projection_x: float | None
    legend: list[LegendItem] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    box: tuple[int, int, int, int] = (LEFT, TOP, RIGHT, BOTTOM)


def trend_chart(trend: Trend, title: str) -> Chart:
    """Where everything goes: dates map linearly onto the plot from the first point to the
    report's date, or to the deadline when it is later (the projection is then shown)."""
    start, as_of = trend.points[0].as_of, trend.as_of
    end = trend.deadline if trend.deadline and trend.deadline > as_of else as_of
    x = _scale(start, end)
    lines = [_line(trend, attribute, label, colour, x, end) for attribute, label, colour in SERIES]
    shown = [line for line in lines if line is not None]
    markers = _markers(trend, x, start, end)
    return Chart(
        title=title,
        description=describe(trend),
        lines=shown,
        x_ticks=[(x(day), label) for day, label in month_ticks(start, end)],
        y_ticks=[(_y(v), f"{v} %") for v in range(0, 101, 20)],
        target_y=_y(CRISIS_TARGET),
        markers=markers,
        projection_x=x(as_of) if end > as_of else None,
        legend=_legend(shown, markers, end > as_of),
    )


def _scale(start: date, end: date) -> Callable[[date], float]:
    span = max(1, (end - start).days)
    return lambda day: round(LEFT + (RIGHT - LEFT) * (day - start).days / span, 1)


def _y(value: float) -> float:
    return round(BOTTOM - (BOTTOM - TOP) * value / 100, 1)


def _line(
    trend: Trend, attribute: str, label: str, colour: str, x: Callable[[date], float], end: date
) -> Line | None:
    values = [(p.as_of, getattr(p, attribute)) for p in trend.points]
    if any(v is None for _, v in values):
        return None
    dots = [(x(day), _y(v)) for day, v in values]
    ahead = projection(trend, attribute, end)
    return Line(label, colour, _path(dots), dots, _path((x(d), _y(v)) for d, v in ahead))


def _path(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{px},{py}" for px, py in points)


def projection(trend: Trend, attribute: str, end: date) -> list[tuple[date, float]]:
    """The series from the report's date to `end` at its rate of the last 90 days, held
    between 0 and 100 %; empty when there is nothing ahead to project."""
    as_of = trend.as_of
    now, before = getattr(trend.points[-1], attribute), getattr(trend.window, attribute)
    if end <= as_of or now is None or before is None:
        return []
    slope = (now - before) / RATE_WINDOW_DAYS
    days = (end - as_of).days
    if slope > 0 and now + slope * days > 100:
        full = as_of + timedelta(days=math.ceil((100 - now) / slope))
        return [(as_of, now), (full, 100.0), (end, 100.0)]
    return [(as_of, now), (end, min(100.0, max(0.0, now + slope * days)))]


def month_ticks(start: date, end: date) -> list[tuple[date, str]]:
    """First days of months between the dates, every 1, 2, 3, 6, … months: at most 8."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    step = next((s for s in TICK_MONTHS if months / s <= MAX_X_TICKS), TICK_MONTHS[-1])
    index = start.year * 12 + start.month - 1
    index += -index % step
    ticks = []
    while (day := date(index // 12, index % 12 + 1, 1)) <= end:
        if day >= start:
            ticks.append((day, f"{MONTHS[day.month - 1]} {day.year}"))
        index += step
    return ticks


def _markers(trend: Trend, x: Callable[[date], float], start: date, end: date) -> list[Marker]:
    markers = []
    if trend.deadline and start <= trend.deadline <= end:
        markers.append(Marker(x(trend.deadline), f"deadline {trend.deadline.isoformat()}", ""))
    projected = trend.projected
    if projected and trend.as_of < projected <= end:
        label = f"projected completion {projected.isoformat()}"
        markers.append(Marker(x(projected), label, "2 3"))
    return markers


def _legend(lines: list[Line], markers: list[Marker], ahead: bool) -> list[LegendItem]:
    entries = [(line.label, line.colour, "") for line in lines]
    entries.append(("20 % crisis-trained target", "#b2182b", "6 3"))
    if ahead:
        entries.append((f"projected at the {RATE_WINDOW_DAYS}-day rate", "#555", "4 3"))
    entries += [(m.label, "#222", m.dash) for m in markers]
    width = (RIGHT - LEFT) / LEGEND_COLUMNS
    return [
        LegendItem(
            LEFT + width * (i % LEGEND_COLUMNS),
            LEGEND_TOP + LEGEND_ROW * (i // LEGEND_COLUMNS),
            label,
            colour,
            dash,
        )
        for i, (label, colour, dash) in enumerate(entries)
    ]


def describe(trend: Trend) -> str:
    """The chart in words, for screen readers and for anyone who cannot see it."""
    first, last = trend.points[0], trend.points[-1]
    parts = [
        f"{label} {_percent(getattr(first, attribute))} on {first.as_of.isoformat()}, "
        f"{_percent(getattr(last, attribute))} on {last.as_of.isoformat()}"
        for attribute, label, _ in SERIES
        if getattr(last, attribute) is not None
    ]
    text = "Share of today's people holding the training at each date: " + "; ".join(parts)
    if trend.deadline:
        text += f". Deadline {trend.deadline.isoformat()}"
    if trend.projected and trend.projected > trend.as_of:
        text += f"; training projected to be complete by {trend.projected.isoformat()}"
    return text + "."


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} %"


def chart_png(svg: str) -> bytes:
    """The SVG as a PNG at twice its size, for mail clients that show no inline SVG."""
    import cairosvg

    return cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=2)
