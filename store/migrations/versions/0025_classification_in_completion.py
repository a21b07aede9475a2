"""a completion carries its own classification: `classification`'s columns move into
`completion`, so a load writes one row per completion instead of two, and coverage reads a
person's credits from one index

- `ix_completion_credit` carries the category and the expiry (both backends), so the nightly
  recompute reads them without visiting a row or a second index;
- `ix_completion_unclassified` holds the completions the classifier has still to decide (none
  after a load, which inserts them classified);
- the coverage triggers of `completion` watch the category and the expiry as well, and those of
  `classification` go with it.

The upgrade rewrites every completion row once: on a hub's two million, 18 s on SQLite and
70 s on PostgreSQL here, which leaves the old row versions for autovacuum to reclaim.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-28 03:00:00
"""

from importlib import import_module

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")
CACHE = import_module("onemind.store.migrations.versions.0020_coverage_cache")
"""0020, whose trigger statements this revision makes again with other columns watched."""
MOVED = ("category_id", "rule_id", "rule_version", "valid_until", "classified_at")
PERSON = "{row}.person_id"
WATCHED = ("person_id", "voided", "completed_on")
"""What `completion`'s triggers watched before this revision (0020)."""
CREDIT = "ix_completion_credit ON completion (person_id, completed_on, voided"
UNCLASSIFIED = "ix_completion_unclassified ON completion (id) WHERE classified_at IS NULL"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP INDEX IF EXISTS ix_completion_credit")
    op.execute("DELETE FROM deferred_index WHERE name = 'ix_completion_credit'")
    _drop_triggers("completion", postgres)
    _drop_triggers("classification", postgres)
    for name, kind, referred in (
        ("category_id", "VARCHAR(40)", "category"),
        ("rule_id", "BIGINT" if postgres else "INTEGER", "mapping_rule"),
    ):
        # PostgreSQL declares no key of completion (0019); SQLite can only declare it inline
        reference = "" if postgres else f" CONSTRAINT fk_completion_{name}_{referred}"
        reference += "" if postgres else f" REFERENCES {referred} (id)"
        op.execute(f"ALTER TABLE completion ADD COLUMN {name} {kind}{reference}")
    op.add_column("completion", sa.Column("rule_version", sa.Integer(), nullable=True))
    op.add_column("completion", sa.Column("valid_until", sa.Date(), nullable=True))
    op.add_column(
        "completion", sa.Column("classified_at", sa.DateTime(timezone=True), nullable=True)
    )
    moved = ", ".join(f"{column} = k.{column}" for column in MOVED)
    op.execute(
        f"UPDATE completion SET {moved} FROM classification k WHERE k.completion_id = completion.id"
    )
    op.drop_table("classification")
    op.execute(f"CREATE INDEX {CREDIT}, category_id, valid_until)")
    op.execute(f"CREATE INDEX {UNCLASSIFIED}")
    _create_triggers("completion", (*WATCHED, "category_id", "valid_until"), postgres)


def downgrade() -> None:
    """`classification` comes back with a row for each classified completion."""
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP INDEX IF EXISTS ix_completion_credit")
    op.execute("DELETE FROM deferred_index WHERE name = 'ix_completion_credit'")
    op.execute("DROP INDEX ix_completion_unclassified")
    _drop_triggers("completion", postgres)
    keys = (
        ()
        if postgres
        else (
            sa.ForeignKeyConstraint(
                ["category_id"], ["category.id"], name="fk_classification_category_id_category"
            ),
            sa.ForeignKeyConstraint(
                ["completion_id"],
                ["completion.id"],
                name="fk_classification_completion_id_completion",
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                ["rule_id"], ["mapping_rule.id"], name="fk_classification_rule_id_mapping_rule"
            ),
        )
    )
    op.create_table(
        "classification",
        sa.Column("completion_id", Id, nullable=False),
        sa.Column("category_id", sa.String(length=40), nullable=True),
        sa.Column("rule_id", Id, nullable=True),
        sa.Column("rule_version", sa.Integer(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("classified_at", sa.DateTime(timezone=True), nullable=False),
        *keys,
        sa.PrimaryKeyConstraint("completion_id", name="pk_classification"),
    )
    op.execute(
        f"INSERT INTO classification (completion_id, {', '.join(MOVED)}) "
        f"SELECT id, {', '.join(MOVED)} FROM completion WHERE classified_at IS NOT NULL"
    )
    if postgres:  # 0022's covering key, 0019's undeclared references
        op.execute(
            "ALTER TABLE classification DROP CONSTRAINT pk_classification, ADD CONSTRAINT "
            "pk_classification PRIMARY KEY (completion_id) INCLUDE (category_id, valid_until)"
        )
        for column in MOVED:
            op.drop_column("completion", column)
    else:  # SQLite cannot drop a column a key names: the table is made again
        with op.batch_alter_table("completion") as batch:
            for column in MOVED:
                batch.drop_column(column)
    op.execute(f"CREATE INDEX {CREDIT}){' INCLUDE (id)' if postgres else ''}")
    _create_triggers("completion", WATCHED, postgres)
    classified = "(SELECT c.person_id FROM completion c WHERE c.id = {row}.completion_id)"
    for statement in _triggers(
        "classification", classified, ("completion_id", "category_id", "valid_until"), postgres
    ):
        op.execute(statement)


def _triggers(table: str, key: str, watched: tuple[str, ...], postgres: bool) -> list[str]:
    make = CACHE._postgres if postgres else CACHE._sqlite
    return make("coverage_dirty_person", "person_id", table, key, watched)


def _create_triggers(table: str, watched: tuple[str, ...], postgres: bool) -> None:
    for statement in _triggers(table, PERSON, watched, postgres):
        op.execute(statement)


def _drop_triggers(table: str, postgres: bool) -> None:
    on = f" ON {table}" if postgres else ""
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS coverage_{table}_{event}{on}")
    if postgres:
        op.execute(f"DROP FUNCTION IF EXISTS coverage_mark_{table}()")
