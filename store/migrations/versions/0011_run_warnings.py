"""sync runs keep their warnings

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 12:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warnings", sa.JSON(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of sync_run would have to drop the table,
    # which the foreign keys of the rows that point at its runs forbid.
    op.drop_column("sync_run", "warnings")
