"""PostgreSQL: vacuum the coverage cache's churned tables after a few hundred changes, not after
a fifth of their rows

Each nightly recompute deletes the rows of the people it works out again and inserts them anew,
and claims the marks the triggers wrote. Left to the default (a fifth of the table, 160,000
rows of a hub's `coverage_person`), the dead rows pile up for months: every night's look-up of
the people due by date then reads the dead index entries of every night before, and the claim of
the marks scans every page a large load ever filled. Vacuumed after a few hundred changes, a
night reads about what it changed.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-27 22:30:00
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

CHURNED = {
    "coverage_person": 500,
    "coverage_todo": 200,
    "coverage_dirty_person": 200,
    "coverage_dirty_agency": 200,
}
"""Each table and the dead rows after which autovacuum cleans it, whatever its size."""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite frees a deleted row's space at once
    for table, threshold in CHURNED.items():
        op.execute(
            f"ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0, "
            f"autovacuum_vacuum_threshold = {threshold}, "
            f"autovacuum_vacuum_insert_scale_factor = 0, "
            f"autovacuum_vacuum_insert_threshold = {threshold})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in CHURNED:
        op.execute(
            f"ALTER TABLE {table} RESET (autovacuum_vacuum_scale_factor, "
            "autovacuum_vacuum_threshold, autovacuum_vacuum_insert_scale_factor, "
            "autovacuum_vacuum_insert_threshold)"
        )
