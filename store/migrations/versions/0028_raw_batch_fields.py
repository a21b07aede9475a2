"""raw batches of payloads with the same fields keep the fields once

From this revision on, a batch whose payloads all have the same fields (a file's rows) is
kept as `{"fields": [...], "rows": [[...], ...]}` (see `store.payloads`); other batches, and
every batch stored before, stay arrays of objects, which the store reads as they are. So the
upgrade changes no row; the downgrade writes each batch kept by its fields as the array of
its payloads, the only form the revisions before this one read.

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-28 20:00:00
"""

import json
import zlib

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LEVEL = 1


def upgrade() -> None:
    """Nothing to rewrite: batches stored before are arrays, read as they are."""


def downgrade() -> None:
    connection = op.get_bind()
    raw_batch = sa.table("raw_batch", sa.column("id", Id), sa.column("payloads", sa.LargeBinary()))
    rewrite = (
        raw_batch.update()
        .where(raw_batch.c.id == sa.bindparam("batch_id"))
        .values(payloads=sa.bindparam("packed"))
    )
    last = 0
    while rows := connection.execute(
        sa.select(raw_batch.c.id, raw_batch.c.payloads)
        .where(raw_batch.c.id > last)
        .order_by(raw_batch.c.id)
        .limit(1000)
    ).all():
        arrays = [
            {"batch_id": batch_id, "packed": _as_array(kept)}
            for batch_id, packed in rows
            if type(kept := json.loads(zlib.decompress(packed))) is dict
        ]
        if arrays:
            connection.execute(rewrite, arrays)
        last = rows[-1][0]


def _as_array(kept: dict) -> bytes:
    names = kept["fields"]
    payloads = [dict(zip(names, row, strict=True)) for row in kept["rows"]]
    text = json.dumps(payloads, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return zlib.compress(text.encode(), LEVEL)
