"""A source's records written in transactions of many batches, each with its counts and cursor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onemind.collector import collect_young
from onemind.domain.records import Record, UnparsedRow
from onemind.errors import SourceError
from onemind.store import references
from onemind.store.db import bulk_page_cache
from onemind.store.models import Agency, Source
from onemind.store.statistics import analyze
from onemind.store.writer import BatchStats, RecordWriter
from onemind.sync import lock, runs

COMMIT_RECORDS = 15_000
FIRST_ANALYZED = 5000
"""A load's statistics are first refreshed once it has written twice this many records."""
GROWN_TABLES = ("raw_record", "completion")
"""Tables whose keys a load looks up, their statistics refreshed as a load grows them."""


class SourceLoad:
    """Takes a pull's batches into one transaction until `commit_records` (COMMIT_RECORDS
    unless told), then commits.

    A transaction first renews the source's lock, so a process that lost it writes nothing;
    it ends with a check of the references it wrote (`store.references`), the run's counts and
    the newest cursor seen, which only ever covers records written before it. Fewer, larger
    commits spare the database rewriting the same index pages. With `page_cache_kib`, each
    transaction's SQLite connection has a page cache that large until it returns to the pool.
    The statistics of the `grown` tables (GROWN_TABLES unless told) are refreshed as the load
    grows them.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        source: str,
        run_id: int,
        holder: str,
        lock_ttl: timedelta,
        now: Callable[[], datetime],
        committed: BatchStats,
        agency: str | None = None,
        writer: Callable[..., RecordWriter] = RecordWriter,
        page_cache_kib: int | None = None,
        commit_records: int | None = None,
        grown: tuple[str, ...] = GROWN_TABLES,
    ) -> None:
        self.sessions = sessions
        self.source = source
        self.run_id = run_id
        self.holder = holder
        self.lock_ttl = lock_ttl
        self.now = now
        self.agency = agency
        self.writer_class = writer
        self.page_cache_kib = page_cache_kib
        self.commit_records = COMMIT_RECORDS if commit_records is None else commit_records
        self.committed = committed
        self.pending = BatchStats()
        self.cursor: dict[str, Any] | None = None
        self.session: Session | None = None
        self.writer: RecordWriter | None = None
        self.marks: references.Marks = {}
        self.analyzed_at = FIRST_ANALYZED
        self.grown = grown

    def __enter__(self) -> SourceLoad:
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()

    def write(self, batch: list[Record | UnparsedRow]) -> None:
        """Write `batch` in the open transaction; commit when it has grown large enough."""
        if not batch:
            return
        with self._rolled_back_on_error():
            self.pending.add(self._writer().write(batch))
            self._analyze_when_doubled()
        if self.pending.fetched >= self.commit_records:
            self.commit()

    @property
    def fetched(self) -> int:
        return self.committed.fetched + self.pending.fetched

    def checkpoint(self, cursor: dict[str, Any]) -> None:
        """Everything written so far is covered by `cursor`; it is saved with the next commit."""
        self.cursor = cursor
        with self._rolled_back_on_error():
            self._writer()

    def commit(self) -> None:
        """Commit the open transaction, if any, with the run's counts and the cursor.

        Also what to do when the source fails mid-pull: what was written before is sound.
        """
        if self.session is None:
            return
        session, source = self.session, self._source()
        total = BatchStats()
        total.add(self.committed)
        total.add(self.pending)
        runs.record_counts(session, self.run_id, total)
        if self.cursor is not None:
            source.cursor = self.cursor
            source.cursor_updated_at = self.now()
        with self._rolled_back_on_error():
            references.verify(session, self.marks)
        session.commit()
        collect_young()  # a pull runs with the collector paused: its cycles go at each commit
        self.committed.add(self.pending)
        self._close()

    def _analyze_when_doubled(self) -> None:
        """Refresh PostgreSQL's statistics each time the load has doubled what it wrote.

        Autovacuum comes too late for a first load: planned for the near-empty table, each
        lookup of a batch's keys reads every row of the source. ANALYZE runs in the open
        transaction, whose own new rows it counts, so the next batch is planned for them.
        Doubling keeps the total work of the refreshes proportional to the load; a rerun
        that adds few records (a nightly roster) grows no table and refreshes nothing.
        """
        written = self.committed.new + self.pending.new
        if written < 2 * self.analyzed_at:
            return
        self.analyzed_at = written
        assert self.session is not None
        analyze(self.session, self.grown)

    def rollback(self) -> None:
        """Drop what an open transaction holds (nothing once committed)."""
        if self.session is not None:
            self.session.rollback()
            self._close()

    @contextmanager
    def _rolled_back_on_error(self) -> Iterator[None]:
        """A failed write leaves nothing to commit: the transaction is dropped at once."""
        try:
            yield
        except BaseException:
            self.rollback()
            raise

    def _writer(self) -> RecordWriter:
        """The open transaction's writer, starting a transaction under a renewed lock if none.

        Raises:
            SourceError: the lock expired and another process took it; nothing is written.
        """
        if self.writer is not None:
            return self.writer
        session = self.session = self.sessions()
        if self.page_cache_kib is not None:
            bulk_page_cache(session.connection(), self.page_cache_kib)
        now = self.now()
        source = self._source()
        if not lock.renew(session, source.id, self.holder, now, self.lock_ttl):
            raise SourceError(
                f"source {self.source!r}: lost its sync lock to another process while "
                "pulling (raise [scheduler] lock_ttl_seconds if batches take that long)"
            )
        agencies = set(session.connection().execute(select(Agency.id)).scalars())
        self.marks = references.marks(session)
        self.writer = self.writer_class(session, source.id, self.run_id, now, agencies, self.agency)
        return self.writer

    def _source(self) -> Source:
        assert self.session is not None
        return self.session.scalars(select(Source).where(Source.name == self.source)).one()

    def _close(self) -> None:
        assert self.session is not None
        self.session.close()
        self.session, self.writer, self.pending = None, None, BatchStats()


class Batches:
    """A pull's records handed to `load` in batches of `size`, however often the source
    checkpoints.

    A source may mark its cursor after every page (an LRS's 500 statements): writing at each
    mark made a batch of every page, and each batch pays its fixed costs (ids drawn, COPY
    started, the raw batch, the checks) once more. A mark is held until the records before it
    are written with the batch that holds them, then given to the load; so the cursor still
    only ever covers records written before it.
    """

    def __init__(self, load: SourceLoad, size: int) -> None:
        self.load = load
        self.size = size
        self.records: list[Record | UnparsedRow] = []
        self.cursor: dict[str, Any] | None = None
        self.covered = 0
        self.failed = False

    def add(self, record: Record | UnparsedRow) -> bool:
        """Take a record; whether it filled a batch, which was then written."""
        self.records.append(record)
        if len(self.records) < self.size:
            return False
        self.flush()
        return True

    def mark(self, cursor: dict[str, Any]) -> None:
        """The records taken so far are covered by `cursor`."""
        self.cursor, self.covered = cursor, len(self.records)

    def flush(self) -> None:
        """Write the records taken, then give the load the newest cursor met."""
        self._write(len(self.records))

    def flush_covered(self) -> None:
        """After the source failed: write what its newest cursor covers, and that cursor,
        unless it was a write that failed."""
        if not self.failed and self.cursor is not None:
            self._write(self.covered)

    def _write(self, count: int) -> None:
        try:
            self.load.write(self.records[:count])
            if self.cursor is not None:
                self.load.checkpoint(self.cursor)
        except BaseException:
            self.failed = True
            raise
        self.records, self.cursor, self.covered = [], None, 0
