"""PostgreSQL: what a nightly recompute reads of the people it works out again comes from
indexes alone, and the coverage cache's churned tables are vacuumed after a few hundred changes

- `ix_completion_credit` carries the completion's id and `pk_classification` its category and
  expiry (INCLUDE), so that once autovacuum has marked a loaded table's pages all-visible, the
  people's completions and their classifications are read from the indexes without visiting
  the rows, scattered over the whole table by the loads (SQLite's indexes carry the rowid,
  which is the completion's id, and its classification rows are stored in key order).
- Each night deletes the cache rows of the people it works out again and inserts them anew,
  and claims the triggers' marks. Left to the default (a fifth of the table, 160,000 rows of
  a hub's `coverage_person`), dead rows pile up for months, and every night's look-up of the
  people due by date reads the dead index entries of every night before.

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
CREDIT = "ix_completion_credit ON completion (person_id, completed_on, voided)"
CLASSIFIED = "ALTER TABLE classification DROP CONSTRAINT pk_classification, ADD CONSTRAINT "
CLASSIFIED += "pk_classification PRIMARY KEY (completion_id)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite frees a deleted row's space at once; its indexes carry the rowid
    op.execute("DROP INDEX ix_completion_credit")
    op.execute(f"CREATE INDEX {CREDIT} INCLUDE (id)")
    op.execute(f"{CLASSIFIED} INCLUDE (category_id, valid_until)")
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
    op.execute(CLASSIFIED)
    op.execute("DROP INDEX ix_completion_credit")
    op.execute(f"CREATE INDEX {CREDIT}")
