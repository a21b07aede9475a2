"""Every format of an agency report says the same thing: the PDF is the HTML page laid out for
print, and the trend chart is drawn from the records, so a first report already has history."""

from __future__ import annotations

import io
import re
import tomllib
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.orm import Session, sessionmaker
from test_reports import pdf_text, squeezed
from test_sync import COMPLETIONS_HEADER, ROSTER_HEADER

from onemind.config import Settings, parse_settings
from onemind.domain.programs import PROGRAMS, projected_completion
from onemind.reports import render
from onemind.reports.agency_pdf import draw_chart
from onemind.reports.chart import BOTTOM, trend_chart
from onemind.reports.content import agency_report, standing
from onemind.reports.credits import read_credits
from onemind.reports.pdf import load_fonts
from onemind.reports.rendered import render_agency
from onemind.reports.trend import (
    HISTORY_POINTS,
    Trend,
    TrendPoint,
    gather,
    history_dates,
)
from onemind.store import coverage
from onemind.store.explain import explain_agency
from onemind.sync.runner import SyncRunner

AS_OF = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
# Six officers, none crisis-trained (the 20 % rule needs 2 more); two hold MHFA (from 2025-06
# and from 2026-10), the dispatcher nothing.
ROSTER = (
    ROSTER_HEADER
    + "".join(
        f"c-pd,{n},{first},Officer,{first.lower()}@c.example,true,Officer,,2019-01-01,\n"
        for n, first in enumerate(("Ann", "Bob", "Cy", "Di", "Ed", "Flo"), start=1)
    )
    + "c-pd,7,Gus,Dispatch,gus@c.example,false,Dispatcher,,2019-01-01,\n"
)
COMPLETIONS = COMPLETIONS_HEADER + (
    "1,,MHFA-PS,Mental Health First Aid for Public Safety,,8,2025-06-10,\n"
    "2,,MHFA-PS,Mental Health First Aid for Public Safety,,8,2026-10-01,\n"
)


def settings_for(
    folder: Path, pledged: str, roster: str = ROSTER, completions: str = COMPLETIONS
) -> Settings:
    (folder / "roster.csv").write_text(roster, encoding="utf-8")
    (folder / "completions.csv").write_text(completions, encoding="utf-8")
    text = f"""
[[agencies]]
id = "c-pd"
name = "C Police Department"
pledged_on = {pledged}
deadline_months = 24

[[sources]]
name = "roster"
kind = "csv"
role = "roster"
path = "{folder / "roster.csv"}"

[[sources]]
name = "completions"
kind = "csv"
role = "completions"
path = "{folder / "completions.csv"}"
"""
    return parse_settings(tomllib.loads(text), folder / "onemind.toml", {})


@pytest.fixture
def synced(tmp_path: Path, sessions: sessionmaker[Session]) -> Settings:
    """A first sync: the store holds one coverage snapshot, today's."""
    settings = settings_for(tmp_path, "2025-03-01")
    assert SyncRunner(settings, sessions, lambda: NOW).run(as_of=AS_OF).ok
    return settings


