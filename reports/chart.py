"""The coverage trend chart, drawn with matplotlib's Agg renderer (no display, no pyplot state)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import timedelta

from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from onemind.domain.text import plain
from onemind.reports.content import TrendPoint

SERIES = (
    ("crisis", "sworn, crisis-trained", "#b2182b"),
    ("sworn", "sworn, trained", "#2166ac"),
    ("nonsworn", "selected non-sworn, trained", "#4d9221"),
)


def trend_png(points: Sequence[TrendPoint], title: str) -> bytes:
    """Coverage percentages over time with the 20 % line, as PNG bytes."""
    figure = Figure(figsize=(7.5, 3.2), dpi=120, layout="constrained")
    axes = figure.add_subplot()
    days = [p.as_of for p in points]
    for attribute, label, color in SERIES:
        values = [getattr(p, attribute) for p in points]
        if any(v is not None for v in values):
            shown = [float("nan") if v is None else v for v in values]
            axes.plot(days, shown, marker="o", markersize=3, label=label, color=color)
    axes.axhline(20, color="#b2182b", linestyle="--", linewidth=0.8)
    axes.annotate(
        "20 %",
        (0, 20),
        xycoords=("axes fraction", "data"),
        xytext=(2, 2),
        textcoords="offset points",
        fontsize=7,
        color="#b2182b",
    )
    axes.set_ylim(0, 105)
    axes.set_ylabel("% of people")
    axes.set_title(plain(title), fontsize=10, parse_math=False)
    if len(days) == 1:
        axes.set_xlim(days[0] - timedelta(days=30), days[0] + timedelta(days=30))
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="lower right")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
