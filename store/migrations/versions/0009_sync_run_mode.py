"""sync runs say whether they read their source whole

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 15:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mode", sa.String(length=12), server_default="incremental", nullable=False)
        )


def downgrade() -> None:
    # In place (SQLite 3.35+): a batch copy of sync_run cannot drop a table other rows point at.
    op.drop_column("sync_run", "mode")
