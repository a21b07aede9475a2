"""Writes one batch of pulled records: raw provenance first, then the domain rows."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from onemind.domain.records import CompletionRecord, Record, Rejected, RosterEntry, VoidRecord
from onemind.store.bulk import allocate_ids
from onemind.store.classify import Classifier
from onemind.store.db import savepoint
from onemind.store.linking import people_of
from onemind.store.load_statements import REVISE, REVISED, statements
from onemind.store.models import QuarantinedRecord, RawRecord, Voiding
from onemind.store.payloads import payloads_of, store_batch
from onemind.store.raw_keys import Existing, Stored, stored_rows, takes_a_stored_key
from onemind.store.repeats import Repeats, fingerprint, first_of_each, redigested, set_digests
from onemind.store.roster import apply_roster
from onemind.store.screening import kept, screen
from onemind.store.upsert import chunks, upsert

log = logging.getLogger(__name__)


@dataclass
class BatchStats:
    fetched: int = 0
    new: int = 0
    updated: int = 0
    voided: int = 0
    quarantined: int = 0
    repeated: int = 0

    def add(self, other: BatchStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


class RecordWriter:
    """Turns records of one source into rows, within the caller's transaction."""

    def __init__(
        self,
        session: Session,
        source_id: int,
        run_id: int,
        now: datetime,
        agencies: set[str],
        default_agency: str | None = None,
        unlooked: bool = False,
    ) -> None:
        self.session = session
        self.source_id = source_id
        self.run_id = run_id
        self.now = now
        self.agencies = agencies
        self.default_agency = default_agency
        self.unlooked = unlooked
        self.classifier: Classifier | None = None

    def write(self, records: Sequence[Record]) -> BatchStats:
        """Store a batch. A record the store cannot keep, or a repeat of one this run gave
        before with other values, is quarantined; an identical repeat is counted."""
        stats = BatchStats(fetched=len(records))
        today = self.now.date()
        records = [screen(r, today) for r in records]
        rejected = [r for r in records if isinstance(r, Rejected)]
        roster = self._known_agencies([r for r in records if isinstance(r, RosterEntry)], rejected)
        completions = [r for r in records if isinstance(r, CompletionRecord)]
        voids = [r for r in records if isinstance(r, VoidRecord)]
        for kind, group in (("roster", roster), ("completion", completions), ("void", voids)):
            repeats, stored = self._write_kind(kind, group)
            stats.repeated += repeats.identical
            rejected.extend(repeats.conflicting)
            stats.new += sum(s.new for s in stored.values())
            stats.updated += sum(s.changed and not s.new for s in stored.values())
            if kind == "void":
                stats.voided += sum(s.new for s in stored.values())
        stats.quarantined = self.quarantine(rejected)
        return stats

    def _write_kind(self, kind: str, group: list[Any]) -> tuple[Repeats, dict[str, Stored]]:
        """Write one kind of record: raw rows first, then the domain rows of those new or
        changed.

        A load told `unlooked` (a first load on PostgreSQL: see `raw_keys.inserts_unlooked`)
        does not look its keys up. The rows are inserted at once, in a savepoint begun before
        any of them is sent (`db.savepoint`); a key an earlier batch of the run took fails the
        insert, and the batch is written again, looked up, as on any other run.
        """
        if self.unlooked and group:
            try:
                with savepoint(self.session):
                    return self._write_looked_up(kind, group, lookup=False)
            except Exception as exc:  # COPY raises the driver's own error, not SQLAlchemy's
                if not takes_a_stored_key(exc):
                    raise
        return self._write_looked_up(kind, group, lookup=True)

    def _write_looked_up(
        self, kind: str, group: list[Any], lookup: bool
    ) -> tuple[Repeats, dict[str, Stored]]:
        latest, repeats = first_of_each(group)
        existing = self._existing(list(latest)) if lookup else {}
        self._drop_written_this_run(latest, existing, repeats)
        stored = self._store_raw(kind, latest, existing)
        self._apply(kind, list(latest.values()), stored)
        return repeats, stored

    def _drop_written_this_run(
        self, latest: dict[str, Any], existing: dict[str, Existing], repeats: Repeats
    ) -> None:
        """Take out of `latest` (and `existing`) the records an earlier batch of this run wrote."""
        earlier = {k: e for k, e in existing.items() if e.run_id == self.run_id}
        if not earlier:
            return
        differing = [e.raw_id for k, e in earlier.items() if e.digest != fingerprint(latest[k])]
        payloads = payloads_of(self.session, differing)
        for key, stored in earlier.items():
            del existing[key]
            record = latest.pop(key)
            repeats.add(record, stored.digest, stored.location, payloads.get(stored.raw_id, {}))

    def _known_agencies(
        self, entries: list[RosterEntry], rejected: list[Rejected]
    ) -> list[RosterEntry]:
        known = []
        for entry in entries:
            if entry.agency in self.agencies:
                known.append(entry)
            else:
                rejected.append(
                    Rejected(
                        entry.location,
                        f"unknown agency {entry.agency!r}: add it "
                        "to [[agencies]] in the configuration",
                        entry.payload,
                    )
                )
        return known

    def _apply(self, kind: str, group: list[Any], stored: dict[str, Stored]) -> None:
        changed = [r for r in group if stored[r.external_id].changed]
        if not changed:
            return
        if kind == "roster":
            apply_roster(
                self.session, changed, {k: s.raw_id for k, s in stored.items()}, self.source_id
            )
        elif kind == "completion":
            self._write_completions(changed, stored)
        else:
            upsert(
                self.session,
                Voiding.__table__,
                [
                    {
                        "source_id": self.source_id,
                        "target_external_id": r.target_external_id,
                        "raw_record_id": stored[r.external_id].raw_id,
                    }
                    for r in changed
                ],
                keys=["source_id", "target_external_id"],
            )

    def _store_raw(
        self, kind: str, latest: dict[str, Any], existing: dict[str, Existing]
    ) -> dict[str, Stored]:
        """Upsert raw rows keyed on (source, external id), the payloads of those new or
        changed kept as one batch; report which are new or changed."""
        if not latest:
            return {}
        hashes = {key: fingerprint(r) for key, r in latest.items()}
        result = {k: Stored(e.raw_id, e.digest != hashes[k], False) for k, e in existing.items()}
        set_digests(self.session, redigested(latest, existing, hashes, result))
        unchanged = [s.raw_id for s in result.values() if not s.changed]
        for ids in chunks(unchanged):
            self.session.execute(
                update(RawRecord)
                .where(RawRecord.id.in_(ids))
                .values(last_seen=self.now, last_run_id=self.run_id)
            )
        changed = [k for k, s in result.items() if s.changed]
        # Key order keeps the unique index's inserts close together.
        new = sorted(k for k in latest if k not in existing)
        if not changed and not new:
            return result
        connection = self.session.connection()
        payloads = [_payload(latest[k]) for k in (*changed, *new)]
        batch_id = store_batch(connection, self.source_id, self.run_id, payloads)
        if changed:
            table = RawRecord.__table__
            connection.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(
                    payload=None,
                    batch_id=batch_id,
                    batch_row=bindparam("b_row"),
                    payload_hash=bindparam("b_hash"),
                    location=bindparam("b_location"),
                    last_seen=self.now,
                    last_run_id=self.run_id,
                ),
                [
                    {
                        "b_id": result[key].raw_id,
                        "b_row": row,
                        "b_hash": hashes[key],
                        "b_location": latest[key].location[:500],
                    }
                    for row, key in enumerate(changed)
                ],
            )
        if new:
            records = [latest[k] for k in new]
            result.update(self._insert_raw(kind, records, hashes, batch_id, len(changed)))
        return result

    def _insert_raw(
        self, kind: str, records: list[Any], hashes: dict[str, str], batch_id: int, first_row: int
    ) -> dict[str, Stored]:
        connection = self.session.connection()
        ids = allocate_ids(connection, RawRecord.__table__, len(records))
        rows = [
            [raw_id, r.external_id, r.location[:500], hashes[r.external_id], row]
            for row, (raw_id, r) in enumerate(zip(ids, records, strict=True), start=first_row)
        ]
        fixed = {
            "source_id": self.source_id,
            "kind": kind,
            "first_seen": self.now,
            "last_seen": self.now,
            "first_run_id": self.run_id,
            "last_run_id": self.run_id,
            "batch_id": batch_id,
            "payload": None,
        }
        statements(connection.dialect).raw.execute(connection, rows, fixed)
        return {
            r.external_id: Stored(raw_id, True, True)
            for raw_id, r in zip(ids, records, strict=True)
        }

    def _existing(self, keys: list[str]) -> dict[str, Existing]:
        return stored_rows(self.session.connection(), self.source_id, keys)

    def _write_completions(
        self, records: list[CompletionRecord], stored: dict[str, Stored]
    ) -> None:
        """New completions are inserted; changed ones are rewritten, unlinked and unclassified,
        by one statement the driver runs for each (one statement a row, each compiled and
        run through the ORM, was a fifth of a nightly export's time)."""
        fresh = [r for r in records if stored[r.external_id].new]
        if fresh:
            self._insert_completions(fresh, [stored[r.external_id].raw_id for r in fresh])
        revised = [
            self._revised(stored[r.external_id].raw_id, r)
            for r in records
            if not stored[r.external_id].new
        ]
        if revised:
            self.session.connection().execute(REVISE, revised)

    def _insert_completions(self, records: list[CompletionRecord], raw_ids: list[int]) -> None:
        """Insert already linked and classified, sparing the after-load passes most of the work.

        Rows the database cannot link yet stay for `link_completions`, which applies the same
        rules.
        """
        connection = self.session.connection()
        compiled = statements(connection.dialect)
        if self.classifier is None:
            self.classifier = Classifier(self.session, self.now)
        decide = self.classifier.decide
        values = [self._completion_values(r) for r in records]
        people = people_of(self.session, [(v[1], v[0], v[2], v[3], v[4]) for v in values])
        source = self.source_id
        rows = [
            [
                raw_id,
                person_id,
                *row,
                *decide(
                    (source, r.course_key, r.course_title, r.hours, r.provider, r.activity_type),
                    r.completed_on,
                    r.expires_on,
                ),
            ]
            for raw_id, person_id, row, r in zip(raw_ids, people, values, records, strict=True)
        ]
        fixed = {"source_id": source, "voided": False, "classified_at": self.now}
        compiled.completion.execute(connection, rows, fixed)

    def _revised(self, raw_id: int, record: CompletionRecord) -> dict[str, Any]:
        """REVISE's parameters for the changed completion of `record`."""
        return dict(zip(REVISED, (raw_id, *self._completion_values(record)), strict=True))

    def _completion_values(self, r: CompletionRecord) -> list[Any]:
        """The record's values for COMPLETION_COLUMNS."""
        return [
            r.agency or self.default_agency,
            r.employee_id,
            r.email.strip().lower() if r.email else None,
            r.mbox_sha1sum,
            r.account,
            r.course_key,
            r.course_title,
            r.activity_type,
            r.provider,
            r.hours,
            r.completed_on,
            r.expires_on,
        ]

    def quarantine(self, rejected: list[Rejected]) -> int:
        """Keep each rejected record with its reason; the same problem is kept once.

        What is kept is made storable: NULs shown as U+FFFD, very long text cut.
        """
        upsert(
            self.session,
            QuarantinedRecord.__table__,
            [
                {
                    "source_id": self.source_id,
                    "run_id": self.run_id,
                    "location": kept(r.location)[:500],
                    "reason": kept(r.reason),
                    "payload": kept(r.payload),
                    "created_at": self.now,
                }
                for r in rejected
            ],
            keys=["source_id", "location", "reason"],
            update=["run_id"],  # the latest run that found the problem
        )
        for r in rejected:
            log.info("quarantined %s: %s", r.location, r.reason)
        return len(rejected)


def _payload(record: Record) -> dict[str, Any] | str:
    """What the raw batch keeps of a record: the source's JSON text where it was cleared."""
    return getattr(record, "payload_text", None) or record.payload
