"""a run remembers the roster rows it leaves as they are in memory, by their digests
(store/roster_digests.py), not in roster_seen: a row set aside costs no query

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-27 22:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.drop_table("roster_seen")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "roster_seen",
        sa.Column("run_id", Id, autoincrement=False, nullable=False),
        sa.Column("raw_record_id", Id, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "raw_record_id", name=op.f("pk_roster_seen")),
        prefixes=["UNLOGGED"] if postgres else [],
        sqlite_with_rowid=False,
    )
