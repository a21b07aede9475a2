"""The person a load links a completion to, worked out for a whole batch in Python, is the one
`link_completions` finds with its SQL rules, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import String, func, literal, select
from sqlalchemy.orm import Session, sessionmaker

from onemind.store.db import transaction
from onemind.store.linking import (
    ACCOUNT,
    PersonKeys,
    employee_person,
    identifier_person,
    link_completions,
    people_of,
)
from onemind.store.models import (
    Agency,
    Completion,
    Employment,
    Person,
    PersonIdentifier,
    RawRecord,
    Source,
)
from onemind.store.roster import EMAIL, MBOX_SHA1

KEYS: list[PersonKeys] = [
    ("E1", "a1", None, None, None),  # one person with this id at the hinted agency
    ("E1", None, None, None, None),  # two people have E1: no one without a hint
    ("E1", None, "p4@example.org", None, None),  # ambiguous id, then the email decides
    ("E1", "a3", None, None, None),  # nobody has E1 at a3
    ("E3", None, None, None, None),  # one person holds E3 at two agencies
    ("E3", "a2", "p4@example.org", None, None),  # the employee id comes before the email
    ("E9", None, None, None, None),
    (None, None, None, "4" * 40, None),
    (None, None, "nobody@example.org", None, "acct-5"),
    ("E9", None, "p4@example.org", None, "acct-5"),  # the email comes before the account
    (None, None, None, None, None),
]


def sql_person(session: Session, keys: PersonKeys) -> int | None:
    """The reference: the rules `link_completions` applies, evaluated by the database."""
    employee_id, hint, email, mbox, account = (literal(k, String) for k in keys)
    person = func.coalesce(
        employee_person(employee_id, hint),
        identifier_person(EMAIL, email),
        identifier_person(MBOX_SHA1, mbox),
        identifier_person(ACCOUNT, account),
    )
    return session.scalar(select(person))


def add_people(session: Session) -> None:
    """Five people: E1 held by two of them at two agencies, E3 by one at both, and
    identifiers of each kind."""
    session.add_all(
        Agency(id=a, name=a.upper(), program="one-mind", report_to=[]) for a in ("a1", "a2")
    )
    people = [Person(first_name=f"P{n}", last_name="X") for n in range(1, 6)]
    session.add_all(people)
    session.flush()
    jobs = [(0, "a1", "E1"), (1, "a2", "E1"), (2, "a1", "E3"), (2, "a2", "E3"), (3, "a1", "E4")]
    session.add_all(
        Employment(
            person_id=people[n].id,
            agency_id=agency,
            employee_id=employee_id,
            sworn=True,
            hired_on=date(2020, 1, 1),
        )
        for n, agency, employee_id in jobs
    )
    identifiers = [(3, EMAIL, "p4@example.org"), (3, MBOX_SHA1, "4" * 40), (4, ACCOUNT, "acct-5")]
    session.add_all(
        PersonIdentifier(person_id=people[n].id, kind=kind, value=value)
        for n, kind, value in identifiers
    )
    session.flush()


@pytest.mark.parametrize("batch", [1, len(KEYS)])
def test_people_of_a_batch_are_the_ones_the_sql_rules_link(
    sessions: sessionmaker[Session], batch: int
) -> None:
    with transaction(sessions) as session:
        add_people(session)
        found = [
            person
            for start in range(0, len(KEYS), batch)
            for person in people_of(session, KEYS[start : start + batch])
        ]
        expected = [sql_person(session, keys) for keys in KEYS]

    assert found == expected
    assert sum(p is None for p in found) == 4


def test_linking_after_the_load_finds_the_people_a_load_would(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    with transaction(sessions) as session:
        add_people(session)
        source = Source(name="files", kind="csv")
        session.add(source)
        session.flush()
        raws = [
            RawRecord(
                source_id=source.id,
                external_id=f"r{n}",
                kind="completion",
                location=f"f.csv:{n}",
                payload={},
                payload_hash="h",
                first_seen=now,
                last_seen=now,
            )
            for n in range(len(KEYS))
        ]
        session.add_all(raws)
        session.flush()
        session.add_all(
            Completion(
                raw_record_id=raw.id,
                source_id=source.id,
                employee_id=employee_id,
                agency_hint=hint,
                email=email,
                mbox_sha1sum=mbox,
                account=account,
                course_key="CIT-40",
                course_title="CIT",
                completed_on=date(2025, 1, 1),
                voided=False,
            )
            for raw, (employee_id, hint, email, mbox, account) in zip(raws, KEYS, strict=True)
        )
        session.flush()
        expected = people_of(session, KEYS)
        link_completions(session)
        linked = session.execute(
            select(Completion.person_id).order_by(Completion.raw_record_id)
        ).scalars()
        assert list(linked) == expected
