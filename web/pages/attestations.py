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
from onemind.store.models import Agency, Attestation
from onemind.web import evidence
from onemind.web.access import (
    ATTEST,
    REVIEW_ATTESTATIONS,
    VIEW,
    Principal,
    db,
    scoped_agency,
    scoped_attestation,
)

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
    kind: Annotated[str, Form(max_length=20)],
    attested_on: Annotated[date, Form()],
    tasks: BackgroundTasks,
    note: Annotated[str, Form(max_length=evidence.MAX_NOTE)] = "",
    file: UploadFile | None = None,
    me: Principal = Depends(ATTEST),
    agency: Agency = Depends(scoped_agency),
    session: Session = Depends(db),
) -> Response:
    upload = await read_upload(file)
    record_from_form(request, session, me, agency.id, (kind, attested_on, note), upload)
    after_commit(request, tasks)
    return RedirectResponse(f"/agencies/{agency.id}#attestations", 303)


@router.get("/attestations/{attestation_id}/evidence")
def evidence_file(
    request: Request,
    me: Principal = Depends(VIEW),
    row: Attestation = Depends(scoped_attestation),
) -> Response:
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
    reason: Annotated[str, Form(max_length=evidence.MAX_NOTE)],
    tasks: BackgroundTasks,
    me: Principal = Depends(REVIEW_ATTESTATIONS),
    row: Attestation = Depends(scoped_attestation),
    session: Session = Depends(db),
) -> Response:
    state = request.app.state
    evidence.reject(session, state.settings, row, reason, me.username, state.now())
    after_commit(request, tasks)
    return RedirectResponse(f"/agencies/{row.agency_id}#attestations", 303)
