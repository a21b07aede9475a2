"""The agency report as a PDF attachment (fpdf2), in DejaVu Sans so any name prints as written."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.fonts import FontFace

from onemind.domain.programs import RATE_WINDOW_DAYS
from onemind.domain.text import plain
from onemind.reports.content import AgencyReport, crisis_need, percent, trained_need
from onemind.reports.render import MARKS

FAMILY = "DejaVu"
HEADINGS = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))


@cache
def _font_files() -> tuple[Path, Path]:
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"


def agency_pdf(report: AgencyReport, chart: bytes) -> bytes:
    """The whole report: status, requirements, figures, outlook, trend chart and people list."""
    pdf = FPDF(format="Letter")
    regular, bold = _font_files()
    pdf.add_font(FAMILY, "", str(regular))
    pdf.add_font(FAMILY, "B", str(bold))
    pdf.set_title(plain(f"{report.coverage.name}: One Mind Pledge coverage"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    _heading(pdf, report)
    _requirements(pdf, report)
    _figures(pdf, report)
    pdf.image(io.BytesIO(chart), w=pdf.epw)
    _sources(pdf, report)
    _people(pdf, report)
    return bytes(pdf.output())


def _line(pdf: FPDF, text: str, size: float = 10, bold: bool = False, height: float = 6) -> None:
    pdf.set_font(FAMILY, "B" if bold else "", size)
    pdf.multi_cell(0, height, plain(text), new_x="LMARGIN", new_y="NEXT")


def _heading(pdf: FPDF, report: AgencyReport) -> None:
    c = report.coverage
    _line(pdf, c.name, size=18, bold=True, height=9)
    _line(pdf, f"One Mind Pledge coverage as of {c.as_of.isoformat()} · {report.program.title}")
    deadline = f" · deadline {c.deadline.isoformat()}" if c.deadline else ""
    _line(pdf, f"Status: {c.status}{deadline}", size=13, bold=True, height=8)
    _line(pdf, report.outlook)
    pdf.ln(2)


def _requirements(pdf: FPDF, report: AgencyReport) -> None:
    _line(pdf, "The four requirements", size=13, bold=True, height=8)
    pdf.set_font(FAMILY, "", 9)
    with pdf.table(col_widths=(12, 88, 90), text_align="LEFT", headings_style=HEADINGS) as table:
        table.row(("met", "requirement", "behind it"))
        for r in report.requirements:
            table.row((MARKS[r.met], r.label, plain(r.detail)))
    pdf.ln(3)


def _figures(pdf: FPDF, report: AgencyReport) -> None:
    n = report.coverage.counts
    _line(pdf, "Coverage", size=13, bold=True, height=8)
    pdf.set_font(FAMILY, "", 9)
    rows = (
        ("Sworn officers, crisis-trained (CIT/CRIT)", n.sworn_total, n.sworn_crisis),
        ("Sworn officers, trained in mental health", n.sworn_total, n.sworn_trained),
        ("Selected non-sworn staff, trained", n.nonsworn_total, n.nonsworn_trained),
    )
    with pdf.table(col_widths=(100, 30, 30, 30), text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
                   headings_style=HEADINGS) as table:  # fmt: skip
        table.row(("", "people", "trained", "share"))
        for label, whole, part in rows:
            table.row((label, str(whole), str(part), percent(part, whole)))
    _line(
        pdf,
        f"The 20 % rule needs {report.coverage.crisis_needed} crisis-trained officer(s). "
        f"In the last {RATE_WINDOW_DAYS} days: {report.trained_recently} more people trained, "
        f"{report.crisis_recently} more officers crisis-trained.",
        size=9,
    )
    pdf.ln(2)


def _sources(pdf: FPDF, report: AgencyReport) -> None:
    for source in report.flagged_sources:
        _line(
            pdf,
            f"Data source {source.source} has failed {source.failing_nights} nights in a row: "
            f"{source.last_error or ''}",
            size=9,
            bold=True,
        )


PEOPLE_COLUMNS = (
    ("name", 52),
    ("employee id", 28),
    ("role", 64),
    ("mental health", 28),
    ("crisis", 20),
)
ROW = 5


def _people(pdf: FPDF, report: AgencyReport) -> None:
    """One line per person (fast for thousands), the columns saying which training they need."""
    _line(pdf, f"Who still needs training ({len(report.needs)})", size=13, bold=True, height=8)
    if not report.needs:
        _line(pdf, "Nobody: everyone in the population holds the training the program counts.")
        return
    _line(pdf, f"mental health: {trained_need(report.program, True)}; selected non-sworn "
               "staff may also take CIT for telecommunicators.", size=8, height=4)  # fmt: skip
    if report.coverage.crisis_20 is False:
        _line(pdf, f"crisis: {crisis_need(report.coverage)}.", size=8, height=4)
    _people_header(pdf)
    for p in report.needs:
        if pdf.will_page_break(ROW):
            pdf.add_page()
            _people_header(pdf)
        cells = (p.name, p.employee_id, p.role, "✓" if p.training else "", "✓" if p.crisis else "")
        for text, (_, width) in zip(cells, PEOPLE_COLUMNS, strict=True):
            pdf.cell(width, ROW, _fit(pdf, plain(text), width), border="B")
        pdf.ln(ROW)


def _people_header(pdf: FPDF) -> None:
    pdf.set_font(FAMILY, "B", 8)
    for label, width in PEOPLE_COLUMNS:
        pdf.cell(width, ROW, label, border="B", fill=False)
    pdf.ln(ROW)
    pdf.set_font(FAMILY, "", 8)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """The text, shortened with an ellipsis to fit the column."""
    room = width - 2 * pdf.c_margin
    if pdf.get_string_width(text) <= room:
        return text
    while text and pdf.get_string_width(text + "…") > room:
        text = text[:-1]
    return text + "…"
