"""Credentials as staff look them up: by id, or listed by holder, agency, tier and state with
their push-back state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from onemind.certificates import issuer
from onemind.config.model import CertificatesConfig, Settings
from onemind.config.names import unknown_names
from onemind.errors import ConfigurationError
from onemind.store.explain import find_person
from onemind.store.models import Agency, Credential, CredentialPush, Employment, Person, Source

NOT_CONFIGURED = (
    "certificates are not configured: add a [certificates] section to the configuration "
    '(issuer_id, issuer_name, key_passphrase = "env:…"; see the README, Certificates), '
    "then `onemind sync` issues them"
)


def require_config(settings: Settings) -> CertificatesConfig:
    """The [certificates] section.

    Raises:
        ConfigurationError: certificates are not configured.
    """
    if settings.certificates is None:
        raise ConfigurationError(NOT_CONFIGURED)
    return settings.certificates


@dataclass(frozen=True)
class Filters:
    """Which credentials staff ask for; None means any."""

    state: str | None = None
    agency: str | None = None
    person: str | None = None
    tier: str | None = None


def summaries(session: Session, filters: Filters = Filters()) -> list[dict[str, Any]]:
    """The credentials `filters` lets through, by issue date, then holder name.

    Raises:
        ConfigurationError: the agency or the person asked for is not in the store.
    """
    query = select(Credential)
    if filters.state:
        query = query.where(Credential.status == filters.state)
    if filters.tier:
        query = query.where(Credential.tier == filters.tier)
    if filters.agency:
        query = query.where(_of_agency(session, filters.agency))
    if filters.person:
        query = query.where(Credential.person_id == find_person(session, filters.person).id)
    found = [(c, _holder(session, c)) for c in session.scalars(query)]
    found.sort(key=lambda pair: (pair[0].issued_at.date(), pair[1].sort_name, pair[0].id))
    return [summary(session, credential, holder) for credential, holder in found]


def _of_agency(session: Session, agency: str) -> ColumnElement[bool]:
    known = list(session.scalars(select(Agency.id)))
    if agency not in known:
        raise ConfigurationError(unknown_names("agency", [agency], known, "in the store"))
    staff = select(Employment.person_id).where(Employment.agency_id == agency)
    return or_(Credential.agency_id == agency, Credential.person_id.in_(staff))


def summary(
    session: Session, credential: Credential, holder: Holder | None = None
) -> dict[str, Any]:
    """A credential's holder as staff know them, its state and its pushes to the sources."""
    holder = holder or _holder(session, credential)
    pushes = session.execute(
        select(
            Source.name,
            CredentialPush.action,
            CredentialPush.status,
            CredentialPush.attempts,
            CredentialPush.last_error,
        )
        .join(Source, Source.id == CredentialPush.source_id)
        .where(CredentialPush.credential_id == credential.id)
    )
    return {
        "id": credential.id,
        "kind": credential.kind,
        "holder": credential.person_id
        if credential.kind == issuer.PERSON
        else credential.agency_id,
        "name": holder.name,
        "agencies": holder.agencies,
        "tier": credential.tier,
        "category": credential.category_id,
        "valid_from": credential.valid_from.isoformat(),
        "valid_until": credential.valid_until.isoformat() if credential.valid_until else None,
        "issued_at": credential.issued_at.isoformat(),
        "status": credential.status,
        "revoked_reason": credential.revoked_reason,
        "pushes": [
            {"source": s, "action": a, "status": st, "attempts": n, "error": e}
            for s, a, st, n, e in pushes
        ],
    }


@dataclass(frozen=True)
class Holder:
    """Whom staff know a credential's holder as; never put in the credential itself."""

    name: str
    agencies: list[str]
    sort_name: str


def _holder(session: Session, credential: Credential) -> Holder:
    if credential.person_id is None:
        agency = session.get(Agency, credential.agency_id) if credential.agency_id else None
        name = agency.name if agency else ""
        return Holder(name, [a for a in [credential.agency_id] if a], name.lower())
    person = session.get_one(Person, credential.person_id)
    agencies = session.scalars(
        select(Employment.agency_id)
        .where(Employment.person_id == person.id)
        .order_by(Employment.hired_on.desc())
    )
    return Holder(
        f"{person.first_name} {person.last_name}",
        list(dict.fromkeys(agencies)),
        f"{person.last_name} {person.first_name}".lower(),
    )


def find(session: Session, credential_id: str) -> Credential:
    """The credential with this id, with or without its `urn:uuid:` prefix.

    Raises:
        ConfigurationError: there is none.
    """
    candidates = [credential_id, f"urn:uuid:{credential_id}"]
    found = session.scalar(select(Credential).where(Credential.id.in_(candidates)))
    if found is None:
        raise ConfigurationError(f"no credential {credential_id!r}")
    return found
