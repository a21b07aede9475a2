"""Set-based identity resolution and voiding, safe to run after every load."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from onemind.store.models import Completion, Employment, PersonIdentifier, RawRecord, Voiding
from onemind.store.roster import EMAIL, MBOX_SHA1

ACCOUNT = "account"


def link_completions(session: Session) -> None:
    """Attach unlinked completions to people by the rules of `person_of`, one key at a time."""
    passes = (
        (Completion.employee_id, employee_person(Completion.employee_id, Completion.agency_hint)),
        *(
            (column, identifier_person(kind, column))
            for kind, column in (
                (EMAIL, Completion.email),
                (MBOX_SHA1, Completion.mbox_sha1sum),
                (ACCOUNT, Completion.account),
            )
        ),
    )
    for key, person in passes:
        _link(session, key, person)


def person_of(
    employee_id: ColumnElement[Any],
    agency_hint: ColumnElement[Any],
    email: ColumnElement[Any],
    mbox_sha1sum: ColumnElement[Any],
    account: ColumnElement[Any],
) -> ColumnElement[Any]:
    """The person a completion names, or NULL: employee id, then email, mbox hash, account.
    Each lookup runs only for a key the completion has (most have one)."""
    return func.coalesce(
        _given(employee_id, employee_person(employee_id, agency_hint)),
        _given(email, identifier_person(EMAIL, email)),
        _given(mbox_sha1sum, identifier_person(MBOX_SHA1, mbox_sha1sum)),
        _given(account, identifier_person(ACCOUNT, account)),
    )


def _given(key: ColumnElement[Any], person: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((key.is_not(None), person))


def employee_person(
    employee_id: ColumnElement[Any], agency_hint: ColumnElement[Any]
) -> ColumnElement[Any]:
    """The one person with this employee id at the hinted agency, or at any agency if unique."""
    return (
        select(func.min(Employment.person_id))
        .where(
            Employment.employee_id == employee_id,
            or_(agency_hint.is_(None), Employment.agency_id == agency_hint),
        )
        .having(func.count(func.distinct(Employment.person_id)) == 1)
        .scalar_subquery()
    )


def identifier_person(kind: str, value: ColumnElement[Any]) -> ColumnElement[Any]:
    return (
        select(PersonIdentifier.person_id)
        .where(PersonIdentifier.kind == kind, PersonIdentifier.value == value)
        .scalar_subquery()
    )


def _link(session: Session, key: ColumnElement[Any], person: ColumnElement[Any]) -> None:
    session.execute(
        update(Completion)
        .where(Completion.person_id.is_(None), key.is_not(None))
        .values(person_id=person)
        .execution_options(synchronize_session=False)
    )


def unlinked_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(Completion.person_id.is_(None))) or 0


def apply_voids(session: Session) -> int:
    """Mark voided every completion whose statement a voiding record of its source names."""
    target = select(RawRecord.id).join(
        Voiding,
        and_(
            Voiding.source_id == RawRecord.source_id,
            Voiding.target_external_id == RawRecord.external_id,
        ),
    )
    result = session.execute(
        update(Completion)
        .where(Completion.voided.is_(False), Completion.raw_record_id.in_(target))
        .values(voided=True)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
