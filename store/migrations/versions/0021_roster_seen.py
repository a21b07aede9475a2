"""remember in a table, not in memory, the roster rows a run leaves as they are, so that a later
row of their key is still a repeat of them and memory does not grow with the source

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-27 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "roster_seen",
        sa.Column("run_id", Id, autoincrement=False, nullable=False),
        sa.Column("raw_record_id", Id, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "raw_record_id", name=op.f("pk_roster_seen")),
        prefixes=["UNLOGGED"] if postgres else [],
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("roster_seen")
