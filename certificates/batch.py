"""Person credentials issued in bulk: a few queries per batch, one signing pass, bulk inserts.

The first issuance for a large hub signs hundreds of thousands of credentials; one query, one
flush and one library call per credential would cost more than the signatures themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from onemind.certificates import documents
from onemind.certificates.keys import Signer
from onemind.certificates.outbox import enqueue
from onemind.config.model import CertificatesConfig
from onemind.domain.categories import CRISIS
from onemind.store.audit import audit_many
from onemind.store.bulk import BulkInsert, among
from onemind.store.models import Completion, Credential, Employment, Person, RawRecord, Source

PERSON = "person"
SYSTEM = "onemind"
TIER_NAMES = {
    CRISIS: "Crisis intervention (CIT, CRIT or equivalent)",
    "mh": "Mental health training (MHFA or equivalent)",
}
CHUNK = 1000
COLUMNS = (
    *("id", "person_id", "tier", "category_id", "completion_id", "rule_id"),
    *("valid_from", "valid_until", "jwt"),
)
FIXED = ("kind", "agency_id", "issued_at", "kid", "status")


def issue_people(
    session: Session,
    config: CertificatesConfig,
    key: Signer,
    found: Sequence[tuple[int, str, Any]],
    now: datetime,
    pushing: Collection[str] = (),
) -> list[str]:
    """Issue one credential per (person, tier, best completion row); returns their ids."""
    if not found:
        return []
    emails, employees = _identities(session, sorted({person for person, _, _ in found}))
    places = _places(session, [row.id for _, _, row in found])
    values, payloads = [], []
    for person_id, tier, row in found:
        email = emails.get(person_id)
        identity = (
            documents.hashed_identity(email, "emailAddress")
            if email
            else documents.hashed_identity(
                employees.get(person_id) or str(person_id), "identifier", key.pepper
            )
        )
        subject = {"identifier": [identity]}
        value, payload = _credential(config, key, person_id, tier, row, now, subject, places)
        values.append(value)
        payloads.append(payload)
    for value, token in zip(values, key.sign_many(payloads), strict=True):
        value["jwt"] = token
    connection = session.connection()
    rows = [[value[name] for name in COLUMNS] for value in values]
    fixed = {name: values[0][name] for name in FIXED}
    _insert(connection.dialect).execute(connection, rows, fixed)
    audit_many(session, now, SYSTEM, "certificate.issue", [_audit(value) for value in values])
    if pushing:
        for value in values:
            enqueue(session, Credential(**value), "issue", now, pushing)
    return [value["id"] for value in values]


@cache
def _insert(dialect: Dialect) -> BulkInsert:
    """Person credentials' insert (COPY on PostgreSQL): all of a call's share its FIXED values."""
    return BulkInsert(Credential.__table__, COLUMNS, dialect, fixed=FIXED)


def _credential(
    config: CertificatesConfig,
    key: Signer,
    person_id: int,
    tier: str,
    row: Any,
    now: datetime,
    subject: dict[str, Any],
    places: dict[int, tuple[str, str]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The credential's row (without its token) and the document to sign."""
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    award = documents.achievement(
        config, row.category_id, row.label, f"Completed training recognised as {row.label}."
    )
    location, source = places[row.id]
    evidence = [
        {
            "type": ["Evidence"],
            "name": "Training record",
            "description": f"{source} {location}, completed {row.completed_on.isoformat()}; "
            f"classified {row.category_id} by mapping rule #{row.rule_id} "
            f"(version {row.rule_version})",
        }
    ]
    payload = documents.credential(
        config,
        credential_id,
        TIER_NAMES[tier],
        subject,
        award,
        evidence,
        row.completed_on,
        row.valid_until,
        now,
    )
    value = {
        "id": credential_id,
        "kind": PERSON,
        "person_id": person_id,
        "agency_id": None,
        "tier": tier,
        "category_id": row.category_id,
        "completion_id": row.id,
        "rule_id": row.rule_id,
        "valid_from": row.completed_on,
        "valid_until": row.valid_until,
        "issued_at": now,
        "kid": key.kid,
        "status": "active",
    }
    return value, payload


def _audit(value: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    details = {
        "kind": value["kind"],
        "tier": value["tier"],
        "agency": value["agency_id"],
        "category": value["category_id"],
    }
    return value["id"], details


def _identities(
    session: Session, people: list[int]
) -> tuple[dict[int, str], dict[int, str | None]]:
    """Each person's email, and for those without one, an employee id: what identifies them
    in their credential (see `documents.hashed_identity`)."""
    dialect = session.get_bind().dialect
    emails: dict[int, str] = {}
    for part in _chunks(people):
        rows = session.execute(
            select(Person.id, Person.email).where(among(dialect, Person.id, part))
        )
        emails.update({person: email for person, email in rows if email})
    missing = [person for person in people if person not in emails]
    employees: dict[int, str | None] = {}
    for part in _chunks(missing):
        rows = session.execute(
            select(Employment.person_id, func.min(Employment.employee_id))
            .where(among(dialect, Employment.person_id, part))
            .group_by(Employment.person_id)
        )
        employees.update({person: employee for person, employee in rows})
    return emails, employees


def _places(session: Session, completions: list[int]) -> dict[int, tuple[str, str]]:
    """Where each completion's record came from: (location, source name)."""
    dialect = session.get_bind().dialect
    places: dict[int, tuple[str, str]] = {}
    for part in _chunks(sorted(set(completions))):
        rows = session.execute(
            select(Completion.id, RawRecord.location, Source.name)
            .join(RawRecord, Completion.raw_record_id == RawRecord.id)
            .join(Source, Source.id == RawRecord.source_id)
            .where(among(dialect, Completion.id, part))
        )
        places.update({completion: (location, source) for completion, location, source in rows})
    return places


def _chunks(items: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
