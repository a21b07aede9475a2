"""The JSON API under /api/v1, for scripts: bearer tokens (`onemind users token`), the same
policies and agency scope as the pages, and OpenAPI docs at /api/v1/docs."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    Form,
    HTTPException,
    Query,
    Request,
    UploadFile,
)
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from onemind.mapping.catalogue import review_groups
from onemind.store.models import Agency, Attestation, Credential
from onemind.web import credentials, dashboard, evidence, operations, review
from onemind.web.access import (
    ATTEST,
    CERTIFICATES,
    MAPPING,
    REVIEW_ATTESTATIONS,
    REVOKE,
    RUNS,
    VIEW,
    Principal,
    db,
    scoped_agency,
    scoped_attestation,
    scoped_credential,
    visible_agencies,
)
from onemind.web.pages.agencies import AsOf, report_for
from onemind.web.pages.attestations import (
    after_commit,
    read_upload,
    record_from_form,
)
from onemind.web.pages.certificates import State, Tier
from onemind.web.pages.hub import dashboard_query

router = APIRouter(prefix="/api/v1", tags=["api"])
PUBLIC = {"/api/v1/verify"}


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class DecisionIn(BaseModel):
    """A decision on a queue title; no title approves every confident suggestion."""

    title: str | None = Field(default=None, max_length=500)
    category: str | None = Field(default=None, max_length=40)
    reason: str = Field(min_length=1, max_length=2000)
    dry_run: bool = True


class TokenIn(BaseModel):
    token: str = Field(max_length=credentials.MAX_TOKEN)


@router.get("/me")
def me_(me: Principal = Depends(VIEW)) -> dict[str, Any]:
    return {"username": me.username, "role": me.role, "agencies": list(me.agencies)}


@router.get("/agencies")
def agencies(
    query: dashboard.Query = Depends(dashboard_query),
    me: Principal = Depends(VIEW),
    session: Session = Depends(db),
) -> dict[str, Any]:
    found = dashboard.page(session, query, visible_agencies(me))
    return {
        "total": found.total,
        "page": found.page,
        "pages": found.pages,
        "counts": found.counts,
        "agencies": [r.to_json() for r in found.rows],
    }


@router.get("/agencies/{agency_id}")
def agency(
    request: Request,
    as_of: AsOf = None,
    me: Principal = Depends(VIEW),
    agency: Agency = Depends(scoped_agency),
    session: Session = Depends(db),
) -> dict[str, Any]:
    report = report_for(request, session, agency, as_of)
    return {
        **report.coverage.to_json(),
        "outlook": report.outlook,
        "evidence": {r.key: r.detail for r in report.requirements},
        "needs": [
            {"name": n.name, "employee_id": n.employee_id, "role": n.role, "needs": list(n.needs)}
            for n in report.needs
        ],
    }


@router.post("/agencies/{agency_id}/attestations", status_code=201)
async def attest(
    request: Request,
    kind: Annotated[str, Form(max_length=20)],
    attested_on: Annotated[date, Form()],
    tasks: BackgroundTasks,
    note: Annotated[str, Form(max_length=evidence.MAX_NOTE)] = "",
    file: UploadFile | None = None,
    me: Principal = Depends(ATTEST),
    agency: Agency = Depends(scoped_agency),
    session: Session = Depends(db),
) -> dict[str, Any]:
    upload = await read_upload(file)
    row = record_from_form(request, session, me, agency.id, (kind, attested_on, note), upload)
    after_commit(request, tasks)
    return {"id": row.id, "agency": agency.id, "kind": kind, "attested_on": str(attested_on)}


@router.post("/attestations/{attestation_id}/reject")
def reject(
    request: Request,
    body: Reason,
    tasks: BackgroundTasks,
    me: Principal = Depends(REVIEW_ATTESTATIONS),
    row: Attestation = Depends(scoped_attestation),
    session: Session = Depends(db),
) -> dict[str, Any]:
    state = request.app.state
    evidence.reject(session, state.settings, row, body.reason, me.username, state.now())
    after_commit(request, tasks)
    return {"id": row.id, "rejected": True}


@router.get("/runs")
def runs(
    request: Request, me: Principal = Depends(RUNS), session: Session = Depends(db)
) -> dict[str, Any]:
    state = request.app.state
    found = operations.overview(session, state.settings, state.now())
    return {
        "runs": [r.to_json() for r in found["runs"]],
        "failing": [
            {"source": h.source, "failing_nights": h.failing_nights, "last_error": h.last_error}
            for h in found["failing"]
        ],
        "locks": found["locks"],
    }


@router.get("/mapping/queue")
def queue(
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    me: Principal = Depends(MAPPING),
    session: Session = Depends(db),
) -> list[dict[str, Any]]:
    return [g.to_json() for g in review_groups(session, limit)]


@router.post("/mapping/decisions")
def decide(
    request: Request,
    body: DecisionIn,
    tasks: BackgroundTasks,
    me: Principal = Depends(MAPPING),
    session: Session = Depends(db),
) -> dict[str, Any]:
    """Decide a title (or bulk-approve); `dry_run` (the default) only shows the effect."""
    state = request.app.state
    if body.title is not None and body.category is None:
        raise HTTPException(400, "category: give one with the title (or not-qualifying)")
    decide_ = (
        review.suggested()
        if body.title is None
        else review.by_title(body.title, review.category_of(body.category or ""))
    )
    if body.dry_run:
        found = review.preview(
            state.sessions, state.settings, decide_, me.username, body.reason, state.now()
        )
    else:
        found = review.effect(
            session, state.settings, decide_, me.username, body.reason, state.now()
        )
        after_commit(request, tasks)
    return {**found.report.to_json(), "effect": found.sentence}


@router.get("/certificates")
def certificates(
    agency: Annotated[str | None, Query(max_length=64)] = None,
    tier: Annotated[Tier | None, Query()] = None,
    state: Annotated[State | None, Query()] = None,
    me: Principal = Depends(CERTIFICATES),
    session: Session = Depends(db),
) -> list[dict[str, Any]]:
    return credentials.listed(session, me, agency or None, tier, state)


@router.get("/certificates/{credential_id}")
def certificate(
    me: Principal = Depends(CERTIFICATES),
    credential: Credential = Depends(scoped_credential),
    session: Session = Depends(db),
) -> dict[str, Any]:
    return credentials.shown(session, credential)


@router.post("/certificates/{credential_id}/revoke")
def revoke(
    request: Request,
    body: Reason,
    tasks: BackgroundTasks,
    me: Principal = Depends(REVOKE),
    credential: Credential = Depends(scoped_credential),
    session: Session = Depends(db),
) -> dict[str, Any]:
    state = request.app.state
    credentials.revoke(session, state.settings, me, credential, body.reason, state.now())
    after_commit(request, tasks)
    return credentials.shown(session, credential)


@router.post("/verify")
def verify(request: Request, body: TokenIn) -> dict[str, Any]:
    """Anyone may verify a credential (no sign-in)."""
    state = request.app.state
    verdict, facts = credentials.check(state.sessions, state.settings, body.token, state.now())
    return {
        "ok": verdict.ok,
        "credential": verdict.credential_id,
        "checks": verdict.checks,
        "failures": verdict.failures,
        **facts,
    }
