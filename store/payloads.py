"""Raw payloads kept per written batch: one compressed JSON array instead of a JSON row each.

A raw record names its batch and its row in it. One `json.dumps` of the whole batch and a fast
zlib level cost a fraction of encoding every payload on its own, and the store keeps a fifth
of the bytes. Older raw records keep their payload inline; `payloads_of` reads both.

A batch of a file's rows holds payloads of the same fields, one per row: those are kept as the
fields once and each row's values (`{"fields": [...], "rows": [[...], ...]}`), which packs in
about two thirds of the time of the same payloads as objects (a row of eight cells: 2.1-2.3
against 3.0-3.3 µs) and keeps 13 % fewer bytes. Any other batch is the array of its
payloads, as batches were before (migration 0028 writes them back so on a downgrade).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from onemind.store.bulk import allocate_ids
from onemind.store.models import RawBatch, RawRecord
from onemind.store.upsert import chunks

LEVEL = 1
"""zlib level: most of the saving at a small part of the time of the default level."""


def pack(payloads: Sequence[dict[str, Any] | str]) -> bytes:
    """The payloads as one compressed JSON array; a payload given as text is that JSON text
    already, as the source wrote it (and the store can keep it: see `screening`)."""
    if not any(type(p) is str for p in payloads):
        return zlib.compress(_json(_columns(payloads) or payloads).encode(), LEVEL)
    texts = [p if type(p) is str else _json(p) for p in payloads]
    return zlib.compress(f"[{','.join(texts)}]".encode(), LEVEL)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _columns(payloads: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The payloads as their fields and each one's values, when they all have the same fields
    (more than one payload, more than one field); else None."""
    if len(payloads) < 2:
        return None
    fields = payloads[0].keys()
    if len(fields) < 2 or not all(p.keys() == fields for p in payloads):
        return None
    names = list(fields)
    return {"fields": names, "rows": list(map(itemgetter(*names), payloads))}


def unpack(packed: bytes) -> list[dict[str, Any]]:
    """The payloads of a batch, as `pack` was given them."""
    kept = json.loads(zlib.decompress(packed))
    if type(kept) is list:
        return kept
    names = kept["fields"]
    return [dict(zip(names, row, strict=True)) for row in kept["rows"]]


def store_batch(
    connection: Connection, source_id: int, run_id: int, payloads: Sequence[dict[str, Any] | str]
) -> int:
    """Keep `payloads` (as `pack` takes them) as one new batch; its id, by which raw records
    name it."""
    (batch_id,) = allocate_ids(connection, RawBatch.__table__, 1)
    connection.execute(
        RawBatch.__table__.insert().values(
            id=batch_id, source_id=source_id, run_id=run_id, payloads=pack(payloads)
        )
    )
    return batch_id


def payloads_of(session: Session, raw_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The payload of each of these raw records, inline or from its batch."""
    found: dict[int, dict[str, Any]] = {}
    placed: dict[int, list[tuple[int, int]]] = {}
    for part in chunks(raw_ids):
        rows = session.execute(
            select(RawRecord.id, RawRecord.payload, RawRecord.batch_id, RawRecord.batch_row).where(
                RawRecord.id.in_(part)
            )
        )
        for raw_id, payload, batch_id, row in rows:
            if batch_id is None:
                found[raw_id] = payload
            else:
                placed.setdefault(batch_id, []).append((raw_id, row))
    for batch_id, members in placed.items():
        packed = session.scalars(select(RawBatch.payloads).where(RawBatch.id == batch_id)).one()
        payloads = unpack(packed)
        found.update({raw_id: payloads[row] for raw_id, row in members})
    return found
