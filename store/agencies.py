"""Agencies and attestations stated by files: created, updated, left and back, set-based.

An agency is stated by `[[agencies]]` in the configuration or by one agencies file; the
configuration wins, and a row for an agency another place states is quarantined naming both.
An agency its file no longer lists is marked inactive, never deleted: its people, completions
and snapshots stay, and it drops out of what covers every agency (reports, counts) until a
file lists it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from onemind.domain.records import (
    AgencyEntry,
    AttestationEntry,
    ListingEnd,
    Record,
    Rejected,
)
from onemind.store.models import Agency, Attestation, AuditEntry, RawRecord, Source
from onemind.store.repeats import first_of_each
from onemind.store.upsert import chunks, upsert
from onemind.store.writer import BatchStats, RecordWriter

CONFIG = "configuration"
"""`managed_by` of the agencies `[[agencies]]` states."""


def release(session: Session, configured: list[str]) -> None:
    """Agencies `[[agencies]]` no longer lists are left to the files: agencies files are read
    whole at their next sync (unchanged, they would be skipped, and the rows for these
    agencies they were refused before would stay unread)."""
    released = list(
        session.scalars(
            select(Agency.id).where(Agency.managed_by == CONFIG, Agency.id.not_in(configured))
        )
    )
    if not released:
        return
    for part in chunks(released):
        session.execute(update(Agency).where(Agency.id.in_(part)).values(managed_by=None))
    files = select(RawRecord.source_id).where(RawRecord.kind == "agency").distinct()
    session.execute(update(Source).where(Source.id.in_(files)).values(cursor=None))


def record_attestations(
    session: Session, entries: Sequence[AttestationEntry], now: datetime
) -> list[str]:
    """Record each attestation once, set-based; a new one, or new evidence, is audited.

    Returns the agencies whose attestations changed, for the caller to recompute.
    """
    wanted: dict[tuple[Any, ...], AttestationEntry] = {}
    for entry in entries:
        wanted.setdefault((entry.agency, entry.kind, entry.attested_on), entry)
    stored = _stored_evidence(session, sorted({e.agency for e in entries}))
    fresh = [e for key, e in wanted.items() if key not in stored]
    revised = [e for key, e in wanted.items() if key in stored and stored[key] != e.evidence]
    upsert(
        session,
        Attestation.__table__,
        [
            {
                "agency_id": e.agency,
                "kind": e.kind,
                "attested_on": e.attested_on,
                "evidence": e.evidence,
                "recorded_by": e.recorded_by,
                "recorded_at": now,
            }
            for e in fresh
        ],
        keys=["agency_id", "kind", "attested_on"],
    )
    for e in revised:
        session.execute(
            update(Attestation)
            .where(
                Attestation.agency_id == e.agency,
                Attestation.kind == e.kind,
                Attestation.attested_on == e.attested_on,
            )
            .values(evidence=e.evidence)
        )
    details = [
        (
            e.recorded_by,
            e.agency,
            {"kind": e.kind, "on": e.attested_on.isoformat(), "evidence": e.evidence},
        )
        for e in fresh + revised
    ]
    _audit(session, now, "attestation.record", details)
    return sorted({e.agency for e in fresh + revised})


def _stored_evidence(session: Session, agencies: list[str]) -> dict[tuple[Any, ...], str | None]:
    found: dict[tuple[Any, ...], str | None] = {}
    for part in chunks(agencies):
        rows = session.execute(
            select(
                Attestation.agency_id,
                Attestation.kind,
                Attestation.attested_on,
                Attestation.evidence,
            ).where(Attestation.agency_id.in_(part))
        )
        found.update({(a, k, on): evidence for a, k, on, evidence in rows})
    return found


def _audit(
    session: Session, now: datetime, action: str, entries: Iterable[tuple[str, str, dict[str, Any]]]
) -> None:
    """Audit entries (actor, target, details) in one statement, in the change's transaction."""
    rows = [
        {"at": now, "actor": actor, "action": action, "target": target, "details": details}
        for actor, target, details in entries
    ]
    if rows:
        session.execute(insert(AuditEntry), rows)


