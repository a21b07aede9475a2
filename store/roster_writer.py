"""A roster source's batches: a row whose digest the store holds already is set aside.

A nightly roster file is mostly what the store holds. Each row comes with the digest of its
cells (see `RosterEntry.digest`); a row whose stored raw record has that digest changes
nothing, so it is neither screened, rewritten nor applied, and its raw record is left as it
is (rewriting a row per person every night is most of the cost of a re-sync). The keys of
those rows are remembered for the rest of the run, so that a later row of the same key is
still a repeat of it, identical or quarantined, as the records of one run are elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from onemind.domain.records import Record, RosterEntry
from onemind.store.payloads import payloads_of
from onemind.store.repeats import Repeats, fingerprint
from onemind.store.upsert import chunks
from onemind.store.writer import BatchStats, Existing, RecordWriter

LOOKUP = (
    "SELECT external_id, id, payload_hash, last_run_id, location FROM raw_record"
    " WHERE source_id = {mark} AND external_id {keys}"
)


class RosterWriter(RecordWriter):
    """RecordWriter for roster rows; `given` holds the keys this run found unchanged so far
    (one set for the whole pull, passed to each transaction's writer)."""

    def __init__(self, *args: Any, given: set[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.given = set() if given is None else given
        self._found: dict[str, Existing] = {}
        self._looked_up: set[str] = set()

    def write(self, records: Sequence[Record]) -> BatchStats:
        """Store a batch; rows the store holds as they are count as fetched, nothing else."""
        left, repeats = self._set_aside(records)
        stats = super().write([*left, *repeats.conflicting])
        stats.fetched = len(records)
        stats.repeated += repeats.identical
        return stats

    def _set_aside(self, records: Sequence[Record]) -> tuple[list[Record], Repeats]:
        """The records still to write, and the repeats of rows found unchanged this run."""
        entries = [r for r in records if isinstance(r, RosterEntry) and r.agency in self.agencies]
        first: dict[str, RosterEntry] = {}
        for entry in entries:
            first.setdefault(entry.external_id, entry)
        existing = self._found = self._lookup(list(first))
        aside: set[int] = set()
        repeated: list[tuple[RosterEntry, Existing]] = []
        for entry in entries:
            key = entry.external_id
            stored = existing.get(key)
            if stored is None:
                continue
            if key in self.given:
                repeated.append((entry, stored))
            elif first[key] is entry and self._unchanged(entry, stored):
                self.given.add(key)
            else:
                continue
            aside.add(id(entry))
        return [r for r in records if id(r) not in aside], self._repeats(repeated)

    def _existing(self, keys: list[str]) -> dict[str, Existing]:
        """The stored rows of `keys`, those this batch looked up already taken as found."""
        found = {k: self._found[k] for k in keys if k in self._found}
        missing = [k for k in keys if k not in self._looked_up]
        return found | self._lookup(missing) if missing else found

    def _lookup(self, keys: list[str]) -> dict[str, Existing]:
        """The stored raw rows of `keys`: on PostgreSQL one array parameter, elsewhere IN
        lists of `chunks`, each sent as SQL text through the driver's cursor (compiling
        thousands of parameters, and a result row object per row, cost more than the lookup)."""
        self._looked_up = set(keys)
        if not keys:
            return {}
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            parts = [(LOOKUP.format(mark="%s", keys="= ANY(%s)"), (self.source_id, keys))]
        else:
            parts = [
                (
                    LOOKUP.format(mark="?", keys=f"IN ({', '.join('?' * len(p))})"),
                    (self.source_id, *p),
                )
                for p in chunks(keys)
            ]
        found: dict[str, Existing] = {}
        cursor = connection.connection.cursor()
        try:
            for sql, params in parts:
                cursor.execute(sql, params)
                found.update({key: Existing(*rest) for key, *rest in cursor.fetchall()})
        finally:
            cursor.close()
        return found

    def _unchanged(self, entry: RosterEntry, stored: Existing) -> bool:
        """The store holds what the row says, written by an earlier run (a row this run wrote
        is left to the repeat rules)."""
        return stored.digest == fingerprint(entry) and stored.run_id != self.run_id

    def _repeats(self, repeated: list[tuple[RosterEntry, Existing]]) -> Repeats:
        """Each row a repeat of the stored row its key's first row this run left as it was."""
        repeats = Repeats()
        differing = [s.raw_id for e, s in repeated if s.digest != fingerprint(e)]
        payloads: dict[int, Any] = payloads_of(self.session, differing) if differing else {}
        for entry, stored in repeated:
            repeats.add(entry, stored.digest, stored.location, payloads.get(stored.raw_id, {}))
        return repeats
