"""Certificates as the web shows them: limited to the user's agencies, revoked with a reason,
and verified for anyone from the issuer's keys and revocation list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import HTTPException
from sqlalchemy.orm import Session, sessionmaker

from onemind.certificates import issuer, listing
from onemind.certificates.files import revocations
from onemind.certificates.keys import jwks
from onemind.certificates.outbox import pushing_sources
from onemind.certificates.verify import Verdict, verify
from onemind.config.model import Settings
from onemind.errors import ConfigurationError
from onemind.store.models import Credential
from onemind.web.access import Principal

MAX_TOKEN = 64 * 1024


def listed(
    session: Session, me: Principal, agency: str | None, tier: str | None, state: str | None
) -> list[dict[str, Any]]:
    """The credentials the filters let through, of the user's agencies only."""
    if agency is not None and not me.sees(agency):
        raise HTTPException(404, f"No agency {agency!r}.")
    wanted = [agency] if agency is not None else (list(me.agencies) if me.scoped else [None])
    found: dict[str, dict[str, Any]] = {}
    for one in wanted:
        for row in listing.summaries(session, listing.Filters(state, one, None, tier)):
            found.setdefault(row["id"], row)
    return list(found.values())


def shown(session: Session, credential: Credential) -> dict[str, Any]:
    """A credential and its holder."""
    return listing.summary(session, credential)


def revoke(
    session: Session,
    settings: Settings,
    me: Principal,
    credential: Credential,
    reason: str,
    now: datetime,
) -> None:
    """Revoke (kept, marked, with the reason) and queue its withdrawal.

    Raises:
        ConfigurationError: certificates are not configured, it is already revoked or no
            reason is given.
    """
    listing.require_config(settings)
    if credential.status == "revoked":
        raise ConfigurationError(f"{credential.id} is already revoked")
    if not reason.strip():
        raise ConfigurationError("give a reason for the revocation")
    issuer.revoke(session, credential, reason.strip(), me.username, now, pushing_sources(settings))


def check(
    sessions: sessionmaker[Session], settings: Settings, token: str, now: datetime
) -> tuple[Verdict, dict[str, Any]]:
    """The verdict on a pasted credential, and what the issuer's records say of it."""
    token = "".join(token.split())
    if not token:
        return Verdict(failures=["nothing to check: paste a credential or choose its file"]), {}
    if settings.certificates is None:
        return Verdict(failures=["this site issues no credentials"]), {}
    with sessions() as session:
        listed_revocations = revocations(session, settings.certificates)
        verdict = verify(token, jwks(session), listed_revocations, now)
        facts: dict[str, Any] = {"issuer": settings.certificates.issuer_name}
        stored = session.get(Credential, verdict.credential_id) if verdict.credential_id else None
        if stored is not None:
            facts.update(
                valid_from=stored.valid_from.isoformat(),
                valid_until=stored.valid_until.isoformat() if stored.valid_until else None,
                status=stored.status,
                revoked_reason=stored.revoked_reason,
            )
    return verdict, facts
