"""Writes one batch of pulled records: raw provenance first, then the domain rows."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from onemind.domain.records import CompletionRecord, Record, Rejected, RosterEntry, VoidRecord
from onemind.store.bulk import BulkInsert, allocate_ids
from onemind.store.classify import Classifier
from onemind.store.linking import person_of
from onemind.store.models import Classification, Completion, QuarantinedRecord, RawRecord, Voiding
from onemind.store.roster import apply_roster
from onemind.store.upsert import chunks, upsert

log = logging.getLogger(__name__)

COMPLETION_COLUMNS = (
    "agency_hint",
    "employee_id",
    "email",
    "mbox_sha1sum",
    "account",
    "course_key",
    "course_title",
    "activity_type",
    "provider",
    "hours",
    "completed_on",
    "expires_on",
)


@dataclass
class BatchStats:
    fetched: int = 0
    new: int = 0
    updated: int = 0
    voided: int = 0
    quarantined: int = 0

    def add(self, other: BatchStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass(frozen=True, slots=True)
class Stored:
    """Where a record's raw row stands after the batch: its id and whether it changed."""

    raw_id: int
    changed: bool
    new: bool


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
    ) -> None:
        self.session = session
        self.source_id = source_id
        self.run_id = run_id
        self.now = now
        self.agencies = agencies
        self.default_agency = default_agency
        self.classifier: Classifier | None = None

    def write(self, records: Sequence[Record]) -> BatchStats:
        stats = BatchStats(fetched=len(records))
        rejected = [r for r in records if isinstance(r, Rejected)]
        roster = self._known_agencies([r for r in records if isinstance(r, RosterEntry)], rejected)
        completions = [r for r in records if isinstance(r, CompletionRecord)]
        voids = [r for r in records if isinstance(r, VoidRecord)]
        for kind, group in (("roster", roster), ("completion", completions), ("void", voids)):
            stored = self._store_raw(kind, group)
            stats.new += sum(s.new for s in stored.values())
            stats.updated += sum(s.changed and not s.new for s in stored.values())
            if kind == "void":
                stats.voided += sum(s.new for s in stored.values())
            self._apply(kind, group, stored)
        stats.quarantined = self.quarantine(rejected)
        return stats

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

    def _store_raw(self, kind: str, records: Sequence[Any]) -> dict[str, Stored]:
        """Upsert raw rows keyed on (source, external id); report which are new or changed."""
        latest = {r.external_id: r for r in records}
        if not latest:
            return {}
        hashes = {key: _fingerprint(r) for key, r in latest.items()}
        existing = self._existing(list(latest))
        unchanged = [
            existing[k][0] for k in latest if k in existing and existing[k][1] == hashes[k]
        ]
        for ids in chunks(unchanged):
            self.session.execute(
                update(RawRecord)
                .where(RawRecord.id.in_(ids))
                .values(last_seen=self.now, last_run_id=self.run_id)
            )
        result = {
            k: Stored(existing[k][0], False, False)
            for k in latest
            if k in existing and existing[k][1] == hashes[k]
        }
        changed = [k for k in latest if k in existing and existing[k][1] != hashes[k]]
        for key in changed:
            record = latest[key]
            self.session.execute(
                update(RawRecord)
                .where(RawRecord.id == existing[key][0])
                .values(
                    payload=record.payload,
                    payload_hash=hashes[key],
                    location=record.location,
                    last_seen=self.now,
                    last_run_id=self.run_id,
                )
            )
            result[key] = Stored(existing[key][0], True, False)
        new = sorted(k for k in latest if k not in existing)
        if new:
            # Key order keeps the unique index's inserts close together.
            result.update(self._insert_raw(kind, [latest[k] for k in new], hashes))
        return result

    def _insert_raw(
        self, kind: str, records: list[Any], hashes: dict[str, str]
    ) -> dict[str, Stored]:
        connection = self.session.connection()
        ids = allocate_ids(connection, RawRecord.__table__, len(records))
        rows = [
            [raw_id, r.external_id, r.location[:500], r.payload, hashes[r.external_id]]
            for raw_id, r in zip(ids, records, strict=True)
        ]
        fixed = {
            "source_id": self.source_id,
            "kind": kind,
            "first_seen": self.now,
            "last_seen": self.now,
            "first_run_id": self.run_id,
            "last_run_id": self.run_id,
        }
        _statements(connection.dialect).raw.execute(connection, rows, fixed)
        return {
            r.external_id: Stored(raw_id, True, True)
            for raw_id, r in zip(ids, records, strict=True)
        }

    def _existing(self, keys: list[str]) -> dict[str, tuple[int, str]]:
        found: dict[str, tuple[int, str]] = {}
        for part in chunks(keys):
            rows = self.session.execute(
                select(RawRecord.external_id, RawRecord.id, RawRecord.payload_hash).where(
                    RawRecord.source_id == self.source_id, RawRecord.external_id.in_(part)
                )
            )
            found.update({key: (raw_id, digest) for key, raw_id, digest in rows})
        return found

    def _write_completions(
        self, records: list[CompletionRecord], stored: dict[str, Stored]
    ) -> None:
        """New completions are inserted; changed ones are rewritten, unlinked and unclassified."""
        fresh = [r for r in records if stored[r.external_id].new]
        if fresh:
            self._insert_completions(fresh, [stored[r.external_id].raw_id for r in fresh])
        revised = [
            self._completion_row(r, stored[r.external_id].raw_id)
            for r in records
            if not stored[r.external_id].new
        ]
        for row in revised:
            self.session.execute(
                update(Completion)
                .where(Completion.raw_record_id == row["raw_record_id"])
                .values(person_id=None, **row)
            )
        revised_raw = [row["raw_record_id"] for row in revised]
        for ids in chunks(revised_raw):
            outdated = select(Completion.id).where(Completion.raw_record_id.in_(ids))
            self.session.execute(
                delete(Classification).where(Classification.completion_id.in_(outdated))
            )

    def _insert_completions(self, records: list[CompletionRecord], raw_ids: list[int]) -> None:
        """Insert already linked and classified, sparing the after-load passes most of the work.

        Rows the database cannot link yet stay for `link_completions`, which applies the same
        rules.
        """
        connection = self.session.connection()
        statements = _statements(connection.dialect)
        ids = allocate_ids(connection, Completion.__table__, len(records))
        if self.classifier is None:
            self.classifier = Classifier(self.session, self.now)
        decide = self.classifier.decide
        rows, decisions = [], []
        for completion_id, raw_id, r in zip(ids, raw_ids, records, strict=True):
            rows.append([completion_id, raw_id, *self._completion_values(r)])
            course = (self.source_id, r.course_key, r.course_title, r.hours, r.provider)
            decisions.append(
                [completion_id, *decide((*course, r.activity_type), r.completed_on, r.expires_on)]
            )
        statements.completion.execute(
            connection, rows, {"source_id": self.source_id, "voided": False}
        )
        statements.classification.execute(connection, decisions, {"classified_at": self.now})

    def _completion_row(self, record: CompletionRecord, raw_id: int) -> dict[str, Any]:
        row = dict(zip(COMPLETION_COLUMNS, self._completion_values(record), strict=True))
        return row | {"raw_record_id": raw_id, "source_id": self.source_id}

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
        """Keep each rejected record with its reason; the same problem is kept once."""
        upsert(
            self.session,
            QuarantinedRecord.__table__,
            [
                {
                    "source_id": self.source_id,
                    "run_id": self.run_id,
                    "location": r.location[:500],
                    "reason": r.reason,
                    "payload": r.payload,
                    "created_at": self.now,
                }
                for r in rejected
            ],
            keys=["source_id", "location", "reason"],
        )
        for r in rejected:
            log.info("quarantined %s: %s", r.location, r.reason)
        return len(rejected)


