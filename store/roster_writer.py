"""A roster source's batches: a row whose digest the store holds already is set aside.

A nightly roster file is mostly what the store holds. Each row comes with the digest of its
cells (see `RosterEntry.digest`); a row whose stored raw record has that digest changes
nothing, so it is neither screened, rewritten nor applied, and its raw record is left as it
is (rewriting a row per person every night is most of the cost of a re-sync). The raw records
of those rows are remembered for the rest of the run in `roster_seen`, so that a later row of
the same key is still a repeat of it, identical or quarantined, as the records of one run are
elsewhere; a table, not a set in memory, so that memory does not grow with the source. Each
batch reads it once for its keys and adds to it once; `sync.runs` empties it of a run's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from json import dumps
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onemind.domain.records import Record, Rejected, RosterEntry, RosterRow
from onemind.store.history import RUNNING
from onemind.store.models import RosterSeen, SyncRun
from onemind.store.payloads import payloads_of
from onemind.store.repeats import Repeats, fingerprint
from onemind.store.writer import BatchStats, Existing, RecordWriter

LOOKUP = (
    "SELECT r.external_id, EXISTS (SELECT 1 FROM roster_seen s"
    " WHERE s.run_id = {mark} AND s.raw_record_id = r.id),"
    " r.id, r.payload_hash, r.last_run_id, r.location"
    " FROM raw_record r WHERE r.source_id = {mark} AND r.external_id {keys}"
)
"""A batch's stored rows, each with whether this run set it aside already: probed in
`roster_seen`'s key row by row (a join would have PostgreSQL hash all the run's rows there,
which grow with each batch, for every batch)."""
LOOKUP_POSTGRES = LOOKUP.format(mark="%s", keys="= ANY(%s)")
LOOKUP_SQLITE = LOOKUP.format(mark="?", keys="IN (SELECT value FROM json_each(?))")
REMEMBER_POSTGRES = (
    "INSERT INTO roster_seen (run_id, raw_record_id) SELECT %s, unnest(CAST(%s AS BIGINT[]))"
)
REMEMBER_SQLITE = (
    "INSERT INTO roster_seen (run_id, raw_record_id) SELECT ?, value FROM json_each(?)"
)


class RosterWriter(RecordWriter):
    """RecordWriter for roster rows that sets aside those the store holds as they are."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._found: dict[str, Existing] = {}
        self._looked_up: set[str] = set()

    def write(self, records: Sequence[Record | RosterRow]) -> BatchStats:
        """Store a batch; rows the store holds as they are count as fetched, nothing else."""
        left, repeats = self._set_aside(records)
        stats = super().write([*left, *repeats.conflicting])
        stats.fetched = len(records)
        stats.repeated += repeats.identical
        return stats

    def _set_aside(self, records: Sequence[Record | RosterRow]) -> tuple[list[Record], Repeats]:
        """The records still to write, parsed, and the repeats of rows found unchanged this
        run (a row set aside is never parsed: its digest says it gives what is stored)."""
        entries = [
            r
            for r in records
            if isinstance(r, (RosterEntry, RosterRow)) and r.agency in self.agencies
        ]
        first: dict[str, RosterEntry | RosterRow] = {}
        for entry in entries:
            first.setdefault(entry.external_id, entry)
        given: set[str] = set()
        existing = self._found = self._lookup(list(first), given)
        kept: list[int] = []
        aside: set[int] = set()
        repeated: list[tuple[RosterEntry | RosterRow, Existing]] = []
        for entry in entries:
            key = entry.external_id
            stored = existing.get(key)
            if stored is None:
                continue
            if key in given:
                repeated.append((entry, stored))
            elif first[key] is entry and self._unchanged(entry, stored):
                given.add(key)
                kept.append(stored.raw_id)
            else:
                continue
            aside.add(id(entry))
        self._remember(kept)
        left = [_parsed(r) for r in records if id(r) not in aside]
        return left, self._repeats(repeated)

    def _existing(self, keys: list[str]) -> dict[str, Existing]:
        """The stored rows of `keys`, those this batch looked up already taken as found."""
        found = {k: self._found[k] for k in keys if k in self._found}
        missing = [k for k in keys if k not in self._looked_up]
        return found | self._lookup(missing, set()) if missing else found

    def _lookup(self, keys: list[str], given: set[str]) -> dict[str, Existing]:
        """The stored raw rows of `keys`, adding to `given` those an earlier batch of this run
        left as they were: one query, its keys one parameter (as `bulk.among` sends them),
        sent as SQL text through the driver's cursor (a result row object per row costs more
        than the lookup)."""
        self._looked_up = set(keys)
        if not keys:
            return {}
        connection = self.session.connection()
        postgres = connection.dialect.name == "postgresql"
        sql = LOOKUP_POSTGRES if postgres else LOOKUP_SQLITE
        found: dict[str, Existing] = {}
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql, (self.run_id, self.source_id, keys if postgres else dumps(keys)))
            for key, seen, *rest in cursor.fetchall():
                found[key] = Existing(*rest)
                if seen:
                    given.add(key)
        finally:
            cursor.close()
        return found

    def _remember(self, raw_ids: list[int]) -> None:
        """These raw records were left as they were by this run, for its later batches."""
        if not raw_ids:
            return
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            sql, ids = REMEMBER_POSTGRES, raw_ids
        else:
            sql, ids = REMEMBER_SQLITE, dumps(raw_ids)
        connection.exec_driver_sql(sql, (self.run_id, ids))

    def _unchanged(self, entry: RosterEntry | RosterRow, stored: Existing) -> bool:
        """The store holds what the row says, written by an earlier run (a row this run wrote
        is left to the repeat rules)."""
        return stored.digest == fingerprint(entry) and stored.run_id != self.run_id

    def _repeats(self, repeated: list[tuple[RosterEntry | RosterRow, Existing]]) -> Repeats:
        """Each row a repeat of the stored row its key's first row this run left as it was;
        one that says otherwise is parsed to be compared (and quarantined if unreadable)."""
        repeats = Repeats()
        differing = [(_parsed(e), s) for e, s in repeated if s.digest != fingerprint(e)]
        raw_ids = [s.raw_id for e, s in differing if not isinstance(e, Rejected)]
        payloads: dict[int, Any] = payloads_of(self.session, raw_ids) if raw_ids else {}
        for entry, stored in differing:
            if isinstance(entry, Rejected):
                repeats.conflicting.append(entry)
            else:
                repeats.add(entry, stored.digest, stored.location, payloads.get(stored.raw_id, {}))
        repeats.identical += len(repeated) - len(differing)
        return repeats


def _parsed(record: Record | RosterRow) -> Record:
    """The record, a roster row parsed (into its entry, or the reason it cannot be read)."""
    return record.parse() if isinstance(record, RosterRow) else record


def forget_seen(session: Session, run_id: int) -> None:
    """Drop what `roster_seen` holds for the run, which is ending (a Core statement: the ORM's
    would fetch every key it deletes to keep its session in step)."""
    seen = RosterSeen.__table__
    session.connection().execute(delete(seen).where(seen.c.run_id == run_id))


def forget_ended(session: Session) -> None:
    """Drop what `roster_seen` holds for runs no longer running (a run that died holds its
    rows until the next run of its source marks it abandoned)."""
    running = select(SyncRun.id).where(SyncRun.status == RUNNING)
    seen = RosterSeen.__table__
    session.connection().execute(delete(seen).where(seen.c.run_id.not_in(running)))
