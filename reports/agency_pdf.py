"""The agency report's pages: the sections of the HTML page (agency.html.j2), in its order and
words, laid out by `pdf.Document`; the trend chart drawn from the same `Chart` geometry as the
SVG, as vector lines and text."""

from __future__ import annotations

from collections.abc import Callable

from reportlab.pdfgen.canvas import Canvas

from onemind.domain.programs import RATE_WINDOW_DAYS
from onemind.reports.chart import Chart
from onemind.reports.content import AgencyReport, percent
from onemind.reports.pdf import (
    BODY,
    BOLD,
    GREY,
    REGULAR,
    SMALL,
    TABLE,
    WIDTH,
    Cell,
    Document,
    Run,
    colour,
)
from onemind.reports.pdf import LEFT as PAGE_LEFT
from onemind.reports.render import HTML_PEOPLE, MARK_COLOURS, MARKS, STATUS_COLOURS

FLAGGED = "#b2182b"
CHART_FONT = 11  # the SVG's font size, in its pixels
NOTICE = "#fff3cd"


def agency_pdf(report: AgencyReport, chart: Chart, changed: str | None = None) -> bytes:
    """The agency's report as a tagged PDF: what its HTML page says, laid out for print."""
    c = report.coverage
    doc = Document(
        title=f"{c.name}: One Mind Pledge coverage as of {c.as_of.isoformat()}",
        subject="One Mind Pledge coverage",
        footer=c.name,
    )
    _summary(doc, report, changed)
    _requirements(doc, report)
    _coverage(doc, report)
    doc.heading("Coverage over time", 2, keep=chart.height * WIDTH / chart.width)
    with doc.figure(chart.height * WIDTH / chart.width, chart.description) as top:
        draw_chart(doc.canvas, chart, PAGE_LEFT, top, WIDTH / chart.width)
    doc.paragraph([Run(chart.description, size=SMALL, colour=GREY)])
    _sources(doc, report)
    _people(doc, report)
    doc.paragraph([Run(_generated(report), size=7, colour="#777777")], after=0)
    return doc.bytes()


def _summary(doc: Document, report: AgencyReport, changed: str | None) -> None:
    c = report.coverage
    doc.heading(c.name, 1)
    doc.paragraph(
        [
            Run("One Mind Pledge coverage as of ", colour=GREY),
            Run(c.as_of.isoformat(), BOLD, colour=GREY),
            Run(f" · {report.program.title}", colour=GREY),
        ]
    )
    status = [
        Run("Status: ", size=11),
        Run(c.status, BOLD, 11, STATUS_COLOURS.get(c.status, "#6a3d9a")),
    ]
    if c.deadline:
        status.append(Run(f" · deadline {c.deadline.isoformat()}", size=11))
    doc.paragraph(status)
    doc.paragraph([Run(report.outlook)])
    if changed:
        doc.paragraph([Run(changed)], fill=NOTICE)


def _requirements(doc: Document, report: AgencyReport) -> None:
    doc.heading("The four requirements", 2)
    rows = [
        [
            [Run(MARKS[r.met], BOLD, TABLE, MARK_COLOURS[r.met])],
            [Run(r.label, size=TABLE), Run(r.detail, size=SMALL, colour=GREY)],
        ]
        for r in report.requirements
    ]
    doc.table([0.07, 0.93], rows)


def _coverage(doc: Document, report: AgencyReport) -> None:
    c, n = report.coverage, report.coverage.counts
    doc.heading("Coverage", 2)
    figures = [
        ("Sworn officers, crisis-trained (CIT/CRIT)", n.sworn_total, n.sworn_crisis),
        ("Sworn officers, trained in mental health", n.sworn_total, n.sworn_trained),
        ("Selected non-sworn staff, trained", n.nonsworn_total, n.nonsworn_trained),
    ]
    header: list[Cell] = [[Run("", BOLD, TABLE)]] + [
        [Run(h, BOLD, TABLE, right=True)] for h in ("people", "trained", "share")
    ]
    rows = [
        [[Run(label, size=TABLE)]]
        + [[Run(v, size=TABLE, right=True)] for v in (str(total), str(held), percent(held, total))]
        for label, total, held in figures
    ]
    doc.table([0.52, 0.12, 0.12, 0.12], rows, header, rules=False, header_fill=None)
    doc.paragraph(
        [
            Run(
                f"The 20 % rule needs {c.crisis_needed} crisis-trained officer(s). "
                f"In the last {RATE_WINDOW_DAYS} days: {report.trained_recently} more people "
                f"trained, {report.crisis_recently} more officers crisis-trained.",
                size=SMALL,
                colour=GREY,
            )
        ]
    )


def _sources(doc: Document, report: AgencyReport) -> None:
    if not report.sources:
        return
    doc.heading("Data sources", 2)
    rows = []
    for s in report.sources:
        flagged = s.flagged(report.flag_after)
        if flagged:
            said = f"failing {s.failing_nights} nights in a row: {s.last_error or ''}"
        elif s.last_status:
            at = f" at {s.last_run_at.strftime('%Y-%m-%d %H:%M')} UTC" if s.last_run_at else ""
            said = f"last run {s.last_status}{at}"
        else:
            said = "never synced"
        rows.append(
            [
                [Run(s.source, size=TABLE)],
                [Run(said, size=TABLE, colour=FLAGGED if flagged else GREY)],
            ]
        )
    doc.table([0.3, 0.7], rows, rules=False)


