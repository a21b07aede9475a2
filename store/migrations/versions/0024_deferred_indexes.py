"""a first load into an empty `completion` builds its secondary indexes once, after the load:
`deferred_index` keeps the statement of each index dropped for it until it is built again

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-28 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deferred_index",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_deferred_index")),
    )


def downgrade() -> None:
    """Indexes a killed load left dropped are built before their statements go."""
    bind = op.get_bind()
    present = {index["name"] for index in sa.inspect(bind).get_indexes("completion")}
    kept = bind.execute(sa.text("SELECT name, definition FROM deferred_index")).all()
    for name, definition in kept:
        if name not in present:
            op.execute(definition)
    op.drop_table("deferred_index")
