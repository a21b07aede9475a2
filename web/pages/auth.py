"""Sign in and sign out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from onemind.store.audit import audit
from onemind.web.access import VIEW, Principal, csrf_checked, db, set_session
from onemind.web.accounts import SignInRefused, sign_in
from onemind.web.templating import render

router = APIRouter()
PUBLIC = {"/login"}


def _next(target: str) -> str:
    """Only a path on this site: never another host (`//evil`) or scheme."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": _next(next), "error": None, "username": ""})


@router.post("/login", dependencies=[Depends(csrf_checked)])
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=500)] = "/",
    session: Session = Depends(db),
) -> Response:
    address = request.client.host if request.client else "unknown"
    try:
        user = sign_in(session, username, password, address, request.app.state.now())
    except SignInRefused as exc:
        status = 429 if "Too many" in str(exc) else 401
        context = {"next": _next(next), "error": str(exc), "username": username}
        return render(request, "login.html", context, status)
    response = RedirectResponse(_next(next), 303)
    cookie = {"user": user.id, "version": user.session_version, "csrf": secrets.token_urlsafe(24)}
    set_session(request, response, cookie)
    return response


@router.post("/logout")
def logout(
    request: Request, me: Principal = Depends(VIEW), session: Session = Depends(db)
) -> Response:
    audit(session, request.app.state.now(), me.username, "user.sign-out", f"user {me.username}", {})
    response = RedirectResponse("/login", 303)
    set_session(request, response, {"csrf": secrets.token_urlsafe(24)})
    return response
