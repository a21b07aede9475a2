"""Roster rows → people and employments: identity by (agency, employee id), then email."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from onemind.domain.records import RosterEntry
from onemind.store.models import Employment, Person, PersonIdentifier
from onemind.store.upsert import chunks

log = logging.getLogger(__name__)

EMAIL = "email"
MBOX_SHA1 = "mbox_sha1sum"


def position_key(position: str) -> str:
    """Lower-case words joined by '-', wrapped in '-' so whole words can be matched by LIKE."""
    words = re.findall(r"[a-z0-9]+", position.lower())
    return "-" + "-".join(words) + "-" if words else ""


def mbox_sha1sum(email: str) -> str:
    """The xAPI `mbox_sha1sum` of an address: SHA-1 of 'mailto:' + the address."""
    return hashlib.sha1(f"mailto:{email}".encode()).hexdigest()


def apply_roster(
    session: Session, entries: Sequence[RosterEntry], raw_ids: dict[str, int], source_id: int
) -> None:
    """Create or update each entry's employment and person; a lateral hire keeps their person."""
    employments = _employments(session, entries)
    people_by_email = _people_by_email(session, entries)
    for entry in entries:
        email = entry.email.strip().lower() if entry.email else None
        employment = employments.get((entry.agency, entry.employee_id))
        if employment is not None:
            person = session.get_one(Person, employment.person_id)
        elif email is not None and email in people_by_email:
            person = people_by_email[email]
        else:
            person = Person(first_name=entry.first_name, last_name=entry.last_name)
            session.add(person)
            session.flush()
        person.first_name, person.last_name = entry.first_name, entry.last_name
        if email is not None and person.email != email:
            _claim_email(session, person, email, source_id)
        if email is not None:
            people_by_email[email] = person
        if employment is None:
            employment = Employment(
                person_id=person.id, agency_id=entry.agency, employee_id=entry.employee_id
            )
            session.add(employment)
            employments[(entry.agency, entry.employee_id)] = employment
        _update_employment(employment, entry, raw_ids[entry.external_id])
    session.flush()


def _update_employment(employment: Employment, entry: RosterEntry, raw_id: int) -> None:
    employment.sworn = entry.sworn
    employment.position = entry.position
    employment.position_key = position_key(entry.position)
    employment.selected = entry.selected
    employment.hired_on = entry.hired_on
    employment.separated_on = entry.separated_on
    employment.raw_record_id = raw_id


def _employments(
    session: Session, entries: Sequence[RosterEntry]
) -> dict[tuple[str, str], Employment]:
    keys = list({(e.agency, e.employee_id) for e in entries})
    found: dict[tuple[str, str], Employment] = {}
    for part in chunks(keys, 400):
        rows = session.scalars(
            select(Employment).where(tuple_(Employment.agency_id, Employment.employee_id).in_(part))
        )
        found.update({(e.agency_id, e.employee_id): e for e in rows})
    return found


def _people_by_email(session: Session, entries: Sequence[RosterEntry]) -> dict[str, Person]:
    emails = list({e.email.strip().lower() for e in entries if e.email})
    found: dict[str, Person] = {}
    for part in chunks(emails):
        rows = session.execute(
            select(PersonIdentifier.value, Person)
            .join(Person, Person.id == PersonIdentifier.person_id)
            .where(PersonIdentifier.kind == EMAIL, PersonIdentifier.value.in_(part))
        )
        found.update({value: person for value, person in rows})
    return found


def _claim_email(session: Session, person: Person, email: str, source_id: int) -> None:
    """Record the person's address and its xAPI hash, unless another person already has it."""
    owner = session.scalar(
        select(PersonIdentifier.person_id).where(
            PersonIdentifier.kind == EMAIL, PersonIdentifier.value == email
        )
    )
    if owner is not None and owner != person.id:
        log.warning(
            "email of person %s is already person %s's; not linked by email", person.id, owner
        )
        return
    person.email = email
    for kind, value in ((EMAIL, email), (MBOX_SHA1, mbox_sha1sum(email))):
        if owner is None:
            session.add(
                PersonIdentifier(person_id=person.id, kind=kind, value=value, source_id=source_id)
            )
    session.flush()
