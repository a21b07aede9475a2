"""Records a run has already given (the same source id): stored once, or quarantined if they differ.

Vendor exports of overlapping periods repeat rows. A repeat that says the same as the earlier
record is the same record: it is written once and counted. A repeat that says something else
(other hours, say) is quarantined with its line and the earlier one's, and the first stands,
so a file loads the same whatever its batch boundaries, and rereading it changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cache
from operator import attrgetter
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from onemind.domain.records import Rejected
from onemind.store.models import RawRecord
from onemind.store.raw_keys import Existing, Stored


@dataclass
class Repeats:
    """What a batch repeated: how many records matched an earlier one, and those that did not."""

    identical: int = 0
    conflicting: list[Rejected] = field(default_factory=list)

    def add(self, record: Any, digest: str, location: str, payload: dict[str, Any]) -> None:
        """Count `record`, a repeat of the one at `location` with this digest and payload."""
        if fingerprint(record) == digest or record.payload == payload:
            self.identical += 1
        else:
            self.conflicting.append(conflict(record, location, payload))


def first_of_each(records: list[Any]) -> tuple[dict[str, Any], Repeats]:
    """The first record of each source id, in order, and what the others repeated."""
    first: dict[str, Any] = {}
    repeats = Repeats()
    for record in records:
        earlier = first.setdefault(record.external_id, record)
        if earlier is not record:
            repeats.add(record, fingerprint(earlier), earlier.location, earlier.payload)
    return first, repeats


def conflict(record: Any, location: str, payload: dict[str, Any]) -> Rejected:
    """`record` repeats the one at `location` with another payload: name the keys that differ."""
    ours = record.payload
    differing = sorted(k for k in ours.keys() | payload.keys() if ours.get(k) != payload.get(k))
    return Rejected(
        record.location,
        f"repeats {location} with other {', '.join(differing)}; the first is kept",
        ours,
    )


def fingerprint(record: Any) -> str:
    """What the record says, as a digest: equal digests mean nothing to update.

    `repr` of the fields is deterministic for the same parsed input and several times cheaper
    than canonical JSON; a source that reorders keys only causes a harmless rewrite. A payload
    kept as the source's JSON text (`payload_text`) is hashed as that text, sparing the `repr`
    of a nested payload. A digest the connector gave (`digest`, of the row as read) is used
    as it is.
    """
    given = getattr(record, "digest", None)
    if given is not None:
        return given
    return own_fingerprint(record)


def own_fingerprint(record: Any) -> str:
    """`fingerprint` of the record's values, a digest its connector gave left out: what the
    store kept for a file's completion before the connector digested its row."""
    text = getattr(record, "payload_text", None)
    if text is None:
        return hashlib.sha256(repr(_values_of(type(record))(record)).encode()).hexdigest()
    values = _values_of(type(record), "payload")(record)
    return hashlib.sha256(f"{values!r}{text}".encode()).hexdigest()


@cache
def _values_of(kind: type, *left_out: str) -> Callable[[Any], tuple[Any, ...]]:
    """A getter of the values a digest covers, as a tuple: every field of `kind` but the
    location, the payload's text, a given digest and `left_out`."""
    skipped = {"location", "payload_text", "digest", *left_out}
    names = [f.name for f in fields(kind) if f.name not in skipped]
    getter = attrgetter(*names)
    return getter if len(names) > 1 else lambda record: (getter(record),)


def redigested(
    latest: dict[str, Any],
    existing: dict[str, Existing],
    hashes: dict[str, str],
    result: dict[str, Stored],
) -> list[dict[str, Any]]:
    """Take as unchanged (in `result`) the records whose row digest differs from the stored
    digest only because that is the record's own (`own_fingerprint`), kept before its
    connector digested rows; the new digests to store for them."""
    digests = []
    for key, stored in existing.items():
        record = latest[key]
        if (
            result[key].changed
            and getattr(record, "digest", None) is not None
            and stored.digest == own_fingerprint(record)
        ):
            result[key] = Stored(stored.raw_id, False, False)
            digests.append({"b_id": stored.raw_id, "b_hash": hashes[key]})
    return digests


def set_digests(session: Session, rows: list[dict[str, Any]]) -> None:
    """Store each row's new digest: `b_hash` for the raw row of id `b_id`."""
    if rows:
        table = RawRecord.__table__
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(payload_hash=bindparam("b_hash")),
            rows,
        )
