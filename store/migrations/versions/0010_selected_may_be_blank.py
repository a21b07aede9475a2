"""employment.selected may be blank: NULL leaves the decision to the position (SPEC §3)

Until now a blank `selected` was stored as false, and false meant "decided by the position".
An explicit false now excludes the person, so each false is kept only where the roster row
(the raw record's payload) said so; every other false becomes NULL, as if read again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FALSE = {"false", "no", "n", "0", "f"}  # connectors/fields.py FALSE, less the blank
employment = sa.table(
    "employment",
    sa.column("id", sa.Integer),
    sa.column("selected", sa.Boolean),
    sa.column("raw_record_id", sa.Integer),
)
raw_record = sa.table("raw_record", sa.column("id", sa.Integer), sa.column("payload", sa.JSON))


def upgrade() -> None:
    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.alter_column("selected", existing_type=sa.Boolean(), nullable=True)
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(employment.c.id, raw_record.c.payload)
        .select_from(employment)
        .outerjoin(raw_record, raw_record.c.id == employment.c.raw_record_id)
        .where(employment.c.selected.is_(False))
    )
    blank = [row_id for row_id, payload in rows if not _said_false(payload)]
    for start in range(0, len(blank), 500):
        bind.execute(
            sa.update(employment)
            .where(employment.c.id.in_(blank[start : start + 500]))
            .values(selected=None)
        )


def _said_false(payload: object) -> bool:
    value = payload.get("selected") if isinstance(payload, dict) else None
    return str(value if value is not None else "").strip().lower() in FALSE


def downgrade() -> None:
    op.execute(sa.update(employment).where(employment.c.selected.is_(None)).values(selected=False))
    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.alter_column("selected", existing_type=sa.Boolean(), nullable=False)
