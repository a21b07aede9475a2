"""count repeated records

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repeated", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    # In place (SQLite 3.35+): a batch copy of sync_run cannot drop a table other rows point at.
    op.drop_column("sync_run", "repeated")
