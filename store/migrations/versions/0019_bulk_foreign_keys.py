"""PostgreSQL: the foreign keys of raw_record, completion and classification go, each a
trigger per row a load writes; every load transaction verifies its rows at once instead
(`onemind.store.references`). SQLite keeps them: an index probe each, in C.

Revision ID: 0019
Revises: 0017
Create Date: 2026-11-27 20:00:00
"""

from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None

FOREIGN_KEYS = (
    ("raw_record", "source_id", "source", None),
    ("raw_record", "first_run_id", "sync_run", None),
    ("raw_record", "last_run_id", "sync_run", None),
    ("completion", "raw_record_id", "raw_record", None),
    ("completion", "source_id", "source", None),
    ("completion", "person_id", "person", None),
    ("classification", "completion_id", "completion", "CASCADE"),
    ("classification", "category_id", "category", None),
    ("classification", "rule_id", "mapping_rule", None),
)
"""(table, column, referred table, on delete) of each foreign key; each refers to `id`."""


def _name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, referred, _ in FOREIGN_KEYS:
        op.drop_constraint(_name(table, column, referred), table, type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, referred, on_delete in FOREIGN_KEYS:
        op.create_foreign_key(
            _name(table, column, referred), table, referred, [column], ["id"], ondelete=on_delete
        )
