"""Certificates: list with filters, show, revoke with a reason; and the public verify page."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Query, Request, Response, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from onemind.store.models import Credential
from onemind.web import credentials
from onemind.web.access import CERTIFICATES, REVOKE, Principal, db, scoped_credential
from onemind.web.pages.attestations import after_commit
from onemind.web.templating import render

router = APIRouter()
PUBLIC = {"/verify"}
Tier = Literal["crisis", "mh"]
State = Literal["active", "revoked", "expired"]


@router.get("/certificates")
def list_page(
    request: Request,
    agency: Annotated[str | None, Query(max_length=64)] = None,
    tier: Annotated[Tier | None, Query()] = None,
    state: Annotated[State | None, Query()] = None,
    me: Principal = Depends(CERTIFICATES),
    session: Session = Depends(db),
) -> Response:
    found = credentials.listed(session, me, agency or None, tier, state)
    context = {"credentials": found, "agency": agency or "", "tier": tier, "state": state}
    return render(request, "certificates.html", context)


@router.get("/certificates/{credential_id}")
def show_page(
    request: Request,
    me: Principal = Depends(CERTIFICATES),
    credential: Credential = Depends(scoped_credential),
    session: Session = Depends(db),
) -> Response:
    shown = credentials.shown(session, credential)
    return render(request, "certificate.html", {"c": shown, "may_revoke": me.role != "agency"})


@router.post("/certificates/{credential_id}/revoke")
def revoke(
    request: Request,
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    tasks: BackgroundTasks,
    me: Principal = Depends(REVOKE),
    credential: Credential = Depends(scoped_credential),
    session: Session = Depends(db),
) -> Response:
    state = request.app.state
    credentials.revoke(session, state.settings, me, credential, reason, state.now())
    after_commit(request, tasks)
    return RedirectResponse(f"/certificates/{credential.id}", 303)


@router.get("/verify")
def verify_form(request: Request) -> Response:
    return render(request, "verify.html", {"verdict": None, "facts": {}})


async def _given(token: str, file: UploadFile | None) -> str:
    if file is not None and file.filename:
        content = await file.read(credentials.MAX_TOKEN + 1)
        return content.decode("utf-8", errors="replace")
    return token


@router.post("/verify")
async def verify(
    request: Request,
    token: Annotated[str, Form(max_length=credentials.MAX_TOKEN)] = "",
    file: UploadFile | None = None,
) -> Response:
    """Anyone may check a credential: pasted, or uploaded as its .jwt file."""
    given = await _given(token, file)
    state = request.app.state
    verdict, facts = credentials.check(state.sessions, state.settings, given, state.now())
    status = 200 if verdict.ok else 422
    context: dict[str, Any] = {"verdict": verdict, "facts": facts}
    return render(request, "verify.html", context, status)
