"""`coverage_latest` keeps the date of the every-agency recompute once, in
`coverage_latest_date`, and each row the figures of its agency's latest snapshot: a night writes
only the rows whose figures changed, and compares with them rather than with the history

- `coverage_latest.as_of` may be NULL: the row is as of `coverage_latest_date` (the upgrade
  leaves every row's own date; the next every-agency recompute moves them over);
- `program`, `crisis_20` and `all_trained` complete the snapshot's figures, and `mirrors` says
  they are the latest snapshot's (false until a recompute has compared them with it).

SQLite alters a column only by copying its table, whose indexes on expressions the copy
cannot carry: the dashboard's share indexes are dropped first and made again after.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

SHARES = {
    "crisis": ("sworn_crisis", "sworn_total"),
    "trained": ("sworn_trained", "sworn_total"),
    "nonsworn": ("nonsworn_trained", "nonsworn_selected_total"),
}
ADDED = ("program", "crisis_20", "all_trained", "mirrors")


def upgrade() -> None:
    op.create_table(
        "coverage_latest_date",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_latest_date")),
    )
    with _shares_set_aside(), _altered() as batch_op:
        batch_op.alter_column("as_of", existing_type=sa.Date(), nullable=True)
        batch_op.add_column(sa.Column("program", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("crisis_20", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("all_trained", sa.Boolean(), nullable=True))
        batch_op.add_column(
            sa.Column("mirrors", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    op.execute(
        "UPDATE coverage_latest SET as_of = (SELECT as_of FROM coverage_latest_date) "
        "WHERE as_of IS NULL"
    )
    with _shares_set_aside(), _altered() as batch_op:
        for column in ADDED:
            batch_op.drop_column(column)
        batch_op.alter_column("as_of", existing_type=sa.Date(), nullable=False)
    op.drop_table("coverage_latest_date")


def _altered() -> Any:
    """The table's batch of changes. SQLite's copy reflects the table alone: resolving its
    foreign key would reflect `agency` too, whose index on lower(name) (0017) SQLAlchemy cannot
    reflect, and says so in a warning every new store printed."""
    return op.batch_alter_table("coverage_latest", reflect_kwargs={"resolve_fks": False})


@contextmanager
def _shares_set_aside() -> Iterator[None]:
    """SQLite: the share indexes (migration 0017) dropped for the table's copy, made again
    after it. PostgreSQL alters the table in place: they stay."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in SHARES:
            op.drop_index(f"ix_coverage_latest_{name}_key", table_name="coverage_latest")
    yield
    if sqlite:
        for name, (part, whole) in SHARES.items():
            key = sa.text(f"(CAST({part} AS FLOAT) / NULLIF({whole}, 0))")
            op.create_index(f"ix_coverage_latest_{name}_key", "coverage_latest", [key, "agency_id"])
