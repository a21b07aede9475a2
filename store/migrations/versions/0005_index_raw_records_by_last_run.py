"""index raw records by last run

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 16:11:24.096359
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("raw_record", schema=None) as batch_op:
        batch_op.create_index("ix_raw_record_last_run_id", ["last_run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("raw_record", schema=None) as batch_op:
        batch_op.drop_index("ix_raw_record_last_run_id")
