"""Each report rendered in every form it takes: its files, and the parts of its e-mail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

from sqlalchemy.orm import Session

from onemind.config.model import Settings
from onemind.private_files import private_folder, write_private
from onemind.reports import render
from onemind.reports.agency_pdf import agency_pdf
from onemind.reports.chart import chart_png
from onemind.reports.content import agency_report
from onemind.reports.hub import hub_summary
from onemind.reports.mail import Attachment

CHART_CID = "trend"
AGENCY, HUB = "agency", "hub"


@dataclass(frozen=True)
class Rendered:
    """One report in every form it takes: files to write, and the parts of an e-mail."""

    kind: str
    agency: str | None
    as_of: date
    status: str | None
    subject: str
    text: str
    mail_html: str
    files: dict[str, bytes]
    chart_svg: str | None = None
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)

    @cached_property
    def chart(self) -> bytes | None:
        """The chart as PNG for the e-mail, made only when a message is composed, and once."""
        return None if self.chart_svg is None else chart_png(self.chart_svg)

    @property
    def pdf(self) -> bytes | None:
        return next((a.content for a in self.attachments if a.subtype == "pdf"), None)

    @property
    def csv(self) -> str | None:
        found = next((a.content for a in self.attachments if a.subtype == "csv"), None)
        return None if found is None else found.decode("utf-8")


def render_agency(
    session: Session,
    settings: Settings,
    agency_id: str,
    as_of: date,
    now: datetime,
    changed: str | None = None,
) -> Rendered:
    """The agency's report as HTML (file and e-mail), PDF and the CSV of people to train."""
    report = agency_report(session, settings, agency_id, as_of, now)
    c = report.coverage
    chart = render.agency_chart(report)
    html = render.agency_html(report, chart, changed)
    pdf = agency_pdf(report, chart, changed)
    people = render.people_csv(report).encode("utf-8")
    subject = f"One Mind Pledge coverage: {c.name}: {c.status} as of {as_of.isoformat()}"
    return Rendered(
        kind=AGENCY,
        agency=agency_id,
        as_of=as_of,
        status=c.status,
        subject=f"{changed}: {subject}" if changed else subject,
        text=render.agency_text(report, changed),
        mail_html=render.agency_html(report, chart, changed, CHART_CID),
        files={
            f"{agency_id}.html": html.encode("utf-8"),
            f"{agency_id}.pdf": pdf,
            f"{agency_id}-people.csv": people,
        },
        chart_svg=render.chart_svg(chart),
        attachments=(
            Attachment(f"{agency_id}-coverage-{as_of.isoformat()}.pdf", pdf, "application", "pdf"),
            Attachment(f"{agency_id}-people-{as_of.isoformat()}.csv", people, "text", "csv"),
        ),
    )


def render_hub(session: Session, settings: Settings, as_of: date, now: datetime) -> Rendered:
    """The hub summary as HTML and the CSV of every agency's figures."""
    summary = hub_summary(session, settings, as_of, now)
    html = render.hub_html(summary)
    table = render.agencies_csv(summary).encode("utf-8")
    return Rendered(
        kind=HUB,
        agency=None,
        as_of=as_of,
        status=None,
        subject=f"One Mind Pledge: all agencies as of {as_of.isoformat()}",
        text=f"The summary of {len(summary.reports)} agencies is in the HTML part and the CSV.\n",
        mail_html=html,
        files={"hub-summary.html": html.encode("utf-8"), "hub-agencies.csv": table},
        attachments=(Attachment(f"agencies-{as_of.isoformat()}.csv", table, "text", "csv"),),
    )


def write(rendered: Rendered, directory: Path) -> list[Path]:
    """Write the report's files into the folder, readable by their owner only; returns their paths.

    Folders made here are 0700; each file is a new one, 0600 (an older copy is replaced).
    """
    private_folder(directory)
    return [write_private(directory / name, content) for name, content in rendered.files.items()]
