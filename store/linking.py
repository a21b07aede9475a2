"""Set-based identity resolution and voiding, safe to run after every load."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from onemind.store.models import Completion, Employment, PersonIdentifier, RawRecord, Voiding
from onemind.store.roster import EMAIL, MBOX_SHA1
from onemind.store.upsert import among

ACCOUNT = "account"


def link_completions(session: Session) -> None:
    """Attach unlinked completions to people: by employee id, then, for those still unlinked,
    by email, mbox hash or account, in that order, in one pass over them."""
    employee = Completion.employee_id
    _link(
        session,
        employee_person(employee, Completion.agency_hint),
        employee.in_(select(Employment.employee_id)),
    )
    identifiers = ((EMAIL, Completion.email), (MBOX_SHA1, Completion.mbox_sha1sum))
    identifiers += ((ACCOUNT, Completion.account),)
    _link(
        session,
        func.coalesce(*(identifier_person(kind, column) for kind, column in identifiers)),
        or_(*(column.in_(_values(kind)) for kind, column in identifiers)),
    )


def _values(kind: str) -> Select[Any]:
    return select(PersonIdentifier.value).where(PersonIdentifier.kind == kind)


PersonKeys = tuple[str | None, str | None, str | None, str | None, str | None]
"""What a completion names its person by: employee id, agency hint, email, mbox hash, account."""


def people_of(session: Session, keys: Sequence[PersonKeys]) -> list[int | None]:
    """The person each completion names, or None, by the rules `link_completions` applies
    (employee id, then email, mbox hash, account), from a few queries for a whole batch."""
    employees: dict[str | None, list[tuple[str, int]]] = {}
    wanted = sorted({k[0] for k in keys if k[0] is not None})
    for condition in among(session, Employment.employee_id, wanted):
        found = session.execute(
            select(Employment.employee_id, Employment.agency_id, Employment.person_id).where(
                condition
            )
        )
        for employee_id, agency_id, person_id in found:
            employees.setdefault(employee_id, []).append((agency_id, person_id))
    identifiers: dict[tuple[str, str | None], int] = {}
    for position, kind in ((2, EMAIL), (3, MBOX_SHA1), (4, ACCOUNT)):
        wanted = sorted({k[position] for k in keys if k[position] is not None})
        for condition in among(session, PersonIdentifier.value, wanted):
            found = session.execute(
                select(PersonIdentifier.value, PersonIdentifier.person_id).where(
                    PersonIdentifier.kind == kind, condition
                )
            )
            identifiers.update(((kind, value), person) for value, person in found)
    return [
        _employee(employees.get(employee_id), hint)
        or identifiers.get((EMAIL, email))
        or identifiers.get((MBOX_SHA1, mbox))
        or identifiers.get((ACCOUNT, account))
        for employee_id, hint, email, mbox, account in keys
    ]


def _employee(employments: list[tuple[str, int]] | None, hint: str | None) -> int | None:
    """The one person of these employments at the hinted agency (any agency without a hint)."""
    if not employments:
        return None
    people = {person for agency, person in employments if hint is None or agency == hint}
    return people.pop() if len(people) == 1 else None


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


def _link(session: Session, person: ColumnElement[Any], known: ColumnElement[bool]) -> None:
    """Set the person of the unlinked completions `person` finds one for; the others are left
    as they are, not rewritten with NULL (on a large load, most of them). `known` passes over
    a completion whose keys no person has with a lookup, not the per-row subqueries."""
    session.execute(
        update(Completion)
        .where(Completion.person_id.is_(None), known, person.is_not(None))
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