class AgencyWriter(RecordWriter):
    """Writes the records of an agencies file or an attestation file, within the caller's
    transaction: raw provenance first (as for every source), then agencies and attestations."""

    def write(self, records: Sequence[Record]) -> BatchStats:
        stats = BatchStats(fetched=sum(not isinstance(r, ListingEnd) for r in records))
        rejected = [r for r in records if isinstance(r, Rejected)]
        for kind, group in (
            ("agency", [r for r in records if isinstance(r, AgencyEntry)]),
            ("attestation", [r for r in records if isinstance(r, AttestationEntry)]),
        ):
            latest, repeats = first_of_each(group)
            existing = self._existing(list(latest))
            self._drop_written_this_run(latest, existing, repeats)
            stats.repeated += repeats.identical
            rejected.extend(repeats.conflicting)
            stated = self._stated_by(list(latest)) if kind == "agency" else {}
            for key, reason in self._refusals(kind, latest, stated).items():
                entry = latest.pop(key)
                existing.pop(key, None)
                rejected.append(Rejected(entry.location, reason, entry.payload))
            stored = self._store_raw(kind, latest, existing)
            stats.new += sum(s.new for s in stored.values())
            stats.updated += sum(s.changed and not s.new for s in stored.values())
            mine = (self.source_name, True)
            self._take(
                [e for k, e in latest.items() if stored[k].changed or stated.get(k, mine) != mine],
                stated,
            )
        self._still_listed(rejected)
        stats.quarantined = self.quarantine(rejected)
        if any(isinstance(r, ListingEnd) for r in records):
            self._mark_left()
        return stats

    @cached_property
    def source_name(self) -> str:
        return self.session.get_one(Source, self.source_id).name

    def _refusals(
        self, kind: str, latest: dict[str, Any], stated: dict[str, tuple[str | None, bool]]
    ) -> dict[str, str]:
        """Why records cannot be taken, by key: an agency another place states (`stated`: who
        states each stored agency, and whether it is active), an attestation of an agency the
        store does not know."""
        if kind == "attestation":
            return {
                key: f"agency: unknown agency {entry.agency!r}: list it in an agencies file "
                "or in [[agencies]]"
                for key, entry in latest.items()
                if entry.agency not in self.agencies
            }
        mine = self.source_name
        refusals = {}
        for key in latest:
            by, active = stated.get(key, (None, False))
            if by == CONFIG:
                refusals[key] = (
                    f"id: agency {key!r} is in [[agencies]] of the configuration too, which "
                    "wins; remove it from one of the two"
                )
            elif by not in (None, mine) and active:
                refusals[key] = (
                    f"id: agency {key!r} is listed by source {by!r} too; remove it from one of "
                    "the two files"
                )
        return refusals

    def _stated_by(self, ids: list[str]) -> dict[str, tuple[str | None, bool]]:
        found: dict[str, tuple[str | None, bool]] = {}
        for part in chunks(ids):
            rows = self.session.execute(
                select(Agency.id, Agency.managed_by, Agency.active).where(Agency.id.in_(part))
            )
            found.update({agency: (by, active) for agency, by, active in rows})
        return found

    def _take(self, entries: list[Any], stated: dict[str, tuple[str | None, bool]]) -> None:
        """Agencies created or updated and made active (back, if they had left, or taken over
        from a place that no longer states them); attestations. `entries`: the new or changed
        rows, and the rows of agencies not yet active under this source."""
        agencies = [e for e in entries if isinstance(e, AgencyEntry)]
        attestations = [e for e in entries if isinstance(e, AttestationEntry)]
        attestations += [a for e in agencies for a in e.attestations]
        if agencies:
            back = [e.external_id for e in agencies if not stated.get(e.external_id, ("", True))[1]]
            _audit(self.session, self.now, "agency.return", self._lifecycle(back))
            rows = [self._agency_row(e) for e in agencies]
            stated_columns = [column for column in rows[0] if column != "id"]
            upsert(self.session, Agency.__table__, rows, keys=["id"], update=stated_columns)
        record_attestations(self.session, attestations, self.now)

    def _agency_row(self, entry: AgencyEntry) -> dict[str, Any]:
        return {
            "id": entry.external_id,
            "name": entry.name,
            "program": entry.program,
            "pledged_on": entry.pledged_on,
            "deadline_months": entry.deadline_months,
            "region": entry.region,
            "report_to": list(entry.report_to),
            "active": True,
            "managed_by": self.source_name,
        }

    def _lifecycle(self, ids: Iterable[str]) -> list[tuple[str, str, dict[str, Any]]]:
        actor = f"source:{self.source_name}"
        return [(actor, agency, {"source": self.source_name}) for agency in sorted(ids)]

    def _still_listed(self, rejected: list[Rejected]) -> None:
        """A bad row of an agency the file listed before keeps it listed, as it was."""
        ids = sorted({str(r.payload.get("id")) for r in rejected if r.payload.get("id")})
        for part in chunks(ids):
            self.session.execute(
                update(RawRecord)
                .where(
                    RawRecord.source_id == self.source_id,
                    RawRecord.kind == "agency",
                    RawRecord.external_id.in_(part),
                )
                .values(last_run_id=self.run_id)
            )

    def _mark_left(self) -> None:
        """The file was read whole: its agencies it did not list this run have left it."""
        listed = select(RawRecord.external_id).where(
            RawRecord.source_id == self.source_id,
            RawRecord.kind == "agency",
            RawRecord.last_run_id == self.run_id,
        )
        left = list(
            self.session.scalars(
                select(Agency.id).where(
                    Agency.managed_by == self.source_name,
                    Agency.active,
                    Agency.id.not_in(listed),
                )
            )
        )
        for part in chunks(left):
            self.session.execute(update(Agency).where(Agency.id.in_(part)).values(active=False))
        _audit(self.session, self.now, "agency.leave", self._lifecycle(left))