class PeopleTable(HTMLParser):
    """(name, needs) of each row of the HTML report's table of who still needs training:
    the table whose first heading is 'name'."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []
        elif self.cell is not None and tag == "br":
            self.cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def needs(self) -> list[tuple[str, list[str]]]:
        [table] = [t for t in self.tables if t and t[0] and t[0][0] == "name"]
        return [(row[0], row[3].split("\n")) for row in table[1:]]


def test_the_pdf_states_the_same_needs_as_the_html(
    synced: Settings, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        rendered = render_agency(session, synced, "c-pd", AS_OF, NOW)
    html = rendered.files["c-pd.html"].decode()
    parser = PeopleTable()
    parser.feed(html)
    people = parser.needs()
    assert len(people) == 7 and "Who still needs training (7)" in html

    text = squeezed(pdf_text(rendered.files["c-pd.pdf"]))
    assert squeezed("Who still needs training (7)") in text
    assert squeezed("2 of 6 sworn officers, 0 of 1 selected non-sworn staff") in text
    starts = [text.index(squeezed(name)) for name, _ in people]
    assert starts == sorted(starts), "the PDF lists the people in the HTML's order"
    footer = text.find(squeezed("Generated "), starts[-1])
    ends = [*starts[1:], footer if footer > 0 else len(text)]
    every_need = {need for _, needs in people for need in needs}
    for (name, needs), start, end in zip(people, starts, ends, strict=True):
        row = text[start:end]
        for need in every_need:
            said = squeezed(need) in row
            assert said == (need in needs), f"{name}: {need!r} {'in' if said else 'not in'} PDF"
    crisis = [name for name, needs in people if any("2 more officer(s)" in n for n in needs)]
    assert crisis == [f"{first} Officer" for first in ("Ann", "Bob", "Cy", "Di", "Ed", "Flo")]


class VisibleText(HTMLParser):
    """The text a reader of the HTML page sees, piece by piece (not the head, not the SVG,
    whose words the PDF draws as part of the chart)."""

    HIDDEN = ("head", "svg")

    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0
        self.pieces: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in self.HIDDEN

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in self.HIDDEN

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.pieces.append(data)


def test_the_pdf_says_everything_the_html_page_says_in_its_order(
    synced: Settings, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        rendered = render_agency(session, synced, "c-pd", AS_OF, NOW, changed="Status changed")
    parser = VisibleText()
    parser.feed(rendered.files["c-pd.html"].decode())
    text = squeezed(pdf_text(rendered.files["c-pd.pdf"]))
    assert len(parser.pieces) > 40
    position = 0
    for piece in parser.pieces:
        found = text.find(squeezed(piece), position)
        assert found >= 0, (
            f"the PDF does not say {piece!r} after {text[position - 40 : position]!r}"
        )
        position = found


def test_a_first_report_draws_its_history_from_the_records(
    synced: Settings, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        report = agency_report(session, synced, "c-pd", AS_OF, NOW)
        html = render_agency(session, synced, "c-pd", AS_OF, NOW).files["c-pd.html"].decode()
    points = report.trend.points
    assert points[0].as_of == date(2025, 3, 1) and points[-1].as_of == AS_OF
    assert len(points) == 22  # monthly from the pledge date, then the report's date
    trained = {p.as_of: round(p.sworn or 0) for p in points}
    assert trained[date(2025, 6, 1)] == 0 and trained[date(2025, 7, 1)] == 17
    assert trained[date(2026, 10, 1)] == 33 and trained[AS_OF] == 33
    svg = re.search(r"<svg.*?</svg>", html, flags=re.S)
    assert svg is not None and '<title id="trend-title">C Police Department' in svg.group(0)
    assert '<desc id="trend-desc">' in svg.group(0) and "deadline 2027-03-01" in svg.group(0)
    assert svg.group(0).count("<polyline") == 6  # three series, each with its projection


CIT = "CIT-40,Crisis Intervention Team (CIT) 40-hour Basic Course,,40"
MHFA = "MHFA-PS,Mental Health First Aid for Public Safety,,8"


def test_progress_of_the_last_90_days_counts_todays_people_as_the_projection_does(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    """The trend counted here is the coverage engine's, date by date. Ten officers, three
    crisis-trained long ago (the 20 % rule is met before and after);
    in the last 90 days officer 3 was crisis-trained, officer 4 and a newcomer trained in
    MHFA; an officer trained long ago left since. Today's people: three more trained (the
    newcomer counts, the leaver does not), one more crisis-trained (beyond the 20 %)."""
    officer = "c-pd,{n},Of{n},Icer,of{n}@c.example,true,Officer,,{hired},{left}\n"
    roster = ROSTER_HEADER + "".join(
        officer.format(n=n, hired="2019-01-01", left="") for n in range(1, 11)
    )
    roster += officer.format(n=11, hired="2026-10-15", left="")
    roster += officer.format(n=12, hired="2019-01-01", left="2026-09-30")
    done = [(1, CIT, "2025-06-10,"), (2, CIT, "2025-06-10,"), (5, CIT, "2025-06-10,")]
    done += [(3, CIT, "2026-10-01,"), (4, MHFA, "2026-10-05,"), (11, MHFA, "2026-11-01,")]
    done += [(12, MHFA, "2025-06-10,"), (6, MHFA, "2025-01-10,2026-01-10")]
    completions = COMPLETIONS_HEADER + "".join(f"{n},,{c},{day}\n" for n, c, day in done)
    settings = settings_for(tmp_path, "2025-03-01", roster, completions)
    assert SyncRunner(settings, sessions, lambda: NOW).run(as_of=AS_OF).ok
    with sessions() as session:
        report = agency_report(session, settings, "c-pd", AS_OF, NOW)
        credits = read_credits(session, report.program, "c-pd", AS_OF)
        _, before = gather(session, report.coverage, credits)
        html = render_agency(session, settings, "c-pd", AS_OF, NOW).files["c-pd.html"].decode()
        days = [date(2024, 12, 1) + timedelta(days=30 * k) for k in range(24)]
        engine = coverage.head_counts_at(session, AS_OF, days, ["c-pd"])
        assert [credits.counts(day) for day in (AS_OF, *days)] == [d["c-pd"] for d in engine]
    assert report.coverage.counts.sworn_total == 11 and report.coverage.crisis_20
    assert (report.trained_recently, report.crisis_recently) == (3, 1)
    now = report.coverage.counts
    assert now.sworn_trained - before.sworn_trained == 3
    program = PROGRAMS[report.coverage.program]
    assert projected_completion(program, now, before, AS_OF) == (
        report.coverage.projected_completion
    ), "the figures and the projection follow the same people over the same 90 days"
    assert "3 more people trained, 1 more officers crisis-trained" in html


def test_the_people_a_report_lists_are_judged_as_explain_judges_them(
    synced: Settings, sessions: sessionmaker[Session]
) -> None:
    """The report's one query per agency against `onemind coverage --explain`'s record-by-record verdicts."""
    with sessions() as session:
        program = agency_report(session, synced, "c-pd", AS_OF, NOW).program
        for day in (AS_OF, date(2025, 7, 1), date(2025, 6, 1)):
            found = standing(session, read_credits(session, program, "c-pd", day), "c-pd", day)
            expected = explain_agency(session, "c-pd", day)
            assert [(p.name, p.employee_id, p.role, p.trained, p.crisis) for p in found] == [
                (p.name, p.employee_id, p.role, p.trained, p.crisis) for p in expected
            ]
            assert any(p.trained for p in found) == (day >= date(2025, 7, 1))


def trend(*values: tuple[str, float], deadline: str | None, projected: str | None = None) -> Trend:
    points = [TrendPoint(date.fromisoformat(day), 10.0, v, None) for day, v in values]
    window = TrendPoint(date.fromisoformat(values[-1][0]), 10.0, values[-1][1] - 9, None)
    return Trend(
        points,
        window,
        date.fromisoformat(deadline) if deadline else None,
        date.fromisoformat(projected) if projected else None,
    )


def test_the_axis_ends_at_the_report_date_when_no_deadline_is_ahead() -> None:
    chart = trend_chart(trend(("2025-01-01", 20), ("2026-11-26", 50), deadline="2026-09-01"), "t")
    assert chart.projection_x is None and all(not line.projection for line in chart.lines)
    last_x = max(float(xy.split(",")[0]) for line in chart.lines for xy in line.points.split())
    assert last_x == chart.box[2], "the last point is the right end of the axis"
    assert [m.label for m in chart.markers] == ["deadline 2026-09-01"]
    assert all(x <= chart.box[2] for x, _ in chart.x_ticks)
    assert [label for _, label in chart.x_ticks][-2:] == ["Jul 2026", "Oct 2026"]


def test_the_projection_runs_to_the_deadline_in_a_labelled_region() -> None:
    chart = trend_chart(
        trend(
            ("2025-01-01", 20), ("2026-11-26", 50), deadline="2027-11-26", projected="2027-08-01"
        ),
        "t",
    )
    assert chart.projection_x is not None and chart.box[0] < chart.projection_x < chart.box[2]
    [line] = [line for line in chart.lines if line.label == "sworn, trained"]
    history = [float(xy.split(",")[0]) for xy in line.points.split()]
    assert max(history) == chart.projection_x, "history stops at the report's date"
    ahead = [tuple(map(float, xy.split(","))) for xy in line.projection.split()]
    assert ahead[0][0] == chart.projection_x and ahead[-1][0] == chart.box[2]
    assert ahead[-1][1] < ahead[0][1], "rising: 9 points in 90 days"
    labels = [item.label for item in chart.legend]
    assert "deadline 2027-11-26" in labels and "projected completion 2027-08-01" in labels
    assert all(item.y > BOTTOM + 20 for item in chart.legend), "the legend is below the plot"


@pytest.mark.parametrize(
    ("start", "as_of", "count", "first_gap_days"),
    [
        (date(2025, 3, 1), date(2026, 11, 26), 21, 31),
        (date(2025, 3, 1), date(2025, 3, 2), 1, None),
        (date(2019, 1, 15), date(2026, 11, 26), 32, 90),
        (date(2016, 1, 1), date(2026, 11, 26), 33, 121),
    ],
)
def test_history_is_monthly_and_at_most_a_chart_full(
    start: date, as_of: date, count: int, first_gap_days: int | None
) -> None:
    days = history_dates(start, as_of)
    assert days[0] == start and days[-1] < as_of and len(days) == count
    assert len(days) < HISTORY_POINTS
    if first_gap_days is not None:
        assert (days[1] - days[0]).days == first_gap_days


def test_the_chart_escapes_the_agency_name() -> None:
    chart = trend_chart(trend(("2025-01-01", 20), ("2026-11-26", 50), deadline=None), "<b>&x")
    svg = render.chart_svg(chart)
    assert "&lt;b&gt;&amp;x" in svg and "<b>" not in svg


def test_the_pdf_chart_marks_each_point_of_history_with_a_dot() -> None:
    """A dot is a zero-length line with round caps, which a reader paints as a disc."""
    chart = trend_chart(trend(("2025-01-01", 20), ("2026-11-26", 50), deadline=None), "t")
    load_fonts()
    canvas = Canvas(io.BytesIO())
    draw_chart(canvas, chart, 10, 700, 0.5)
    drawn = canvas._code
    dots = [dot for line in chart.lines for dot in line.dots]
    degenerate = [
        (x, y)
        for x, y, x2, y2 in re.findall(r"(\S+) (\S+) m (\S+) (\S+) l", " ".join(drawn))
        if (x, y) == (x2, y2)
    ]
    assert len(degenerate) == len(dots) > 2
    assert {(float(x), float(y)) for x, y in degenerate} == {
        (10 + px * 0.5, 700 - py * 0.5) for px, py in dots
    }
    caps = [code for code in drawn if code.endswith(" J")]
    assert caps == ["1 J", "0 J"] * len(chart.lines), "round caps for the dots only"
