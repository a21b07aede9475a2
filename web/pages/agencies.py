"""An agency's page: the live report, its attestations, and the report as PDF and CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.reports.content import AgencyReport, agency_report
from onemind.reports.render import agency_chart, chart_svg, people_csv
from onemind.store.models import Agency, Attestation
from onemind.web.access import VIEW, Principal, db, scoped_agency
from onemind.web.templating import render

router = APIRouter()
AsOf = Annotated[date | None, Query(alias="as_of")]


def report_for(
    request: Request, session: Session, agency: Agency, as_of: date | None
) -> AgencyReport:
    """The agency's report as of the date (default today)."""
    now = request.app.state.now()
    return agency_report(session, request.app.state.settings, agency.id, as_of or now.date(), now)


def attestations(session: Session, agency_id: str) -> list[Attestation]:
    return list(
        session.scalars(
            select(Attestation)
            .where(Attestation.agency_id == agency_id)
            .order_by(Attestation.attested_on.desc(), Attestation.id.desc())
        )
    )


@router.get("/agencies/{agency_id}")
def agency_page(
    request: Request,
    as_of: AsOf = None,
    me: Principal = Depends(VIEW),
    agency: Agency = Depends(scoped_agency),
    session: Session = Depends(db),
) -> Response:
    report = report_for(request, session, agency, as_of)
    context = {
        "report": report,
        "c": report.coverage,
        "chart": chart_svg(agency_chart(report)),
        "attestations": attestations(session, agency.id),
        "people_shown": report.needs[:200],
        "may_attest": me.role in ("admin", "agency"),
        "may_reject": me.role == "admin",
    }
    return render(request, "agency.html", context)


@router.get("/agencies/{agency_id}/report.pdf")
def agency_pdf(
    request: Request,
    as_of: AsOf = None,
    me: Principal = Depends(VIEW),
    agency: Agency = Depends(scoped_agency),
    session: Session = Depends(db),
) -> Response:
    from onemind.reports.agency_pdf import agency_pdf

    report = report_for(request, session, agency, as_of)
    pdf = agency_pdf(report, agency_chart(report))
    return _download(pdf, "application/pdf", f"{agency.id}-{report.coverage.as_of}.pdf")


@router.get("/agencies/{agency_id}/people.csv")
def agency_csv(
    request: Request,
    as_of: AsOf = None,
    me: Principal = Depends(VIEW),
    agency: Agency = Depends(scoped_agency),
    session: Session = Depends(db),
) -> Response:
    report = report_for(request, session, agency, as_of)
    name = f"{agency.id}-{report.coverage.as_of}-needs.csv"
    return _download(people_csv(report).encode(), "text/csv; charset=utf-8", name)


def _download(content: bytes, kind: str, name: str) -> Response:
    safe = "".join(ch if ch.isalnum() or ch in "-._" else "_" for ch in name)
    headers = {
        "Content-Disposition": f'attachment; filename="{safe}"',
        "X-Content-Type-Options": "nosniff",
    }
    return Response(content, media_type=kind, headers=headers)