def _fingerprint(record: Any) -> str:
    """What the record says, as a digest: equal digests mean nothing to update.

    `repr` of the fields is deterministic for the same parsed input and several times cheaper
    than canonical JSON; a source that reorders keys only causes a harmless rewrite.
    """
    values = tuple(getattr(record, name) for name in _fields_of(type(record)))
    return hashlib.sha256(repr(values).encode()).hexdigest()


@cache
def _fields_of(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind) if f.name != "location")


@dataclass(frozen=True)
class Statements:
    raw: BulkInsert
    completion: BulkInsert
    classification: BulkInsert


@cache
def _statements(dialect: Dialect) -> Statements:
    """The load's inserts, compiled once per database; a completion is linked as it goes in."""
    keys = ("employee_id", "agency_hint", "email", "mbox_sha1sum", "account")
    return Statements(
        raw=BulkInsert(
            RawRecord.__table__,
            ("id", "external_id", "location", "payload", "payload_hash"),
            dialect,
            fixed=("source_id", "kind", "first_seen", "last_seen", "first_run_id", "last_run_id"),
        ),
        completion=BulkInsert(
            Completion.__table__,
            ("id", "raw_record_id", *COMPLETION_COLUMNS),
            dialect,
            fixed=("source_id", "voided"),
            expressions=lambda value: {"person_id": person_of(*map(value, keys))},
        ),
        classification=BulkInsert(
            Classification.__table__,
            ("completion_id", "category_id", "rule_id", "rule_version", "valid_until"),
            dialect,
            fixed=("classified_at",),
        ),
    )
