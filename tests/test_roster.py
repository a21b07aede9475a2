"""Roster rows → people and employments, on both backends.

The set-based writer equals a slow reading of the rules, one row at a time over dictionaries:
a row joins the person of its (agency, employee id), else the person holding its address, else
a new person; a person takes a new address unless someone else holds it. The store it leaves
does not depend on where batches begin and end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from builders import empty_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker
from test_sync import ROSTER_HEADER, make_settings, run

from onemind.connectors import people_rows
from onemind.connectors.tabular import TabularConnector
from onemind.domain.records import RosterEntry
from onemind.store.db import make_engine, session_factory, transaction
from onemind.store.models import (
    Agency,
    Base,
    Employment,
    Person,
    PersonIdentifier,
    QuarantinedRecord,
    RawRecord,
    Source,
    SyncRun,
)
from onemind.store.repeats import fingerprint
from onemind.store.roster import EMAIL, MBOX_SHA1, mbox_sha1sum, position_key
from onemind.store.set_aside import SetAsideWriter
from onemind.store.stored_digests import StoredDigests
from onemind.sync import loading
from onemind.sync.runner import SyncOutcome

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
AGENCIES = ("a-pd", "b-pd")
Key = tuple[str, str]


# ---------------------------------------------------------------- the reference


@dataclass(eq=False)
class RefPerson:
    first: str
    last: str
    email: str | None = None


@dataclass
class Reference:
    """The rules applied one row at a time, in file order, to plain dictionaries."""

    jobs: dict[Key, tuple[RefPerson, tuple[Any, ...]]] = field(default_factory=dict)
    owners: dict[str, RefPerson] = field(default_factory=dict)
    said: dict[Key, RosterEntry] = field(default_factory=dict)

    def load(self, rows: list[RosterEntry]) -> None:
        """One run: the first row of each key counts, and only if it says something new."""
        first: dict[Key, RosterEntry] = {}
        for row in rows:
            first.setdefault((row.agency, row.employee_id), row)
        for key, row in first.items():
            said = replace(row, location="", digest=None)
            if self.said.get(key) != said:
                self.said[key] = said
                self.apply(key, row)

    def apply(self, key: Key, row: RosterEntry) -> None:
        email = row.email.strip().lower() if row.email else None
        if key in self.jobs:
            person = self.jobs[key][0]
        elif email is not None and email in self.owners:
            person = self.owners[email]
        else:
            person = RefPerson(row.first_name, row.last_name)
        person.first, person.last = row.first_name, row.last_name
        if email is not None and person.email != email:
            owner = self.owners.get(email)
            if owner is None or owner is person:
                person.email = email
                self.owners.setdefault(email, person)
        values = (row.sworn, row.position, position_key(row.position), row.selected)
        self.jobs[key] = (person, (*values, row.hired_on, row.separated_on))

    def picture(self) -> dict[str, Any]:
        home = {}
        for key, (person, _) in sorted(self.jobs.items(), reverse=True):
            home[id(person)] = key
        return {
            "jobs": {k: (home[id(p)], *v) for k, (p, v) in self.jobs.items()},
            "people": sorted(
                (home[id(p)], p.first, p.last, p.email)
                for p in {id(p): p for p, _ in self.jobs.values()}.values()
            ),
            "identifiers": sorted(
                (kind, value, home[id(p)])
                for email, p in self.owners.items()
                for kind, value in ((EMAIL, email), (MBOX_SHA1, mbox_sha1sum(email)))
            ),
        }


def picture(session: Session) -> dict[str, Any]:
    """The store by natural keys: a person is named by their first employment's key."""
    rows = session.execute(
        select(
            Employment.agency_id,
            Employment.employee_id,
            Employment.person_id,
            Employment.sworn,
            Employment.position,
            Employment.position_key,
            Employment.selected,
            Employment.hired_on,
            Employment.separated_on,
        )
    ).all()
    home = {}
    for agency, employee, person_id, *_ in sorted(rows, reverse=True):
        home[person_id] = (agency, employee)
    people = session.execute(select(Person.id, Person.first_name, Person.last_name, Person.email))
    identifiers = session.execute(
        select(PersonIdentifier.kind, PersonIdentifier.value, PersonIdentifier.person_id)
    )
    return {
        "jobs": {(a, e): (home[p], *rest) for a, e, p, *rest in rows},
        "people": sorted((home[p], *rest) for p, *rest in people),
        "identifiers": sorted((k, v, home[p]) for k, v, p in identifiers),
    }


# ---------------------------------------------------------------- random rosters

NAMES = st.sampled_from(["Ann", "Bob", "Cat", "Dan"])
ADDRESSES = st.sampled_from(
    [None, "ann@x.example", "ANN@x.example ", "bob@x.example", "cat@x.example", "dan@x.example"]
)
DAYS = st.dates(date(2015, 1, 1), date(2026, 11, 1))


