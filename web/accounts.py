"""Web accounts: argon2 passwords, roles, API tokens and throttled sign-in, kept in the store.

The CLI (`onemind users …`) and the web app's sign-in both go through these functions, and every
change is written to the audit log with who made it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onemind.errors import ConfigurationError
from onemind.store.audit import audit
from onemind.store.models import Agency, ApiToken, LoginAttempt, User, WebSecret
from onemind.store.upsert import insert_for

ADMIN, ACADEMY, AGENCY, VIEWER = "admin", "academy", "agency", "viewer"
ROLES = (ADMIN, ACADEMY, AGENCY, VIEWER)
MIN_PASSWORD = 10
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20
TOKEN_PREFIX = "om_"

_HASHER = PasswordHasher()
# verified against when the user does not exist, so a wrong name costs as long as a wrong password
_DUMMY_HASH = _HASHER.hash("not a password anyone has")


class AccountError(ConfigurationError):
    """An account change that cannot be made as asked."""


class SignInRefused(Exception):
    """Sign-in failed; the message is safe to show (it never says which part was wrong)."""


def add_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    agencies: Sequence[str],
    actor: str,
    now: datetime,
) -> User:
    """A new active account.

    Raises:
        AccountError: the name is taken or malformed, the role unknown, the password too short,
            an agency unknown, or an agency user is given no agency.
    """
    username = username.strip()
    problems = _problems(session, username, password, role, agencies)
    if problems:
        raise AccountError("; ".join(problems))
    user = User(
        username=username,
        password_hash=_HASHER.hash(password),
        role=role,
        agencies=sorted(set(agencies)) if role == AGENCY else [],
        active=True,
        session_version=1,
        created_at=now,
    )
    session.add(user)
    session.flush()
    details = {"role": role, "agencies": user.agencies}
    audit(session, now, actor, "user.add", f"user {username}", details)
    return user


def _problems(
    session: Session, username: str, password: str, role: str, agencies: Sequence[str]
) -> list[str]:
    found = []
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        found.append(f"username {username!r}: 1 to 100 characters, no spaces")
    elif session.scalar(select(User.id).where(User.username == username)) is not None:
        found.append(f"username {username!r} is taken")
    if role not in ROLES:
        found.append(f"role {role!r}: one of {', '.join(ROLES)}")
    found += password_problems(password)
    if role == AGENCY and not agencies:
        found.append("an agency user needs at least one --agency")
    if role != AGENCY and agencies:
        found.append(f"only agency users are limited to agencies (role {role})")
    known = set(session.scalars(select(Agency.id).where(Agency.id.in_(list(agencies)))))
    unknown = sorted(set(agencies) - known)
    if unknown:
        found.append(f"unknown agency {', '.join(unknown)}")
    return found


def password_problems(password: str) -> list[str]:
    if len(password) < MIN_PASSWORD:
        return [f"the password needs at least {MIN_PASSWORD} characters"]
    return []


def find_user(session: Session, username: str) -> User:
    """Raises:
    AccountError: no such user."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}")
    return user


def set_password(session: Session, username: str, password: str, actor: str, now: datetime) -> None:
    """A new password; the user's open sessions end.

    Raises:
        AccountError: no such user, or the password is too short.
    """
    problems = password_problems(password)
    if problems:
        raise AccountError("; ".join(problems))
    user = find_user(session, username)
    user.password_hash = _HASHER.hash(password)
    user.session_version += 1
    audit(session, now, actor, "user.set-password", f"user {username}", {})


def disable(session: Session, username: str, actor: str, now: datetime) -> None:
    """The user can no longer sign in; their sessions and tokens stop working."""
    user = find_user(session, username)
    user.active = False
    user.session_version += 1
    audit(session, now, actor, "user.disable", f"user {username}", {})


def new_token(session: Session, username: str, name: str, actor: str, now: datetime) -> str:
    """A new API token for the user, shown once: only its hash is kept."""
    user = find_user(session, username)
    if not user.active:
        raise AccountError(f"user {username!r} is disabled")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_digest(token), created_at=now))
    audit(session, now, actor, "user.token", f"user {username}", {"name": name})
    return token


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    """The active user a bearer token belongs to, if any."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = now
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(session: Session, username: str, password: str, address: str, now: datetime) -> User:
    """The user whose password this is, unless too many recent attempts failed.

    Raises:
        SignInRefused: wrong name or password, a disabled account, or throttled.
    """
    since = now - THROTTLE_WINDOW
    if _failures(session, LoginAttempt.username == username, since) >= MAX_FAILURES_PER_USER or (
        _failures(session, LoginAttempt.address == address, since) >= MAX_FAILURES_PER_ADDRESS
    ):
        raise SignInRefused("Too many failed sign-ins: wait 15 minutes and try again.")
    user = session.scalar(select(User).where(User.username == username))
    ok = _password_holds(user.password_hash if user else _DUMMY_HASH, password)
    ok = ok and user is not None and user.active
    session.add(LoginAttempt(username=username[:100], address=address[:64], at=now, succeeded=ok))
    if not ok or user is None:
        raise SignInRefused("Wrong username or password.")
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    audit(session, now, username, "user.sign-in", f"user {username}", {"address": address})
    return user


def _password_holds(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _failures(session: Session, who: object, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count(LoginAttempt.id)).where(
                who, LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False)
            )
        )
        or 0
    )


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def secret_key(session: Session) -> str:
    """The key that signs session cookies: made on first use and kept in the store, so that
    every worker and every restart accepts the same cookies. Inserted only if absent, then read
    back: of two processes starting at once, the second waits for the first and takes its key."""
    statement = insert_for(session, WebSecret.__table__).values(
        id=1, value=secrets.token_urlsafe(48)
    )
    session.execute(statement.on_conflict_do_nothing(index_elements=["id"]))
    return session.execute(select(WebSecret.value).where(WebSecret.id == 1)).scalar_one()
