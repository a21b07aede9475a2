"""Set-based identity resolution and voiding, safe to run after every load."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from onemind.store.models import Completion, Employment, PersonIdentifier, RawRecord, Voiding
from onemind.store.roster import EMAIL, MBOX_SHA1
from onemind.store.upsert import chunks

ACCOUNT = "account"


def link_completions(session: Session) -> None:
    """Attach unlinked completions to people: employee id, then email, mbox hash, account.

    An employee id without an agency links only when exactly one person has it.
    """
    by_employee = (
        select(func.min(Employment.person_id))
        .where(
            Employment.employee_id == Completion.employee_id,
            or_(Completion.agency_hint.is_(None), Employment.agency_id == Completion.agency_hint),
        )
        .having(func.count(func.distinct(Employment.person_id)) == 1)
        .scalar_subquery()
    )
    _link(session, Completion.employee_id, by_employee)
    for kind, column in (
        (EMAIL, Completion.email),
        (MBOX_SHA1, Completion.mbox_sha1sum),
        (ACCOUNT, Completion.account),
    ):
        person = (
            select(PersonIdentifier.person_id)
            .where(PersonIdentifier.kind == kind, PersonIdentifier.value == column)
            .scalar_subquery()
        )
        _link(session, column, person)


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


def resolve_people(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[int | None]:
    """The person of each completion row by the rules of `link_completions`, in a few queries:
    an employee id (within the agency hint, else unique), then email, mbox hash, account."""
    employees: dict[str, list[tuple[str, int]]] = {}
    ids = list({r["employee_id"] for r in rows if r.get("employee_id")})
    for part in chunks(ids):
        for employee_id, agency_id, person_id in session.execute(
            select(Employment.employee_id, Employment.agency_id, Employment.person_id).where(
                Employment.employee_id.in_(part)
            )
        ):
            employees.setdefault(employee_id, []).append((agency_id, person_id))
    known = {
        kind: _identifiers(session, kind, {r[column] for r in rows if r.get(column)})
        for kind, column in IDENTIFIER_COLUMNS
    }
    return [_person_of(row, employees, known) for row in rows]


IDENTIFIER_COLUMNS = ((EMAIL, "email"), (MBOX_SHA1, "mbox_sha1sum"), (ACCOUNT, "account"))


def _identifiers(session: Session, kind: str, values: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in chunks(list(values)):
        found.update(
            session.execute(
                select(PersonIdentifier.value, PersonIdentifier.person_id).where(
                    PersonIdentifier.kind == kind, PersonIdentifier.value.in_(part)
                )
            ).all()
        )
    return found


def _person_of(
    row: Mapping[str, Any],
    employees: dict[str, list[tuple[str, int]]],
    known: dict[str, dict[str, int]],
) -> int | None:
    if row.get("employee_id"):
        hint = row.get("agency_hint")
        people = {
            p
            for agency, p in employees.get(row["employee_id"], [])
            if hint is None or agency == hint
        }
        if len(people) == 1:
            return people.pop()
    for kind, column in IDENTIFIER_COLUMNS:
        value = row.get(column)
        if value and value in known[kind]:
            return known[kind][value]
    return None