@st.composite
def entries(draw: st.DrawFn) -> RosterEntry:
    agency = draw(st.sampled_from(AGENCIES))
    employee = draw(st.sampled_from(["1", "2", "3", "4"]))
    hired = draw(DAYS)
    left = draw(st.one_of(st.none(), st.dates(hired, date(2026, 11, 20))))
    values = {"agency": agency, "employee_id": employee}
    entry = RosterEntry(
        external_id=f"{agency}:{employee}",
        location="roster.csv:?",
        agency=agency,
        employee_id=employee,
        first_name=draw(NAMES),
        last_name=draw(NAMES),
        email=draw(ADDRESSES),
        sworn=draw(st.booleans()),
        position=draw(st.sampled_from(["Patrol Officer", "Dispatcher", "Records Clerk"])),
        selected=draw(st.sampled_from([None, True, False])),
        hired_on=hired,
        separated_on=left,
        payload=values,
    )
    # no digest, or one given by its connector: of a digest's length (read from the stored
    # ones in memory), or longer (looked up by key)
    length = draw(st.sampled_from([None, 32, 64]))
    return entry if length is None else replace(entry, digest=fingerprint(entry)[:length])


@st.composite
def runs_of_rows(draw: st.DrawFn) -> list[list[RosterEntry]]:
    """Runs of rows, each after the first restating some of the rows before it (as a nightly
    file restates most of its roster), anywhere among its own."""
    runs = draw(st.lists(st.lists(entries(), max_size=10), min_size=1, max_size=4))
    for before, index in zip(runs, range(1, len(runs)), strict=False):
        kept = draw(st.lists(st.sampled_from(before), max_size=6)) if before else []
        rows = runs[index] + kept
        runs[index] = draw(st.permutations(rows))
    return runs


def load(engine: Engine, runs: list[list[RosterEntry]], batch: int) -> dict[str, Any]:
    """Each list of rows written by one run, `batch` rows at a time; the store's picture."""
    empty_store(engine)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        session.add_all(Agency(id=a, name=a, report_to=[]) for a in AGENCIES)
        session.add(Source(name="roster", kind="csv"))
    for number, rows in enumerate(runs):
        with transaction(sessions) as session:
            source = session.scalars(select(Source)).one()
            sync_run = SyncRun(source_id=source.id, started_at=NOW)
            session.add(sync_run)
            session.flush()
            writer = SetAsideWriter(
                session, source.id, sync_run.id, NOW, set(AGENCIES), digests=StoredDigests("roster")
            )
            located = [replace(r, location=f"roster.csv:{number}.{i}") for i, r in enumerate(rows)]
            for start in range(0, len(located), batch):
                writer.write(located[start : start + batch])
    with sessions() as session:
        return picture(session)


def check(engine: Engine, runs: list[list[RosterEntry]], batch: int) -> None:
    reference = Reference()
    for rows in runs:
        reference.load(rows)
    assert load(engine, runs, batch) == reference.picture()


@pytest.fixture(scope="module")
def sqlite_engine() -> Iterator[Engine]:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=runs_of_rows(), batch=st.integers(1, 12))
def test_roster_equals_reference_on_sqlite(
    sqlite_engine: Engine, runs: list[list[RosterEntry]], batch: int
) -> None:
    check(sqlite_engine, runs, batch)


@pytest.mark.postgres
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=runs_of_rows(), batch=st.integers(1, 12))
def test_roster_equals_reference_on_postgresql(
    pg_engine: Engine, runs: list[list[RosterEntry]], batch: int
) -> None:
    check(pg_engine, runs, batch)


# ---------------------------------------------------------------- through the sync

ROSTER = (
    ROSTER_HEADER
    + """a-pd,1,Ann,Lee,ANN@a.example ,true,Officer,,2020-01-01,
a-pd,2,Bob,Ray,bob@a.example,true,Officer,,2020-01-01,
a-pd,3,Cat,Kim,,false,Dispatcher,,2020-01-01,
"""
)


def people(sessions: sessionmaker[Session]) -> dict[str, Any]:
    with sessions() as session:
        return picture(session)


