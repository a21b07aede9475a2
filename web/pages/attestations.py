"""Recording partnership and policy attestations, their evidence files, and rejecting them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    Form,
    HTTPException,
    Request,
    Response,
    UploadFile,
)
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy.orm import Session

from onemind.pipeline.recompute import deliver_pushes
from onemind.store.models import Attestation
from onemind.web import evidence
from onemind.web.access import ATTEST, REVIEW_ATTESTATIONS, VIEW, Principal, agency_in_scope, db

router = APIRouter()


async def read_upload(file: UploadFile | None) -> evidence.Upload | None:
    """The uploaded file, read no further than the size limit allows."""
    if file is None or not file.filename:
        return None
    content = await file.read(evidence.MAX_BYTES + 1)
    if len(content) > evidence.MAX_BYTES:
        raise HTTPException(413, f"The evidence file is larger than {evidence.MAX_BYTES >> 20} MB.")
    return evidence.Upload(file.filename, content)


def after_commit(request: Request, tasks: BackgroundTasks) -> None:
    """Credential pushes a recomputation queued go out once the transaction has committed."""
    state = request.app.state
    tasks.add_task(deliver_pushes, state.sessions, state.settings, state.now)


def record_from_form(
    request: Request,
    session: Session,
    me: Principal,
    agency_id: str,
    fields: tuple[str, date, str],
    upload: evidence.Upload | None,
) -> Attestation:
    agency_in_scope(session, me, agency_id)
    kind, attested_on, note = fields
    state = request.app.state
    return evidence.record(
        session,
        state.settings,
        state.evidence,
        agency_id,
        kind,
        attested_on,
        note,
        upload,
        me.username,
        state.now(),
    )


@router.post("/agencies/{agency_id}/attestations")
async def record_attestation(
    request: Request,
    agency_id: str,
    kind: Annotated[str, Form(max_length=20)],
    attested_on: Annotated[date, Form()],
    tasks: BackgroundTasks,
    note: Annotated[str, Form(max_length=evidence.MAX_NOTE)] = "",
    file: UploadFile | None = None,
    me: Principal = Depends(ATTEST),
    session: Session = Depends(db),
) -> Response:
    upload = await read_upload(file)
    record_from_form(request, session, me, agency_id, (kind, attested_on, note), upload)
    after_commit(request, tasks)
    return RedirectResponse(f"/agencies/{agency_id}#attestations", 303)


def attestation_in_scope(session: Session, me: Principal, attestation_id: int) -> Attestation:
    """The attestation, when the user may see its agency (else 404)."""
    row = session.get(Attestation, attestation_id)
    if row is None or not me.sees(row.agency_id):
        raise HTTPException(404, f"No attestation {attestation_id}.")
    return row


@router.get("/attestations/{attestation_id}/evidence")
def evidence_file(
    request: Request,
    attestation_id: int,
    me: Principal = Depends(VIEW),
    session: Session = Depends(db),
) -> Response:
    row = attestation_in_scope(session, me, attestation_id)
    path = evidence.evidence_path(request.app.state.evidence, row)
    if path is None or row.evidence_type is None:
        raise HTTPException(404, "This attestation has no evidence file.")
    return FileResponse(
        path,
        media_type=row.evidence_type,
        filename=row.evidence_name or path.name,
        content_disposition_type="attachment",
        headers={"X-Content-Type-Options": "nosniff"},
    )


@router.post("/attestations/{attestation_id}/reject")
def reject_attestation(
    request: Request,
    attestation_id: int,
    reason: Annotated[str, Form(max_length=evidence.MAX_NOTE)],
    tasks: BackgroundTasks,
    me: Principal = Depends(REVIEW_ATTESTATIONS),
    session: Session = Depends(db),
) -> Response:
    row = attestation_in_scope(session, me, attestation_id)
    state = request.app.state
    evidence.reject(session, state.settings, row, reason, me.username, state.now())
    after_commit(request, tasks)
    return RedirectResponse(f"/agencies/{row.agency_id}#attestations", 303)
