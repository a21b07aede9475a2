"""HTML (Jinja2, autoescaped), CSV and plain-text renderings of the reports."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from onemind.domain.programs import RATE_WINDOW_DAYS
from onemind.domain.text import plain, spreadsheet_cell
from onemind.reports.chart import Chart, trend_chart
from onemind.reports.content import AgencyReport, percent
from onemind.reports.hub import HubSummary

HTML_PEOPLE = 50
MARKS = {True: "✓", False: "✗", None: "n/a"}
MARK_COLOURS = {True: "#4d9221", False: "#b2182b", None: "#b8860b"}
STATUS_COLOURS = {
    "complete": "#4d9221",
    "on-track": "#2166ac",
    "at-risk": "#b8860b",
    "overdue": "#b2182b",
}
COUNT_COLUMNS = (
    "sworn_total",
    "sworn_crisis",
    "sworn_trained",
    "nonsworn_selected_total",
    "nonsworn_trained",
)

_ENV = Environment(
    loader=PackageLoader("onemind.reports", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def agency_chart(report: AgencyReport) -> Chart:
    return trend_chart(report.trend, f"{report.coverage.name}: coverage over time")


def chart_svg(chart: Chart) -> str:
    """The chart as a standalone SVG document (text escaped like the rest of the report)."""
    return _ENV.get_template("chart.svg.j2").render(chart=chart)


def agency_html(
    report: AgencyReport, chart: Chart, changed: str | None = None, chart_cid: str | None = None
) -> str:
    """The agency's report as an HTML page, the chart inline as SVG, or for e-mail an image
    attached under `chart_cid`. The PDF says the same (see `agency_pdf.agency_pdf`)."""
    c = report.coverage
    return _ENV.get_template("agency.html.j2").render(
        report=report,
        c=c,
        n=c.counts,
        program=report.program,
        status_colour=STATUS_COLOURS.get(c.status, "#6a3d9a"),
        marks=MARKS,
        mark_colour=MARK_COLOURS,
        pct=percent,
        window=RATE_WINDOW_DAYS,
        chart=chart,
        chart_cid=chart_cid,
        shown=report.needs[:HTML_PEOPLE],
        more=max(0, len(report.needs) - HTML_PEOPLE),
        changed=changed,
    )


def hub_html(summary: HubSummary) -> str:
    return _ENV.get_template("hub.html.j2").render(
        summary=summary, marks=MARKS, pct=percent, status_colours=STATUS_COLOURS
    )


def agency_text(report: AgencyReport, changed: str | None = None) -> str:
    """The plain-text part of the e-mail: the status and the figures, no markup."""
    c, n = report.coverage, report.coverage.counts
    lines = [
        f"{plain(c.name)}: One Mind Pledge coverage as of {c.as_of.isoformat()}",
        f"Status: {c.status}",
        *([changed] if changed else []),
        report.outlook,
        "",
        *(f"[{MARKS[r.met]}] {r.label}: {plain(r.detail)}" for r in report.requirements),
        "",
        f"Sworn officers: {n.sworn_total}; crisis-trained {n.sworn_crisis} "
        f"({percent(n.sworn_crisis, n.sworn_total)}); trained {n.sworn_trained} "
        f"({percent(n.sworn_trained, n.sworn_total)})",
        f"Selected non-sworn staff: {n.nonsworn_total}; trained {n.nonsworn_trained} "
        f"({percent(n.nonsworn_trained, n.nonsworn_total)})",
        f"People still needing training: {len(report.needs)} (see the attached CSV and PDF)",
    ]
    return "\n".join(lines) + "\n"


def people_csv(report: AgencyReport) -> str:
    """Everyone who still needs training, with which training, one row each."""
    header = ("agency", "name", "employee_id", "role", "needs_training", "needs_crisis", "needs")
    rows = (
        (
            report.coverage.agency,
            p.name,
            p.employee_id,
            p.role,
            yes_no(p.training),
            yes_no(p.crisis),
            "; ".join(p.needs),
        )
        for p in report.needs
    )
    return _csv(header, rows)


def agencies_csv(summary: HubSummary) -> str:
    """The hub table as CSV, one row per agency with the figures of `coverage --json`."""
    header = ("agency", "name", "program", "status", *COUNT_COLUMNS, "partnership", "policy")
    rows = (
        (
            r.agency,
            r.name,
            r.program,
            r.status,
            *(r.to_json()[column] for column in COUNT_COLUMNS),
            yes_no(r.partnership),
            yes_no(r.policy),
            r.deadline or "",
            r.projected_completion or "",
        )
        for r in summary.reports
    )
    return _csv((*header, "deadline", "projected_completion"), rows)


def yes_no(value: bool) -> str:
    """How every CSV we write states a yes-or-no fact."""
    return "yes" if value else "no"


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([spreadsheet_cell(plain(str(v))) for v in row] for row in rows)
    return out.getvalue()
