"""Who is asking and what they may see: one `Policy` dependency that every route declares.

A request is signed in by the session cookie (pages) or by a bearer token (scripts). A policy
names the roles it lets through; an agency user is further limited to their own agencies by
the scope dependencies (`SCOPES`), which answer 404 for every other agency, as if it did not exist.
State-changing requests made with the cookie must carry the session's CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import Depends, HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from onemind.certificates import listing
from onemind.errors import ConfigurationError
from onemind.store.models import Agency, Attestation, Credential, User
from onemind.web.accounts import ACADEMY, ADMIN, AGENCY, VIEWER, user_for_token

COOKIE = "onemind_session"
SESSION_HOURS = 12
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Principal:
    """The signed-in user as a request sees them."""

    id: int
    username: str
    role: str
    agencies: tuple[str, ...]
    csrf: str = ""

    @property
    def scoped(self) -> bool:
        """Limited to their own agencies."""
        return self.role == AGENCY

    def sees(self, agency_id: str | None) -> bool:
        return not self.scoped or agency_id in self.agencies


class SignInNeeded(Exception):
    """No valid session or token: a page sends the browser to sign in, the API answers 401."""


def db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    with request.app.state.sessions() as session, session.begin():
        yield session


def now(request: Request) -> datetime:
    return request.app.state.now()


def serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret, salt="onemind-session")


def read_cookie(request: Request) -> dict[str, Any]:
    """The session cookie's content, or {} when it is missing, forged or too old."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return {}
    try:
        found = serializer(request).loads(raw, max_age=SESSION_HOURS * 3600)
    except BadSignature:
        return {}
    return found if isinstance(found, dict) else {}


def csrf_token(request: Request) -> str:
    """The token forms must send back: the session's, or a fresh one for a visitor."""
    token = read_cookie(request).get("csrf")
    if not token:
        token = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return str(token)


async def csrf_checked(request: Request) -> None:
    """Refuse a state-changing request made with the session cookie unless it carries the
    session's CSRF token (form field `csrf` or header `X-CSRF-Token`)."""
    if request.method in SAFE_METHODS or _bearer(request) is not None:
        return
    expected = read_cookie(request).get("csrf")
    given = request.headers.get("x-csrf-token")
    if given is None and _is_form(request):
        given = (await request.form()).get("csrf")
    if not expected or not isinstance(given, str) or not hmac.compare_digest(expected, given):
        raise HTTPException(
            403,
            "The form has expired or did not come from this site: reload the page and try again.",
        )


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def signed_in(request: Request, session: Session) -> Principal | None:
    """The user of the bearer token or of the session cookie, if still valid."""
    token = _bearer(request)
    if token is not None:
        user = user_for_token(session, token, request.app.state.now())
        return None if user is None else _principal(user, "")
    cookie = read_cookie(request)
    if "user" not in cookie:
        return None
    user = session.get(User, cookie["user"])
    if user is None or not user.active or user.session_version != cookie.get("version"):
        return None
    return _principal(user, str(cookie.get("csrf", "")))


def _principal(user: User, csrf: str) -> Principal:
    return Principal(user.id, user.username, user.role, tuple(user.agencies or ()), csrf)


@dataclass(frozen=True)
class Policy:
    """A route's access rule: who may call it. Every route but the public ones declares one,
    and the route-table test checks that they do."""

    name: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def __call__(
        self,
        request: Request,
        session: Session = Depends(db),
        _csrf: None = Depends(csrf_checked),
    ) -> Principal:
        principal = signed_in(request, session)
        if principal is None:
            raise SignInNeeded()
        if principal.role not in self.roles:
            raise HTTPException(403, f"Your role ({principal.role}) may not do this.")
        request.state.principal = principal
        return principal


def policy(name: str, *roles: str) -> Policy:
    return Policy(name, frozenset(roles))


EVERYONE = (ADMIN, ACADEMY, AGENCY, VIEWER)
VIEW = policy("view", *EVERYONE)
ATTEST = policy("attest", ADMIN, AGENCY)
REVIEW_ATTESTATIONS = policy("review attestations", ADMIN)
RUNS = policy("runs", ADMIN, ACADEMY)
MAPPING = policy("mapping", ADMIN, ACADEMY)
CERTIFICATES = policy("certificates", ADMIN, ACADEMY, AGENCY)
REVOKE = policy("revoke", ADMIN, ACADEMY)
USERS = policy("users", ADMIN)


def principal(request: Request) -> Principal:
    """The user the route's policy let in (the policy is declared before any scope check)."""
    found = getattr(request.state, "principal", None)
    if not isinstance(found, Principal):
        raise RuntimeError("a scope check ran before the route's policy")
    return found


def scoped_agency(request: Request, agency_id: str, session: Session = Depends(db)) -> Agency:
    """The agency in the path, when it exists and the user may see it; else 404 (never 403: an
    agency user learns nothing about other agencies, not even that they exist)."""
    agency = session.get(Agency, agency_id) if principal(request).sees(agency_id) else None
    if agency is None:
        raise HTTPException(404, f"No agency {agency_id!r}.")
    return agency


def scoped_attestation(
    request: Request, attestation_id: int, session: Session = Depends(db)
) -> Attestation:
    """The attestation in the path, when the user may see its agency; else 404."""
    row = session.get(Attestation, attestation_id)
    if row is None or not principal(request).sees(row.agency_id):
        raise HTTPException(404, f"No attestation {attestation_id}.")
    return row


def scoped_credential(
    request: Request, credential_id: str, session: Session = Depends(db)
) -> Credential:
    """The credential in the path, when the user may see one of its holder's agencies; else 404."""
    try:
        credential: Credential | None = listing.find(session, credential_id)
    except ConfigurationError:
        credential = None
    me = principal(request)
    if credential is not None and me.scoped:
        agencies = listing.summary(session, credential)["agencies"]
        credential = credential if set(agencies) & set(me.agencies) else None
    if credential is None:
        raise HTTPException(404, f"No credential {credential_id!r}.")
    return credential


SCOPES = {
    "agency_id": scoped_agency,
    "attestation_id": scoped_attestation,
    "credential_id": scoped_credential,
}
"""Each path parameter that names something of one agency, and the dependency that checks it
(the route-table test requires it on every route with such a parameter)."""


def visible_agencies(principal: Principal) -> Any:
    """A WHERE clause limiting agencies to those the user may see (None: all)."""
    return Agency.id.in_(principal.agencies) if principal.scoped else None


def set_session(request: Request, response: Response, content: dict[str, object]) -> None:
    """Write the signed session cookie: HttpOnly, SameSite=Lax, Secure over https."""
    response.set_cookie(
        COOKIE,
        serializer(request).dumps(content),
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
