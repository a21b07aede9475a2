"""`sync_run.catalogued`: whether a finish has put the courses of the run's completions in the
catalogue. A rerun sets aside the rows of a file the store holds (`store.set_aside`), so the
completions a run killed before its finish wrote are catalogued by the next finish, found by
this flag, not by a rerun writing them again. Runs before this migration were catalogued.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-28 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_run") as batch_op:
        batch_op.add_column(
            sa.Column("catalogued", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(sa.text("UPDATE sync_run SET catalogued = :yes").bindparams(yes=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_run") as batch_op:
        batch_op.drop_column("catalogued")
