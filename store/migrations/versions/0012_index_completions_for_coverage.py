"""index completions for coverage: a person's credit without visiting the rows

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 14:00:00.000000
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.create_index(
            "ix_completion_credit", ["person_id", "completed_on", "voided"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.drop_index("ix_completion_credit")
