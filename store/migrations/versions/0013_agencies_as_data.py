"""agencies as data: region, active, and who states each agency

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 13:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every agency so far came from [[agencies]] and is active; the next sync says which still do.
    # Plain ADD COLUMN: a batch copy of agency would have to drop a table other rows point at.
    op.add_column("agency", sa.Column("region", sa.String(length=100), nullable=True))
    op.add_column(
        "agency", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column("agency", sa.Column("managed_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # In place (SQLite 3.35+): a batch copy of agency cannot drop a table other rows point at.
    op.drop_column("agency", "managed_by")
    op.drop_column("agency", "active")
    op.drop_column("agency", "region")
