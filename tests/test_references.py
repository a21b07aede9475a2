"""The bulk tables' references: declared on SQLite, verified per load transaction on PostgreSQL;
a load that names a row that does not exist keeps nothing on either backend."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from onemind.domain.records import Record
from onemind.errors import DanglingReferenceError
from onemind.store.db import transaction
from onemind.store.models import BULK_TABLES, Completion, Source
from onemind.store.writer import BatchStats, RecordWriter
from onemind.sync import lock, runs
from onemind.sync.loading import SourceLoad


class DanglingWriter(RecordWriter):
    """Writes one completion naming a raw record that does not exist."""

    def write(self, records: Sequence[Record]) -> BatchStats:
        self.session.execute(
            Completion.__table__.insert().values(
                raw_record_id=987_654,
                source_id=self.source_id,
                course_key="CIT-40",
                course_title="CIT",
                completed_on=date(2026, 1, 5),
                voided=False,
            )
        )
        return BatchStats(fetched=len(records))


def test_a_load_naming_a_missing_row_keeps_nothing(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    holder = lock.holder_id()
    with transaction(sessions) as session:
        session.add(Source(name="files", kind="csv"))
        session.flush()
        started = runs.start(session, "files", holder, now, timedelta(minutes=5))
    load = SourceLoad(
        sessions,
        "files",
        started.run_id,
        holder,
        timedelta(minutes=5),
        lambda: now,
        BatchStats(),
        writer=DanglingWriter,
    )
    with pytest.raises((DanglingReferenceError, IntegrityError)) as failure, load:
        load.write([object()])  # type: ignore[list-item]
        load.checkpoint({"file": "f.csv"})
        load.commit()
    if failure.type is DanglingReferenceError:
        assert "completion name a raw_record that does not exist (raw_record_id)" in str(
            failure.value
        )
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Completion)) == 0
        source = session.scalars(select(Source).where(Source.name == "files")).one()
        assert source.cursor is None


def test_each_backend_declares_what_it_does_not_verify(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        connection = session.connection()
        declared = {t.name: inspect(connection).get_foreign_keys(t.name) for t in BULK_TABLES}
    expected = {t.name: len(t.foreign_key_constraints) for t in BULK_TABLES}
    if connection.dialect.name == "sqlite":
        assert {name: len(keys) for name, keys in declared.items()} == expected
    else:
        assert declared == {name: [] for name in expected}
