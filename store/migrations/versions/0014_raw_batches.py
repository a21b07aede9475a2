"""raw payloads of a bulk load kept per batch, compressed

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 14:00:00
"""

import json
import zlib

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "raw_batch",
        sa.Column("id", Id, nullable=False),
        sa.Column("source_id", Id, nullable=False),
        sa.Column("run_id", Id, nullable=True),
        sa.Column("payloads", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_run.id"], name=op.f("fk_raw_batch_run_id_sync_run")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_raw_batch_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_batch")),
    )
    op.add_column("raw_record", sa.Column("batch_id", Id, nullable=True))
    op.add_column("raw_record", sa.Column("batch_row", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Put each batched payload back in its raw record (JSON null there), then drop the batches."""
    connection = op.get_bind()
    raw_record = sa.table(
        "raw_record",
        sa.column("id", Id),
        sa.column("payload", sa.JSON()),
        sa.column("batch_id", Id),
        sa.column("batch_row", sa.Integer()),
    )
    raw_batch = sa.table("raw_batch", sa.column("id", Id), sa.column("payloads", sa.LargeBinary()))
    batched = sa.select(raw_record.c.id, raw_record.c.batch_id, raw_record.c.batch_row).where(
        raw_record.c.batch_id.is_not(None), sa.cast(raw_record.c.payload, sa.Text) == "null"
    )
    members: dict[int, list[tuple[int, int]]] = {}
    for raw_id, batch_id, row in connection.execute(batched):
        members.setdefault(batch_id, []).append((raw_id, row))
    inline = raw_record.update().where(raw_record.c.id == sa.bindparam("raw_id"))
    inline = inline.values(payload=sa.bindparam("inline", type_=sa.JSON()))
    for batch_id, rows in members.items():
        packed = connection.execute(
            sa.select(raw_batch.c.payloads).where(raw_batch.c.id == batch_id)
        ).scalar_one()
        payloads = json.loads(zlib.decompress(packed))
        connection.execute(inline, [{"raw_id": i, "inline": payloads[row]} for i, row in rows])
    op.drop_column("raw_record", "batch_row")
    op.drop_column("raw_record", "batch_id")
    op.drop_table("raw_batch")
