"""A file source's batches: a row whose digest the store holds already is set aside.

A nightly roster or completions file is mostly what the store holds. Each row comes with the
digest of its cells (see `RosterEntry.digest`); a row whose stored raw record has that digest
changes nothing, so it is neither parsed, screened, rewritten nor applied, and its raw record
is left as it is (rewriting a row per person, or per completion, every night is most of the
cost of a re-sync: a completions export repeats every completion it ever gave). The
run's `StoredDigests` find those rows without a query and remember, for the rest of the run,
which were set aside, so that a later row of the same key is still a repeat of it, identical
or quarantined, as the records of one run are elsewhere. The other rows (new, changed, or
repeating one the run wrote) are looked up by key, one query a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from onemind.domain.records import (
    CompletionRecord,
    CompletionRow,
    Record,
    Rejected,
    RosterEntry,
    RosterRow,
    UnparsedRow,
    parsed,
)
from onemind.store.payloads import payloads_of
from onemind.store.raw_keys import Existing
from onemind.store.repeats import Repeats, fingerprint
from onemind.store.stored_digests import StoredDigests
from onemind.store.writer import BatchStats, RecordWriter

Digested = RosterEntry | RosterRow | CompletionRecord | CompletionRow
COMPLETIONS = (CompletionRecord, CompletionRow)
ROSTER = (RosterEntry, RosterRow)


class SetAsideWriter(RecordWriter):
    """RecordWriter for a file's roster or completion rows that sets aside those the store
    holds as they are.

    `digests` are the run's: one for all its transactions. A load told `unlooked`, or whose
    source held no digested row when it began (a first load), writes as RecordWriter does:
    it has nothing to set aside.
    """

    def __init__(self, *args: Any, digests: StoredDigests, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.digests = digests
        self._found: dict[str, Existing] = {}
        self._looked_up: set[str] = set()

    def write(self, records: Sequence[Record | UnparsedRow]) -> BatchStats:
        """Store a batch; rows the store holds as they are count as fetched, nothing else."""
        if not self.unlooked:
            self.digests.load(self.session.connection(), self.source_id)
        if self.unlooked or not self.digests.raw_ids:
            self._found, self._looked_up = {}, set()  # what an earlier batch looked up is stale
            return super().write([parsed(r) for r in records])
        left, repeats = self._set_aside(records)
        stats = super().write([*left, *repeats.conflicting])
        stats.fetched = len(records)
        stats.repeated += repeats.identical
        return stats

    def _set_aside(self, records: Sequence[Record | UnparsedRow]) -> tuple[list[Record], Repeats]:
        """The records still to write, parsed, and the repeats of rows found unchanged this
        run (a row set aside is never parsed: its digest says it gives what is stored). A
        roster row of an agency not configured is left to be rejected."""
        entries: list[Digested] = [
            r
            for r in records
            if isinstance(r, COMPLETIONS) or (isinstance(r, ROSTER) and r.agency in self.agencies)
        ]
        first: dict[str, Digested] = {}
        for entry in entries:
            first.setdefault(entry.external_id, entry)
        aside, identical, rest = self._found_unchanged(entries, first)
        existing = self._found = self._lookup(list({e.external_id: e for e in rest}))
        repeated: list[tuple[Digested, Existing]] = []
        for entry in rest:
            stored = existing.get(entry.external_id)
            if stored is None:
                continue
            if self.digests.was_seen(stored.digest, stored.raw_id):
                repeated.append((entry, stored))
            elif first[entry.external_id] is entry and self._unchanged(entry, stored):
                self.digests.mark_seen(stored.digest, stored.raw_id)
            else:
                self.digests.written.add(stored.raw_id)
                continue
            aside.add(id(entry))
        left = [parsed(r) for r in records if id(r) not in aside]
        repeats = self._repeats(repeated)
        repeats.identical += identical
        return left, repeats

    def _found_unchanged(
        self, entries: list[Digested], first: dict[str, Digested]
    ) -> tuple[set[int], int, list[Digested]]:
        """The rows set aside by their digest alone (the first of their key in the batch, or
        an identical repeat of a row set aside), how many of them are repeats, and the rest."""
        digests = self.digests
        aside: set[int] = set()
        identical = 0
        rest: list[Digested] = []
        indexes = digests.set_aside([fingerprint(e) for e in entries])
        for entry, index in zip(entries, indexes, strict=True):
            if index < 0:
                rest.append(entry)
            elif digests.seen[index]:
                identical += 1
                aside.add(id(entry))
            elif first[entry.external_id] is entry:
                digests.seen[index] = 1
                aside.add(id(entry))
            else:
                rest.append(entry)
        return aside, identical, rest

    def _existing(self, keys: list[str]) -> dict[str, Existing]:
        """The stored rows of `keys`, those this batch looked up already taken as found."""
        found = {k: self._found[k] for k in keys if k in self._found}
        missing = [k for k in keys if k not in self._looked_up]
        return found | self._lookup(missing) if missing else found

    def _lookup(self, keys: list[str]) -> dict[str, Existing]:
        """The stored raw rows of `keys`, noted as this batch's looked up."""
        self._looked_up = set(keys)
        return super()._existing(keys)

    def _unchanged(self, entry: Digested, stored: Existing) -> bool:
        """The store holds what the row says, written by an earlier run (a row this run wrote
        is left to the repeat rules)."""
        return stored.digest == fingerprint(entry) and stored.run_id != self.run_id

    def _repeats(self, repeated: list[tuple[Digested, Existing]]) -> Repeats:
        """Each row a repeat of the stored row its key's first row this run left as it was;
        one that says otherwise is parsed to be compared (and quarantined if unreadable)."""
        repeats = Repeats()
        differing = [(parsed(e), s) for e, s in repeated if s.digest != fingerprint(e)]
        raw_ids = [s.raw_id for e, s in differing if not isinstance(e, Rejected)]
        payloads: dict[int, Any] = payloads_of(self.session, raw_ids) if raw_ids else {}
        for entry, stored in differing:
            if isinstance(entry, Rejected):
                repeats.conflicting.append(entry)
            else:
                repeats.add(entry, stored.digest, stored.location, payloads.get(stored.raw_id, {}))
        repeats.identical += len(repeated) - len(differing)
        return repeats
