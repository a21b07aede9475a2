"""Accounts, for admins: who may sign in with which role and agencies; add, disable and set a
new password. The same `web.accounts` functions as `onemind users`, audited with the admin."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.store.models import User
from onemind.web import accounts
from onemind.web.access import USERS, Principal, db
from onemind.web.templating import render

router = APIRouter()
Password = Annotated[str, Form(max_length=1000)]


def named_user(username: str, session: Session = Depends(db)) -> User:
    """The account in the path; 404 when there is none."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise HTTPException(404, f"No user {username!r}.")
    return user


def _page(
    request: Request, session: Session, error: str | None = None, given: Any = None
) -> Response:
    context = {
        "users": accounts.list_users(session),
        "roles": accounts.ROLES,
        "error": error,
        "given": given or {"username": "", "role": accounts.VIEWER, "agencies": ""},
        "min_password": accounts.MIN_PASSWORD,
    }
    return render(request, "users.html", context, 400 if error else 200)


@router.get("/users")
def users_page(
    request: Request, me: Principal = Depends(USERS), session: Session = Depends(db)
) -> Response:
    return _page(request, session)


@router.post("/users")
def add_user(
    request: Request,
    username: Annotated[str, Form(max_length=100)],
    role: Annotated[str, Form(max_length=20)],
    password: Password,
    agencies: Annotated[str, Form(max_length=5000)] = "",
    me: Principal = Depends(USERS),
    session: Session = Depends(db),
) -> Response:
    """A new account; a refused one shows the form again, filled, with every reason (checked
    before anything is written)."""
    wanted = [a for a in re.split(r"[\s,]+", agencies) if a]
    now = request.app.state.now()
    try:
        accounts.add_user(session, username, password, role, wanted, me.username, now)
    except accounts.AccountError as exc:
        given = {"username": username, "role": role, "agencies": agencies}
        return _page(request, session, f"The account was not added: {exc}.", given)
    return RedirectResponse(f"/users#user-{username.strip()}", 303)


@router.post("/users/{username}/disable")
def disable_user(
    request: Request,
    me: Principal = Depends(USERS),
    user: User = Depends(named_user),
    session: Session = Depends(db),
) -> Response:
    if user.id == me.id:
        raise HTTPException(400, "You cannot disable your own account: ask another admin.")
    accounts.disable(session, user.username, me.username, request.app.state.now())
    return RedirectResponse(f"/users#user-{user.username}", 303)


@router.post("/users/{username}/password")
def reset_password(
    request: Request,
    password: Password,
    me: Principal = Depends(USERS),
    user: User = Depends(named_user),
    session: Session = Depends(db),
) -> Response:
    """A new password the admin passes on; the user's sessions and sign-ins with the old
    one end."""
    now = request.app.state.now()
    try:
        accounts.set_password(session, user.username, password, me.username, now)
    except accounts.AccountError as exc:
        return _page(request, session, f"The password of {user.username} was not changed: {exc}.")
    return RedirectResponse(f"/users#user-{user.username}", 303)
