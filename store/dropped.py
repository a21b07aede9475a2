"""What the sources gave that counts for no one: quarantined records, unmatched completions."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from onemind.store.models import Completion, QuarantinedRecord, RawRecord, Source

VALUES = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\b\d{4}-\d{2}-\d{2}\b")
"""What differs from one record to the next in a reason: quoted values and dates."""
FILE_LINE = re.compile(r"^(?P<file>[^:#]+?)(?::| #)(?P<line>\d+)\b")
"""`file.csv:12` (a row of a file), `file.json #3 (statement …)` (a statement of a file)."""


def reason_kind(reason: str) -> str:
    """A reason with its values taken out, so that records failing alike are counted together."""
    return VALUES.sub(lambda m: "'…'" if m.group(0)[0] in "'\"" else "…", reason)


def top_reasons(session: Session, run_id: int, limit: int = 3) -> list[tuple[str, int]]:
    """The commonest kinds of reason the run quarantined records for, with their counts."""
    rows = session.execute(
        select(QuarantinedRecord.reason, func.count())
        .where(QuarantinedRecord.run_id == run_id)
        .group_by(QuarantinedRecord.reason)
    )
    kinds: Counter[str] = Counter()
    for reason, count in rows:
        kinds[reason_kind(reason)] += count
    return kinds.most_common(limit)


def counted(reasons: list[tuple[str, int]]) -> list[str]:
    """Each reason led by how many records it was given for (and a multiplication sign)."""
    return [f"{count}\u00d7 {reason}" for reason, count in reasons]


def file_and_line(location: str) -> tuple[str | None, int | None]:
    """The file and line (or statement number) a location names, if it names one."""
    found = FILE_LINE.match(location)
    return (found["file"], int(found["line"])) if found else (None, None)


class Located:
    """A record's `source` and `location`, read as a file and line where it names them."""

    source: str
    location: str

    def where(self) -> dict[str, Any]:
        """Where the record came from, as the JSON listings give it."""
        return {
            "source": self.source,
            "location": self.location,
            "file": self.file,
            "line": self.line,
        }

    @property
    def file(self) -> str | None:
        return file_and_line(self.location)[0]

    @property
    def line(self) -> int | None:
        return file_and_line(self.location)[1]


@dataclass(frozen=True)
class DroppedRecord(Located):
    """A record a source gave that was quarantined, and why."""

    source: str
    location: str
    reason: str
    run_id: int | None
    first_seen: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            **self.where(),
            "reason": self.reason,
            "run": self.run_id,
            "first_seen": self.first_seen.isoformat(),
        }


def quarantined_records(session: Session, source: str | None = None) -> list[DroppedRecord]:
    """Every quarantined record (of one source, if named), by source and in the order found."""
    query = (
        select(
            Source.name,
            QuarantinedRecord.location,
            QuarantinedRecord.reason,
            QuarantinedRecord.run_id,
            QuarantinedRecord.created_at,
        )
        .join(Source, Source.id == QuarantinedRecord.source_id)
        .order_by(Source.name, QuarantinedRecord.id)
    )
    if source is not None:
        query = query.where(Source.name == source)
    return [DroppedRecord(*row) for row in session.execute(query)]


@dataclass(frozen=True)
class UnmatchedRecord(Located):
    """A completion no roster person was found for: what names the person, and where it is."""

    source: str
    location: str
    employee_id: str | None
    agency: str | None
    email: str | None
    mbox_sha1sum: str | None
    account: str | None
    course: str
    completed_on: date

    @property
    def reason(self) -> str:
        keys = []
        if self.employee_id:
            at = f" at {self.agency}" if self.agency else ""
            keys.append(f"employee id {self.employee_id!r}{at}")
        keys += [
            f"{name} {value!r}"
            for name, value in (
                ("email", self.email),
                ("mbox_sha1sum", self.mbox_sha1sum),
                ("account", self.account),
            )
            if value
        ]
        if not keys:
            return "the record names no one"
        return "no one on the roster has " + " or ".join(keys)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.where(),
            "employee_id": self.employee_id,
            "agency": self.agency,
            "email": self.email,
            "mbox_sha1sum": self.mbox_sha1sum,
            "account": self.account,
            "course": self.course,
            "completed_on": self.completed_on.isoformat(),
            "reason": self.reason,
        }


def unmatched_records(session: Session) -> list[UnmatchedRecord]:
    """Every completion not matched to a roster person, by source and in the order stored."""
    return [UnmatchedRecord(*row) for row in session.execute(_unmatched())]


def _unmatched() -> Select[Any]:
    return (
        select(
            Source.name,
            RawRecord.location,
            Completion.employee_id,
            Completion.agency_hint,
            Completion.email,
            Completion.mbox_sha1sum,
            Completion.account,
            Completion.course_key,
            Completion.completed_on,
        )
        .join(Source, Source.id == Completion.source_id)
        .join(RawRecord, RawRecord.id == Completion.raw_record_id)
        .where(Completion.person_id.is_(None))
        .order_by(Source.name, Completion.id)
    )