def _people(doc: Document, report: AgencyReport) -> None:
    doc.heading(f"Who still needs training ({len(report.needs)})", 2)
    if not report.needs:
        doc.paragraph(
            [Run("Nobody: everyone in the population holds the training the program counts.")]
        )
        return
    header: list[Cell] = [
        [Run(h, BOLD, TABLE)] for h in ("name", "employee id", "role", "still needs")
    ]
    rows = [
        [
            [Run(p.name, size=TABLE)],
            [Run(p.employee_id, size=TABLE)],
            [Run(p.role, size=TABLE)],
            [Run(need, size=TABLE) for need in p.needs],
        ]
        for p in report.needs[:HTML_PEOPLE]
    ]
    doc.table([0.26, 0.13, 0.17, 0.44], rows, header)
    more = len(report.needs) - HTML_PEOPLE
    if more > 0:
        doc.paragraph([Run(f"… and {more} more: the attached CSV lists everyone.", size=BODY)])


def _generated(report: AgencyReport) -> str:
    c = report.coverage
    return (
        f"Generated {report.generated_at.strftime('%Y-%m-%d %H:%M')} UTC by onemind-sync. "
        f"The population is everyone on the agency's roster active on {c.as_of.isoformat()}: "
        "sworn officers and selected non-sworn staff. A credential counts when it was completed "
        "on or before that date, has not expired and was not voided."
    )


def draw_chart(canvas: Canvas, chart: Chart, left: float, top: float, scale: float) -> None:
    """The chart's SVG drawing (chart.svg.j2), element by element, its pixels scaled to points
    with the origin at (`left`, `top`)."""
    pen = ChartPen(canvas, left, top, scale)
    box_left, box_top, box_right, box_bottom = chart.box
    canvas.saveState()
    if chart.projection_x is not None:
        pen.box(chart.projection_x, box_top, box_right, box_bottom, "#f2f2f2")
        pen.label(chart.projection_x + 4, box_top - 6, "projection", "#555555")
    for py, text in chart.y_ticks:
        pen.line(box_left, py, box_right, py, "#dddddd")
        pen.label(box_left - 6, py + 4, text, "#555555", canvas.drawRightString)
    for px, text in chart.x_ticks:
        pen.line(px, box_bottom, px, box_bottom + 4, "#555555")
        pen.label(px, box_bottom + 17, text, "#555555", canvas.drawCentredString)
    pen.line(box_left, box_bottom, box_right, box_bottom, "#555555")
    pen.line(box_left, chart.target_y, box_right, chart.target_y, "#b2182b", dash="6 3")
    for m in chart.markers:
        pen.line(m.x, box_top, m.x, box_bottom, "#222222", 1.2, m.dash)
    for series in chart.lines:
        if series.projection:
            pen.polyline(series.projection, series.colour, 1.6, "4 3")
        pen.polyline(series.points, series.colour, 2)
        pen.dots(series.dots, series.colour, 2.2)
    for item in chart.legend:
        pen.line(item.x, item.y, item.x + 22, item.y, item.colour, 2, item.dash)
        pen.label(item.x + 28, item.y + 4, item.label, "#222222")
    canvas.restoreState()


class ChartPen:
    """SVG-like strokes in the chart's pixels (y downwards), drawn in points on the page."""

    def __init__(self, canvas: Canvas, left: float, top: float, scale: float) -> None:
        self.canvas, self.left, self.top, self.scale = canvas, left, top, scale

    def x(self, px: float) -> float:
        return self.left + px * self.scale

    def y(self, py: float) -> float:
        return self.top - py * self.scale

    def stroke(self, ink: str, width: float, dash: str) -> None:
        self.canvas.setStrokeColor(colour(ink))
        self.canvas.setLineWidth(width * self.scale)
        self.canvas.setDash([float(d) * self.scale for d in dash.split()])

    def line(
        self, x1: float, y1: float, x2: float, y2: float, ink: str, width: float = 1, dash: str = ""
    ) -> None:
        self.stroke(ink, width, dash)
        self.canvas.line(self.x(x1), self.y(y1), self.x(x2), self.y(y2))

    def polyline(self, points: str, ink: str, width: float, dash: str = "") -> None:
        """An SVG `points` attribute ("x,y x,y …") as one open path."""
        path = self.canvas.beginPath()
        for index, pair in enumerate(points.split()):
            px, py = (float(v) for v in pair.split(","))
            (path.lineTo if index else path.moveTo)(self.x(px), self.y(py))
        self.stroke(ink, width, dash)
        self.canvas.drawPath(path, stroke=1, fill=0)

    def dots(self, points: list[tuple[float, float]], ink: str, radius: float) -> None:
        """Filled circles, as one path of zero-length lines with round caps: a reader paints
        each as a disc of the line's width (drawn as four Bézier arcs each, the dots took about
        7 % of the PDF's time)."""
        path = self.canvas.beginPath()
        for px, py in points:
            path.moveTo(self.x(px), self.y(py))
            path.lineTo(self.x(px), self.y(py))
        self.stroke(ink, 2 * radius, "")
        self.canvas.setLineCap(1)
        self.canvas.drawPath(path, stroke=1, fill=0)
        self.canvas.setLineCap(0)

    def box(self, x1: float, y1: float, x2: float, y2: float, ink: str) -> None:
        self.canvas.setFillColor(colour(ink))
        width, height = (x2 - x1) * self.scale, (y2 - y1) * self.scale
        self.canvas.rect(self.x(x1), self.y(y2), width, height, stroke=0, fill=1)

    def label(
        self, px: float, py: float, text: str, ink: str, draw: Callable[..., None] | None = None
    ) -> None:
        """Text with its baseline at (px, py), from its start unless `draw` anchors it
        otherwise (drawRightString, drawCentredString)."""
        self.canvas.setFont(REGULAR, CHART_FONT * self.scale)
        self.canvas.setFillColor(colour(ink))
        (draw or self.canvas.drawString)(self.x(px), self.y(py), text)
