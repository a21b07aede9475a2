"""drop redundant person index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 16:26:49.939789
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_completion_person_id"))


def downgrade() -> None:
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_completion_person_id"), ["person_id"], unique=False)
