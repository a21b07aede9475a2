"""cache where each person stands in each agency and the agencies' head counts, and let
triggers mark what changes under them: a nightly recompute works out again only the people whose
records or employments changed, or whose standing the passing days move

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-27 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")

# what marks a person: (table, the person's id in a changed row, the columns that count)
PERSON = {
    "employment": (
        "{row}.person_id",
        ("person_id", "agency_id", "sworn", "position_key", "selected", "hired_on", "separated_on"),
    ),
    "completion": ("{row}.person_id", ("person_id", "voided", "completed_on")),
    "classification": (
        "(SELECT c.person_id FROM completion c WHERE c.id = {row}.completion_id)",
        ("completion_id", "category_id", "valid_until"),
    ),
}
# what marks an agency: (table, the agency's id in a changed row, the columns that count)
AGENCY = {
    "agency": ("{row}.id", ("id", "program", "active")),
    "category": ("'*'", ("id", "tier", "population")),
}
TRIGGERS = {
    "coverage_dirty_person": ("person_id", PERSON),
    "coverage_dirty_agency": ("agency_id", AGENCY),
}


def upgrade() -> None:
    op.create_table(
        "coverage_basis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("rules", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_basis")),
    )
    op.create_table(
        "coverage_person",
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", Id, nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("counted", "sworn", "crisis", "trained", "window_crisis", "window_trained")
        ),
        sa.Column("changes_on", sa.Date(), nullable=True),
        sa.Column("window_changes_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("agency_id", "person_id", name=op.f("pk_coverage_person")),
    )
    op.create_index("ix_coverage_person_person_id", "coverage_person", ["person_id"])
    for column in ("changes_on", "window_changes_on"):
        op.create_index(op.f(f"ix_coverage_person_{column}"), "coverage_person", [column])
    op.create_table(
        "coverage_todo",
        sa.Column("id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_todo")),
    )
    op.create_table(
        "coverage_counts",
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "sworn_total",
                "sworn_crisis",
                "sworn_trained",
                "nonsworn_total",
                "nonsworn_trained",
                "window_crisis",
                "window_trained",
                "window_nonsworn_trained",
            )
        ),
        sa.PrimaryKeyConstraint("agency_id", name=op.f("pk_coverage_counts")),
    )
    op.create_table(
        "coverage_dirty_person",
        sa.Column("id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_dirty_person")),
    )
    op.create_table(
        "coverage_dirty_agency",
        sa.Column("id", Id, nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_dirty_agency")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:  # room for each row's nightly new date on its own page; rows rewritten so
        op.execute("ALTER TABLE coverage_latest SET (fillfactor = 50)")
        op.execute("CLUSTER coverage_latest USING pk_coverage_latest")
    for dirty, (column, sources) in TRIGGERS.items():
        for table, (key, watched) in sources.items():
            triggers = _postgres if postgres else _sqlite
            for statement in triggers(dirty, column, table, key, watched):
                op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE coverage_latest RESET (fillfactor)")
    for _dirty, (_column, sources) in TRIGGERS.items():
        for table in sources:
            on = f" ON {table}" if postgres else ""
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS coverage_{table}_{event}{on}")
            if postgres:
                op.execute(f"DROP FUNCTION IF EXISTS coverage_mark_{table}()")
    for table in ("dirty_agency", "dirty_person", "todo", "counts", "person", "basis"):
        op.drop_table(f"coverage_{table}")


def _changed(watched: tuple[str, ...], new: str, old: str) -> str:
    return " OR ".join(f"{new}.{c} IS NOT {old}.{c}" for c in watched)


def _sqlite(dirty: str, column: str, table: str, key: str, watched: tuple[str, ...]) -> list[str]:
    """A row trigger per event: SQLite writes one row at a time anyway."""

    def mark(row: str) -> str:
        value = key.format(row=row)
        return (
            f"INSERT INTO {dirty} ({column}) SELECT v FROM (SELECT {value} AS v) WHERE v NOTNULL;"
        )

    return [
        f"CREATE TRIGGER coverage_{table}_insert AFTER INSERT ON {table} BEGIN {mark('NEW')} END",
        f"CREATE TRIGGER coverage_{table}_update AFTER UPDATE ON {table} "
        f"WHEN {_changed(watched, 'NEW', 'OLD')} BEGIN {mark('NEW')} {mark('OLD')} END",
        f"CREATE TRIGGER coverage_{table}_delete AFTER DELETE ON {table} BEGIN {mark('OLD')} END",
    ]


def _postgres(dirty: str, column: str, table: str, key: str, watched: tuple[str, ...]) -> list[str]:
    """Statement triggers over transition tables: a COPY of two million rows marks each
    person once, in one set-based insert."""

    def value(row: str) -> str:
        return key.format(row=row)

    def marks(rows: str) -> str:
        return f"SELECT DISTINCT v FROM (SELECT {value('r')} AS v FROM {rows} r) m WHERE v NOTNULL"

    changed = " OR ".join(f"n.{c} IS DISTINCT FROM o.{c}" for c in watched)
    identity = "id" if table != "classification" else "completion_id"
    function = f"""
CREATE FUNCTION coverage_mark_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO {dirty} ({column}) {marks("new_rows")};
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO {dirty} ({column}) {marks("old_rows")};
  ELSE
    INSERT INTO {dirty} ({column}) SELECT DISTINCT v FROM (
      SELECT {value("n")} AS v FROM new_rows n JOIN old_rows o ON o.{identity} = n.{identity}
       WHERE {changed}
      UNION ALL
      SELECT {value("o")} FROM new_rows n JOIN old_rows o ON o.{identity} = n.{identity}
       WHERE {changed}
      UNION ALL
      SELECT {value("n")} FROM new_rows n WHERE NOT EXISTS
        (SELECT 1 FROM old_rows o WHERE o.{identity} = n.{identity})
      UNION ALL
      SELECT {value("o")} FROM old_rows o WHERE NOT EXISTS
        (SELECT 1 FROM new_rows n WHERE o.{identity} = n.{identity})
    ) m WHERE v IS NOT NULL;
  END IF;
  RETURN NULL;
END $$"""
    each = f"FOR EACH STATEMENT EXECUTE FUNCTION coverage_mark_{table}()"
    return [
        function,
        f"CREATE TRIGGER coverage_{table}_insert AFTER INSERT ON {table} "
        f"REFERENCING NEW TABLE AS new_rows {each}",
        f"CREATE TRIGGER coverage_{table}_update AFTER UPDATE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {each}",
        f"CREATE TRIGGER coverage_{table}_delete AFTER DELETE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows {each}",
    ]