@pytest.fixture
def rerun(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> Callable[[str], SyncOutcome]:
    """ROSTER synced once; the function syncs the roster file again with other content."""
    settings = make_settings(tmp_path)
    (tmp_path / "completions.csv").write_text("employee_id,course_id,completed_on\n")
    (tmp_path / "roster.csv").write_text(ROSTER)
    run(settings, sessions, now)

    def again(roster: str) -> SyncOutcome:
        (tmp_path / "roster.csv").write_text(roster)
        return run(settings, sessions, now)

    return again


def test_lateral_hire_address_change_and_leaver(
    rerun: Callable[[str], SyncOutcome], sessions: sessionmaker[Session]
) -> None:
    outcome = rerun(
        ROSTER.replace("ANN@a.example ", "ann.lee@a.example").replace(
            "2020-01-01,\na-pd,2", "2020-01-01,2026-10-31\na-pd,2"
        )
        + "a-pd,9,Ann,Lee-Ray,ANN@A.EXAMPLE,true,Sergeant,,2026-11-01,\n"
    )
    stats = outcome.results[0].stats
    assert (stats.new, stats.updated) == (1, 1)
    store = people(sessions)
    ann = ("a-pd", "1")
    assert store["jobs"][ann][-1] == date(2026, 10, 31), "the leaver's employment is closed"
    assert store["jobs"][("a-pd", "9")][0] == ann, "a new row with her old address is her"
    assert ("a-pd", "9") not in {p[0] for p in store["people"]}
    assert (ann, "Ann", "Lee-Ray", "ann@a.example") in store["people"], "the last row names her"
    assert [v for k, v, p in store["identifiers"] if p == ann and k == EMAIL] == [
        "ann.lee@a.example",
        "ann@a.example",
    ]
    assert outcome.reports[0].counts.sworn_total == 2


def test_an_address_someone_else_holds_is_not_taken(
    rerun: Callable[[str], SyncOutcome],
    sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, "onemind.store.roster"):
        rerun(ROSTER.replace("bob@a.example", "ann@a.example"))
    store = people(sessions)
    assert (("a-pd", "2"), "Bob", "Ray", "bob@a.example") in store["people"]
    assert {(v, p) for k, v, p in store["identifiers"] if k == EMAIL} == {
        ("ann@a.example", ("a-pd", "1")),
        ("bob@a.example", ("a-pd", "2")),
    }
    assert "is already person" in caplog.text


def test_a_rerun_of_a_changed_file_writes_only_what_changed(
    rerun: Callable[[str], SyncOutcome], sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        before = {e.employee_id: (e.raw_record_id, e.position) for e in jobs(session)}
    outcome = rerun(ROSTER.replace("Officer,,2020", "Sergeant,,2020", 1))
    assert (outcome.results[0].stats.fetched, outcome.results[0].stats.updated) == (3, 1)
    with sessions() as session:
        after = {e.employee_id: (e.raw_record_id, e.position) for e in jobs(session)}
    assert after == before | {"1": (before["1"][0], "Sergeant")}


def test_a_rerun_parses_only_the_rows_that_changed(
    rerun: Callable[[str], SyncOutcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row whose digest the store holds is set aside as read, never parsed."""
    parsed: list[str] = []
    parse = people_rows.roster_entry

    def counted(reader: TabularConnector, values: dict[str, Any], *where: str) -> RosterEntry:
        parsed.append(where[0])
        return parse(reader, values, *where)

    monkeypatch.setattr(people_rows, "roster_entry", counted)
    rerun(ROSTER.replace("Officer,,2020", "Sergeant,,2020", 1))
    assert parsed == ["roster.csv:2"]


def test_a_later_unreadable_row_of_an_unchanged_key_is_quarantined_for_what_it_lacks(
    rerun: Callable[[str], SyncOutcome], sessions: sessionmaker[Session]
) -> None:
    outcome = rerun(ROSTER + "a-pd,2,Bob,Ray,bob@a.example,true,Officer,,someday,\n")
    stats = outcome.results[0].stats
    assert (stats.updated, stats.quarantined, stats.repeated) == (0, 1, 0)
    with sessions() as session:
        ((location, reason),) = session.execute(
            select(QuarantinedRecord.location, QuarantinedRecord.reason)
        ).all()
    assert (location, reason.split(":")[0]) == ("roster.csv:5", "hired_on")


def jobs(session: Session) -> list[Employment]:
    return list(session.scalars(select(Employment)))


def test_a_rerun_leaves_the_raw_records_of_unchanged_rows_as_they_are(
    rerun: Callable[[str], SyncOutcome], sessions: sessionmaker[Session]
) -> None:
    before = last_runs(sessions)
    rerun(ROSTER.replace("Officer,,2020", "Sergeant,,2020", 1))
    after = last_runs(sessions)
    assert after["a-pd:1"] != before["a-pd:1"], "the changed row's raw record is rewritten"
    assert {k: after[k] for k in ("a-pd:2", "a-pd:3")} == {
        k: before[k] for k in ("a-pd:2", "a-pd:3")
    }


def test_a_later_row_of_an_unchanged_key_saying_otherwise_is_quarantined(
    rerun: Callable[[str], SyncOutcome], sessions: sessionmaker[Session]
) -> None:
    outcome = rerun(ROSTER + "a-pd,2,Bob,Ray,bob@a.example,true,Sergeant,,2020-01-01,\n")
    stats = outcome.results[0].stats
    assert (stats.updated, stats.quarantined) == (0, 1)
    with sessions() as session:
        ((location, reason),) = session.execute(
            select(QuarantinedRecord.location, QuarantinedRecord.reason)
        ).all()
        position = session.scalar(select(Employment.position).where(Employment.employee_id == "2"))
    assert location == "roster.csv:5"
    assert reason.startswith("repeats roster.csv:3 with other position")
    assert position == "Officer", "the first row of the key stands"


def test_a_later_row_of_an_unchanged_key_in_another_transaction_is_still_a_repeat(
    rerun: Callable[[str], SyncOutcome],
    sessions: sessionmaker[Session],
    change_role: Callable[..., None],
) -> None:
    """One row a batch, one batch a transaction: the row set aside is remembered by the run."""
    change_role("roster", batch_size=1, commit_records=1)
    later = (
        "a-pd,2,Bob,Ray,bob@a.example,true,Sergeant,,2020-01-01,\n"
        "a-pd,3,Cat,Kim,,false,Dispatcher,,2020-01-01,\n"
    )
    outcome = rerun(ROSTER + later)
    stats = outcome.results[0].stats
    assert (stats.updated, stats.quarantined, stats.repeated) == (0, 1, 1)
    with sessions() as session:
        ((location, reason),) = session.execute(
            select(QuarantinedRecord.location, QuarantinedRecord.reason)
        ).all()
    assert (location, reason.split(" with ")[0]) == ("roster.csv:5", "repeats roster.csv:3")


def last_runs(sessions: sessionmaker[Session]) -> dict[str, int | None]:
    with sessions() as session:
        rows = session.execute(select(RawRecord.external_id, RawRecord.last_run_id))
        return {key: run_id for key, run_id in rows}


halves = st.sampled_from(["0" * 16, "7" * 16, "8" * 16, "f" * 16, "0123456789abcdef"])
digests = st.builds(str.__add__, halves, halves) | st.text(
    "0123456789abcdef", min_size=32, max_size=32
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stored=st.lists(digests, max_size=40, unique=True), asked=st.lists(digests, max_size=10))
def test_stored_digests_find_a_stored_row_of_each_digest_not_written(
    sqlite_engine: Engine, stored: list[str], asked: list[str]
) -> None:
    empty_store(sqlite_engine)
    with transaction(session_factory(sqlite_engine)) as session:
        source = Source(name="roster", kind="csv")
        session.add(source)
        session.flush()
        session.add_all(
            RawRecord(
                source_id=source.id,
                external_id=str(number),
                kind="roster",
                location=f"roster.csv:{number}",
                payload=None,
                payload_hash=digest,
                first_seen=NOW,
                last_seen=NOW,
            )
            for number, digest in enumerate(stored)
        )
        session.flush()
        found = StoredDigests("roster")
        found.load(session.connection(), source.id)
        raw_ids = {i: d for i, d in session.execute(select(RawRecord.id, RawRecord.payload_hash))}
    for digest in [*stored, *asked, "not hex", None]:
        index = found.find(digest)
        if digest in stored:
            assert raw_ids[found.raw_ids[index]] == digest
        else:
            assert index == -1
    written = set(list(raw_ids)[::2])
    unchanged = found.set_aside([*stored, *asked], written)
    for digest, index in zip([*stored, *asked], unchanged, strict=True):
        wanted = {i for i, d in raw_ids.items() if d == digest} - written
        assert (found.raw_ids[index] in wanted) if wanted else index == -1


def test_a_roster_load_refreshes_the_statistics_of_the_tables_it_grows(
    tmp_path: Path,
    engine: Engine,
    sessions: sessionmaker[Session],
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
    change_role: Callable[..., None],
) -> None:
    """Planned for the empty tables a first load starts from, the look-ups of a batch's
    addresses and employments would read whole tables: PostgreSQL's statistics of person,
    identifier and employment are refreshed as the load doubles them (nothing on SQLite)."""
    monkeypatch.setattr(loading, "FIRST_ANALYZED", 1)
    change_role("roster", batch_size=2)
    sent: list[str] = []

    def noting(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    settings = make_settings(tmp_path)
    (tmp_path / "completions.csv").write_text("employee_id,course_id,completed_on\n")
    (tmp_path / "roster.csv").write_text(ROSTER)
    event.listen(engine, "before_cursor_execute", noting)
    try:
        assert run(settings, sessions, now).ok
    finally:
        event.remove(engine, "before_cursor_execute", noting)
    analyzed = [s for s in sent if s.startswith("ANALYZE") and "roster_stage" not in s]
    if engine.dialect.name == "postgresql":
        assert "ANALYZE raw_record, person, person_identifier, employment" in analyzed
    else:
        assert analyzed == []
