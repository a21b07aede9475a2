"""The load path's multi-row inserts, read back through the ORM on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from onemind.store import bulk
from onemind.store.bulk import BulkInsert, allocate_ids, among
from onemind.store.db import savepoint, transaction
from onemind.store.models import Agency, Attestation, RawRecord, Source, SyncRun
from onemind.store.raw_keys import takes_a_stored_key
from onemind.store.upsert import among as lookup


def raw_insert(dialect: Dialect, *fixed: str) -> BulkInsert:
    """Raw rows' insert: id, key, place, payload and digest; source, kind, when (and `fixed`)."""
    return BulkInsert(
        RawRecord.__table__,
        ("id", "external_id", "location", "payload", "payload_hash"),
        dialect,
        fixed=("source_id", "kind", "first_seen", "last_seen", *fixed),
    )


def test_rows_are_stored_with_their_types_and_fixed_values(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    table = RawRecord.__table__
    with transaction(sessions) as session:
        source = Source(name="files", kind="csv")
        session.add(source)
        session.flush()
        run = SyncRun(source_id=source.id, status="running", started_at=now)
        session.add(run)
        session.flush()
        connection = session.connection()
        insert = raw_insert(connection.dialect, "first_run_id", "last_run_id")
        ids = allocate_ids(connection, table, 3)
        payloads = [{"course": "CIT-40", "on": "2026-01-05"}, {"n": [1, 2]}, {}]
        rows = [
            [raw_id, f"row-{raw_id}", f"f.csv:{raw_id}", payload, f"h{raw_id}"]
            for raw_id, payload in zip(ids, payloads, strict=True)
        ]
        fixed = {
            "source_id": source.id,
            "kind": "completion",
            "first_seen": now,
            "last_seen": now,
            "first_run_id": run.id,
            "last_run_id": run.id,
        }
        insert.execute(connection, rows, fixed)
        more = allocate_ids(connection, table, 2)
        insert.execute(connection, [[more[0], "late", "g.csv:2", {}, "h"]], fixed)

    assert len(set(ids)) == 3 and not set(ids) & set(more)
    with sessions() as session:
        stored = session.scalars(select(RawRecord).order_by(RawRecord.id)).all()
        assert [(r.id, r.external_id, r.payload, r.payload_hash) for r in stored] == [
            *((i, f"row-{i}", p, f"h{i}") for i, p in zip(ids, payloads, strict=True)),
            (more[0], "late", {}, "h"),
        ]
        assert {(r.kind, r.first_seen, r.last_run_id) for r in stored} == {
            ("completion", now, run.id)
        }
        assert [r.location for r in stored] == [*(f"f.csv:{i}" for i in ids), "g.csv:2"]


def test_dates_round_trip(sessions: sessionmaker[Session], now: datetime) -> None:
    """Dates go through the column type's own conversion, as the ORM would store them."""

    table = Attestation.__table__
    with transaction(sessions) as session:
        session.add(Agency(id="a1", name="A", program="one-mind", report_to=[]))
        session.flush()
        connection = session.connection()
        insert = BulkInsert(
            table,
            ("agency_id", "kind", "attested_on", "evidence"),
            connection.dialect,
            fixed=("recorded_by", "recorded_at"),
        )
        insert.execute(
            connection,
            [
                ["a1", "policy", date(2024, 2, 29), None],
                ["a1", "training", date(999, 12, 31), None],
                ["a1", "partnership", date(2025, 1, 1), "x"],
            ],
            {"recorded_by": "loader", "recorded_at": now},
        )
    with sessions() as session:
        rows = session.execute(
            select(Attestation.kind, Attestation.attested_on, Attestation.recorded_at).order_by(
                Attestation.attested_on
            )
        ).all()
    assert rows == [
        ("training", date(999, 12, 31), now),
        ("policy", date(2024, 2, 29), now),
        ("partnership", date(2025, 1, 1), now),
    ]


def test_among_picks_the_listed_rows_and_none_for_an_empty_list(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        sources = [Source(name=f"s{n}", kind="csv") for n in range(4)]
        session.add_all(sources)
        session.flush()
        ids = [source.id for source in sources]
        dialect = session.get_bind().dialect

        def picked(values: list[int]) -> list[str]:
            query = select(Source.name).where(among(dialect, Source.id, values))
            return sorted(session.scalars(query))

        assert picked([ids[0], ids[2], ids[2]]) == ["s0", "s2"]
        assert picked([]) == []


def test_the_lookup_conditions_find_listed_text_and_ids_exactly(
    sessions: sessionmaker[Session],
) -> None:
    """Text of any shape (quotes, backslashes, JSON-like, accents) and more values than one IN
    list takes; ids too."""
    names = ['a"b', "c\\d", '["e"]', "é ü", "plain", *(f"n{i}" for i in range(1500))]
    with transaction(sessions) as session:
        session.add_all(Source(name=name, kind="csv") for name in names)
        session.flush()

        def found(column: Any, values: list[Any]) -> list[str]:
            return sorted(
                name
                for condition in lookup(session, column, values)
                for name in session.scalars(select(Source.name).where(condition))
            )

        wanted = ['a"b', "c\\d", '["e"]', "é ü", "n1499", "n0", "missing", 'A"B']
        assert found(Source.name, wanted) == sorted(wanted[:-2])
        assert found(Source.name, [f"n{i}" for i in range(1200)]) == sorted(
            f"n{i}" for i in range(1200)
        )
        ids = session.scalars(select(Source.id).where(Source.name.in_(["plain", "n7"]))).all()
        assert found(Source.id, list(ids)) == ["n7", "plain"]
        assert found(Source.name, []) == []


def test_a_raw_row_inserted_twice_is_told_from_other_failed_inserts(pg_engine: Engine) -> None:
    """A first load on PostgreSQL writes a batch again, looked up, only when COPY fails on the
    raw key; any other failure stands, another unique key's too (the driver's own error, as
    COPY raises it, and SQLAlchemy's). Nothing is kept: the transaction is rolled back."""
    table = RawRecord.__table__
    failures: list[BaseException] = []
    now = datetime(2026, 11, 26, tzinfo=UTC)
    with Session(pg_engine) as session:
        source = Source(name="files", kind="csv")
        session.add(source)
        session.flush()
        connection = session.connection()
        insert = raw_insert(connection.dialect)
        fixed = {"source_id": source.id, "kind": "completion", "first_seen": now, "last_seen": now}
        for attempt in range(2):
            [raw_id] = allocate_ids(connection, table, 1)
            try:
                with savepoint(session):  # as the writer's: `connection` is taken before it
                    insert.execute(connection, [[raw_id, "row-1", "f.csv:2", {}, "h"]], fixed)
            except Exception as exc:
                failures.append(exc)
            assert len(failures) == attempt
        try:
            with savepoint(session):
                session.add(Source(name="files", kind="csv"))
                session.flush()
        except Exception as exc:
            failures.extend((exc, getattr(exc, "orig", exc)))
        session.rollback()
    assert [takes_a_stored_key(f) for f in failures] == [True, False, False]
    assert getattr(failures[-1], "sqlstate", None) == "23505"  # unique, not the raw key


def test_a_savepoint_holds_what_a_connection_taken_before_it_sends(pg_engine: Engine) -> None:
    """`Session.begin_nested` alone sends its SAVEPOINT only when the session is next asked for
    its connection: an insert failing through a connection taken before would abort the whole
    transaction (25P02), and the one before it stay."""
    names = ["held", "kept out"]
    with Session(pg_engine) as session:
        session.add(Source(name="held", kind="csv"))
        session.flush()
        connection = session.connection()
        with pytest.raises(IntegrityError), savepoint(session):
            connection.execute(insert(Source).values(name="kept out", kind="csv"))
            connection.execute(insert(Source).values(name="held", kind="csv"))
        assert list(connection.scalars(select(Source.name).where(Source.name.in_(names)))) == [
            "held"
        ]
        session.rollback()


def test_two_threads_sending_first_at_once_read_the_column_types_alike(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compiled insert is shared by every load of the process (a scheduler runs its jobs in
    threads): two first sends at once both read the columns' types, and both keep them once.
    Nothing is kept: each load is rolled back."""
    both_reading = threading.Barrier(2, timeout=10)
    read = bulk._column_types

    def read_together(*args: Any) -> list[int]:
        types = read(*args)
        both_reading.wait()
        return types

    monkeypatch.setattr(bulk, "_column_types", read_together)
    insert = raw_insert(pg_engine.dialect)
    now = datetime(2026, 11, 26, tzinfo=UTC)

    def load(name: str) -> list[str]:
        with Session(pg_engine) as session:
            source = Source(name=name, kind="csv")
            session.add(source)
            session.flush()
            fixed = {
                "source_id": source.id,
                "kind": "completion",
                "first_seen": now,
                "last_seen": now,
            }
            [raw_id] = allocate_ids(session.connection(), RawRecord.__table__, 1)
            row = [raw_id, f"{name}-row", "f.csv:2", {}, "h"]
            insert.execute(session.connection(), [row], fixed)
            stored = select(RawRecord.external_id).where(RawRecord.source_id == source.id)
            kept = list(session.scalars(stored))
            session.rollback()
        return kept

    with ThreadPoolExecutor(2) as pool:
        loads = [pool.submit(load, name) for name in ("one", "two")]
        assert [done.result() for done in loads] == [["one-row"], ["two-row"]]
