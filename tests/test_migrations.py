"""Migrations: from each earlier revision, with rows in every table, up to head without losing a
value; and at head the schema is exactly what the models describe (on both backends)."""

from __future__ import annotations

import json
import uuid
import warnings
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import PG_SERVER
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    inspect,
    select,
    text,
)

from onemind.store.db import alembic_config, make_engine
from onemind.store.models import Base, declared_on
from onemind.store.payloads import pack

REVISIONS = [
    script.revision
    for script in reversed(list(ScriptDirectory.from_config(alembic_config(None)).walk_revisions()))
]
EARLIER = REVISIONS[:-1]
DROPPED = {
    "roster_seen",  # 0023: what a run sets aside is remembered in memory
    "classification",  # 0025: in the completion row (checked by its own test)
}
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each backend, dropped afterwards."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'onemind.db'}")
        yield engine
        engine.dispose()
        return
    request.getfixturevalue("pg_url")  # skips, or fails in CI, when PostgreSQL is not there
    admin = make_engine(PG_SERVER).execution_options(isolation_level="AUTOCOMMIT")
    name = f"onemind_migrate_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(PG_SERVER.rsplit("/", 1)[0] + f"/{name}")
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def value(column: Column[Any], row: dict[str, Any], parents: dict[str, dict[str, Any]]) -> Any:
    """A representative value for `column`: the parent row's key for a foreign key, declared or
    one the models name that the backend does not declare (see `declared_on`)."""
    model = Base.metadata.tables.get(column.table.name)
    named = (
        model.c[column.name].foreign_keys if model is not None and column.name in model.c else ()
    )
    for key in column.foreign_keys or named:
        return parents[key.column.table.name][key.column.name]
    kind = column.type
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, (Float, Numeric)):
        return 1.5
    if isinstance(kind, DateTime):
        return WHEN
    if isinstance(kind, Date):
        return WHEN.date()
    if isinstance(kind, JSON):
        return {"kept": [1, "x"]}
    if isinstance(kind, LargeBinary):
        return b"\x00kept"
    if isinstance(kind, String):
        return f"{column.name[: (kind.length or 40) - 2]}-1"
    raise AssertionError(f"no representative value for {column.table.name}.{column.name}: {kind}")


GIVEN = {
    "deferred_index": {
        "name": "ix_completion_course",
        "definition": "CREATE INDEX ix_completion_course ON completion (source_id, course_key)",
    },
    "raw_batch": {"payloads": pack([{"a": "1", "b": "2"}, {"a": "3", "b": "4"}])},
}
"""Rows whose values must mean something: a downgrade from 0024 builds the index it names, one
from 0028 reads the batch."""


def fill(engine: Engine) -> dict[str, dict[str, Any]]:
    """One row in every table of the schema as it is now; the rows, by table."""
    tables = MetaData()
    tables.reflect(engine)
    modelled = [t.name for t in Base.metadata.sorted_tables if t.name in tables.tables]
    order = modelled + [t.name for t in tables.sorted_tables if t.name not in modelled]
    rows: dict[str, dict[str, Any]] = {}
    with engine.begin() as connection:
        for table in (tables.tables[name] for name in order):
            if table.name == "alembic_version" or table.name.startswith("coverage_dirty_"):
                continue  # the dirty marks are written by triggers (0020), never by the code
            row: dict[str, Any] = dict(GIVEN.get(table.name, {}))
            for column in table.columns:
                if column.name not in row:
                    row[column.name] = value(column, row, rows)
            connection.execute(table.insert().values(row))
            rows[table.name] = row
    return rows


def comparable(found: Any) -> Any:
    """Values as both backends give them back (SQLite keeps datetimes without their zone)."""
    if isinstance(found, datetime) and found.tzinfo is None:
        return found.replace(tzinfo=UTC)
    return found


@pytest.mark.parametrize("revision", EARLIER)
def test_an_upgrade_from_each_earlier_revision_keeps_every_row(
    empty: Engine, revision: str
) -> None:
    config = alembic_config(empty)
    command.upgrade(config, revision)
    rows = fill(empty)
    command.upgrade(config, "head")
    after = MetaData()
    after.reflect(empty)
    with empty.connect() as connection:
        for name, row in rows.items():
            if name in DROPPED:
                assert name not in after.tables, name
                continue
            table: Table = after.tables[name]
            kept = [c for c in table.columns if c.name in row]
            found = connection.execute(select(*kept)).mappings().all()
            assert len(found) == 1, f"{name}: {len(found)} rows after the upgrade from {revision}"
            got = {k: comparable(v) for k, v in found[0].items()}
            assert got == {c.name: comparable(row[c.name]) for c in kept}, name
        if "mode" not in rows.get("sync_run", {}):
            assert connection.scalar(text("SELECT mode FROM sync_run")) == "incremental"


def test_the_models_match_the_migrations(empty: Engine) -> None:
    command.upgrade(alembic_config(empty), "head")

    def declared(item: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
        """What the migrations' environment compares: keys this backend does not declare left
        out."""
        return reflected or declared_on(empty.dialect.name, item)

    with empty.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": declared})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_a_new_store_is_made_and_taken_down_without_a_warning(empty: Engine) -> None:
    """`onemind init` and `onemind demo` print what a migration warns: a new user's first
    command printed SQLAlchemy's warning of an index it cannot reflect (0026 on SQLite)."""
    config = alembic_config(empty)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        command.upgrade(config, "head")
        command.downgrade(config, "base")


def test_a_downgrade_past_the_run_columns_keeps_the_runs(empty: Engine) -> None:
    config = alembic_config(empty)
    command.upgrade(config, "head")
    rows = fill(empty)
    command.downgrade(config, "0007")
    with empty.connect() as connection:
        kept = connection.execute(text("SELECT id, status FROM sync_run")).all()
    assert [tuple(r) for r in kept] == [(rows["sync_run"]["id"], rows["sync_run"]["status"])]


def test_raw_payloads_survive_0014_both_ways(empty: Engine) -> None:
    """Inline payloads stay as they are on the upgrade; batched ones go back inline on the
    downgrade (a batch kept by its fields, through 0028's downgrade first), with the
    completions and classifications that point at their raw records."""
    config = alembic_config(empty)
    command.upgrade(config, "0013")
    payload = {"course_id": "CIT-40", "hours": "40", "note": "é"}
    with empty.begin() as connection:
        connection.execute(text("INSERT INTO source (id, name, kind) VALUES (1, 'f', 'csv')"))
        connection.execute(
            text(
                "INSERT INTO raw_record (id, source_id, external_id, kind, location, payload, "
                "payload_hash, first_seen, last_seen) VALUES (1, 1, 'a', 'completion', 'f.csv:2', "
                ":payload, 'h', :when, :when)"
            ),
            {"payload": json.dumps(payload), "when": WHEN},
        )
        connection.execute(
            text(
                "INSERT INTO completion (id, raw_record_id, source_id, course_key, course_title, "
                "completed_on, voided) VALUES (7, 1, 1, 'CIT-40', 'CIT', '2026-01-05', false)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO classification (completion_id, rule_version, classified_at) "
                "VALUES (7, 3, :when)"
            ),
            {"when": WHEN},
        )
    command.upgrade(config, "head")
    batched = {"course_id": "MHFA", "hours": "8"}
    packed = pack([{"course_id": "CIT-40", "hours": "40"}, batched])
    assert json.loads(zlib.decompress(packed))["fields"] == ["course_id", "hours"]  # see 0028
    with empty.begin() as connection:
        assert connection.scalar(text("SELECT payload FROM raw_record")) in (
            payload,
            json.dumps(payload),
        )
        assert connection.scalar(text("SELECT rule_version FROM completion")) == 3
        connection.execute(
            text("INSERT INTO raw_batch (id, source_id, payloads) VALUES (5, 1, :packed)"),
            {"packed": packed},
        )
        connection.execute(
            text(
                "INSERT INTO raw_record (id, source_id, external_id, kind, location, payload, "
                "payload_hash, first_seen, last_seen, batch_id, batch_row) VALUES (2, 1, 'b', "
                "'completion', 'f.csv:3', 'null', 'h', :when, :when, 5, 1)"
            ),
            {"when": WHEN},
        )
    command.downgrade(config, "0013")
    with empty.connect() as connection:
        kept = connection.execute(text("SELECT id, payload FROM raw_record ORDER BY id")).all()
        assert connection.scalar(text("SELECT count(*) FROM completion")) == 1
    as_json = [(i, p if isinstance(p, dict) else json.loads(p)) for i, p in kept]
    assert as_json == [(1, payload), (2, batched)]


def index_names(engine: Engine) -> set[str]:
    """Every index of the database, expression indexes included (reflection skips those)."""
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'index'"
        if engine.dialect.name == "sqlite"
        else "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
    )
    with engine.connect() as connection:
        return set(connection.scalars(text(query)))


def test_the_dashboard_indexes_of_0017_come_and_go(empty: Engine) -> None:
    config = alembic_config(empty)
    command.upgrade(config, "0016")
    rows = fill(empty)
    added = {"ix_agency_name_key", "ix_coverage_latest_status"}
    assert not added & index_names(empty)
    command.upgrade(config, "0017")
    assert added <= index_names(empty)
    command.downgrade(config, "0016")
    assert not added & index_names(empty)
    with empty.connect() as connection:
        names = connection.scalars(text("SELECT name FROM agency")).all()
    assert names == [rows["agency"]["name"]]


def bulk_foreign_keys(engine: Engine) -> dict[str, int]:
    """How many foreign keys each bulk table of 0019 declares."""
    with engine.connect() as connection:
        found = inspect(connection)
        return {name: len(found.get_foreign_keys(name)) for name in BULK_0019}


BULK_0019 = ("raw_record", "completion", "classification")
"""The bulk tables as 0019 found them (0025 folds the last into the second)."""


def test_the_bulk_foreign_keys_of_0019_go_on_postgresql_alone_and_come_back(
    empty: Engine,
) -> None:
    config = alembic_config(empty)
    command.upgrade(config, "0017")
    rows = fill(empty)
    declared = {"raw_record": 3, "completion": 3, "classification": 3}
    assert bulk_foreign_keys(empty) == declared
    command.upgrade(config, "0019")
    kept = declared if empty.dialect.name == "sqlite" else dict.fromkeys(declared, 0)
    assert bulk_foreign_keys(empty) == kept
    command.downgrade(config, "0017")
    assert bulk_foreign_keys(empty) == declared
    with empty.connect() as connection:
        completion = connection.execute(text("SELECT id, raw_record_id FROM completion")).one()
    assert tuple(completion) == (rows["completion"]["id"], rows["completion"]["raw_record_id"])


def storage_options(engine: Engine, table: str = "coverage_latest") -> str | None:
    """A table's storage options on PostgreSQL (None: none, or SQLite)."""
    if engine.dialect.name != "postgresql":
        return None
    query = "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = :table"
    with engine.connect() as connection:
        return connection.scalar(text(query), {"table": table}) or None


def test_the_coverage_cache_of_0020_and_its_triggers_come_and_go(empty: Engine) -> None:
    """The triggers mark what a change touches from the upgrade on, and leave with the
    downgrade together with the tables they write."""
    config = alembic_config(empty)
    command.upgrade(config, "0017")
    rows = fill(empty)
    command.upgrade(config, "0020")
    marks = "SELECT count(*) FROM coverage_dirty_agency WHERE agency_id = :agency"
    agency = rows["agency"]["id"]
    with empty.begin() as connection:
        assert connection.scalar(text(marks), {"agency": agency}) == 0
        connection.execute(text("UPDATE agency SET program = 'one-mind-2016'"))
        marked = connection.scalar(text(marks), {"agency": agency})
        connection.execute(text("UPDATE agency SET name = 'renamed'"))  # not a count's input
        assert marked >= 1 and connection.scalar(text(marks), {"agency": agency}) == marked
        connection.execute(text("UPDATE completion SET voided = NOT voided"))
        people = connection.scalars(text("SELECT person_id FROM coverage_dirty_person")).all()
        assert set(people) == {rows["completion"]["person_id"]}
    assert storage_options(empty) == (
        "fillfactor=50" if empty.dialect.name == "postgresql" else None
    )
    command.downgrade(config, "0017")
    with empty.connect() as connection:
        names = connection.scalars(text("SELECT name FROM agency")).all()
        connection.execute(text("UPDATE agency SET program = 'one-mind'"))
    assert names == ["renamed"]
    assert storage_options(empty) is None
    assert not {"coverage_counts", "coverage_dirty_agency"} & set(inspect(empty).get_table_names())


def test_the_roster_seen_table_of_0021_comes_and_goes(empty: Engine) -> None:
    """Unlogged on PostgreSQL (a crash empties it, as a dead run's rows should be), without
    rowids on SQLite (its key is all it holds)."""
    config = alembic_config(empty)
    command.upgrade(config, "0020")
    rows = fill(empty)
    assert "roster_seen" not in inspect(empty).get_table_names()
    command.upgrade(config, "0021")
    with empty.begin() as connection:
        connection.execute(text("INSERT INTO roster_seen (run_id, raw_record_id) VALUES (7, 8)"))
        if empty.dialect.name == "postgresql":
            persistence = "SELECT relpersistence FROM pg_class WHERE relname = 'roster_seen'"
            assert connection.scalar(text(persistence)) == "u"
        else:
            listed = "SELECT sql FROM sqlite_master WHERE name = 'roster_seen'"
            assert "WITHOUT ROWID" in connection.scalar(text(listed))
    command.downgrade(config, "0020")
    assert "roster_seen" not in inspect(empty).get_table_names()
    with empty.connect() as connection:
        runs = connection.scalars(text("SELECT id FROM sync_run")).all()
    assert runs == [rows["sync_run"]["id"]]


def test_0022_covers_the_nightly_reads_and_vacuums_the_cache_often(empty: Engine) -> None:
    """PostgreSQL: the credit and classification indexes carry what the nightly recompute
    reads, and autovacuum cleans the churned cache tables after a few hundred dead rows, not
    after a fifth of the table; the downgrade gives the defaults back. SQLite has neither."""
    config = alembic_config(empty)
    command.upgrade(config, "0021")
    assert storage_options(empty, "coverage_person") is None
    command.upgrade(config, "0022")
    expected = {
        "coverage_person": 500,
        "coverage_todo": 200,
        "coverage_dirty_person": 200,
        "coverage_dirty_agency": 200,
    }
    for table, threshold in expected.items():
        found = storage_options(empty, table)
        if empty.dialect.name == "postgresql":
            assert found is not None
            assert set(found.split(",")) == {
                "autovacuum_vacuum_scale_factor=0",
                f"autovacuum_vacuum_threshold={threshold}",
                "autovacuum_vacuum_insert_scale_factor=0",
                f"autovacuum_vacuum_insert_threshold={threshold}",
            }
        else:
            assert found is None
    assert included(empty) == (
        {
            "ix_completion_credit": "(person_id, completed_on, voided) INCLUDE (id)",
            "pk_classification": "(completion_id) INCLUDE (category_id, valid_until)",
        }
        if empty.dialect.name == "postgresql"
        else {}
    )
    command.downgrade(config, "0021")
    assert all(storage_options(empty, table) is None for table in expected)
    assert included(empty) == {}


def included(engine: Engine) -> dict[str, str]:
    """PostgreSQL: the indexes that carry columns beyond their key, by name, with their
    columns as the index definition gives them."""
    if engine.dialect.name != "postgresql":
        return {}
    query = "SELECT indexname, indexdef FROM pg_indexes WHERE indexdef LIKE '%INCLUDE%'"
    with engine.connect() as connection:
        rows = connection.execute(text(query)).all()
    return {name: definition.split(" USING btree ")[1] for name, definition in rows}


def test_the_roster_seen_table_goes_with_0023_and_comes_back_without_it(empty: Engine) -> None:
    config = alembic_config(empty)
    command.upgrade(config, "0022")
    fill(empty)
    assert "roster_seen" in inspect(empty).get_table_names()
    command.upgrade(config, "0023")
    assert "roster_seen" not in inspect(empty).get_table_names()
    command.downgrade(config, "0022")
    with empty.begin() as connection:
        connection.execute(text("INSERT INTO roster_seen (run_id, raw_record_id) VALUES (7, 8)"))


def test_a_downgrade_from_0024_builds_the_indexes_a_killed_load_left_dropped(
    empty: Engine,
) -> None:
    config = alembic_config(empty)
    command.upgrade(config, "0024")
    with empty.begin() as connection:
        connection.execute(text("DROP INDEX ix_completion_course"))
        connection.execute(
            text("INSERT INTO deferred_index (name, definition) VALUES (:name, :definition)"),
            GIVEN["deferred_index"],
        )
    command.downgrade(config, "0023")
    names = {index["name"] for index in inspect(empty).get_indexes("completion")}
    assert "ix_completion_course" in names
    assert "deferred_index" not in inspect(empty).get_table_names()


MOVED = ("category_id", "rule_id", "rule_version", "valid_until", "classified_at")


def test_0025_moves_each_classification_into_its_completion_and_back(empty: Engine) -> None:
    """The classification's values land in its completion; the triggers mark the person when
    the category or the expiry changes there; the downgrade gives `classification` its row
    back, and a completion never classified gets none."""
    config = alembic_config(empty)
    command.upgrade(config, "0024")
    rows = fill(empty)
    completion = rows["completion"]
    tables = MetaData()
    tables.reflect(empty)
    raw = rows["raw_record"] | {"id": rows["raw_record"]["id"] + 1, "external_id": "other"}
    unclassified = completion | {"id": completion["id"] + 1, "raw_record_id": raw["id"]}
    with empty.begin() as connection:  # a completion not classified yet
        connection.execute(tables.tables["raw_record"].insert().values(raw))
        connection.execute(tables.tables["completion"].insert().values(unclassified))
    command.upgrade(config, "0025")
    with empty.begin() as connection:
        found = connection.execute(typed(empty, "completion", "id", *MOVED)).all()
        assert [comparable(v) for v in found[0]] == [
            completion["id"],
            *(comparable(rows["classification"][c]) for c in MOVED),
        ]
        assert list(found[1]) == [completion["id"] + 1, None, None, None, None, None]
        connection.execute(text("DELETE FROM coverage_dirty_person"))
        connection.execute(
            text("UPDATE completion SET valid_until = NULL WHERE id = :id"),
            {"id": completion["id"]},
        )
        marked = connection.scalars(text("SELECT person_id FROM coverage_dirty_person")).all()
        assert set(marked) == {completion["person_id"]}
    names = {index["name"] for index in inspect(empty).get_indexes("completion")}
    assert {"ix_completion_credit", "ix_completion_unclassified"} <= names
    partial = (
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_completion_unclassified'"
        if empty.dialect.name == "postgresql"
        else "SELECT sql FROM sqlite_master WHERE name = 'ix_completion_unclassified'"
    )
    with empty.connect() as connection:
        assert "WHERE" in connection.scalar(text(partial)).upper()
    assert "classification" not in inspect(empty).get_table_names()
    command.downgrade(config, "0024")
    with empty.begin() as connection:
        kept = connection.execute(typed(empty, "classification", "completion_id", *MOVED)).all()
        assert [tuple(comparable(v) for v in row) for row in kept] == [
            (
                completion["id"],
                *(
                    None if c == "valid_until" else comparable(rows["classification"][c])
                    for c in MOVED
                ),
            )
        ]
        connection.execute(text("DELETE FROM coverage_dirty_person"))
        connection.execute(text("UPDATE classification SET category_id = NULL"))
        marked = connection.scalars(text("SELECT person_id FROM coverage_dirty_person")).all()
        assert set(marked) == {completion["person_id"]}
    columns = {column["name"] for column in inspect(empty).get_columns("completion")}
    assert not columns & set(MOVED)
    assert included(empty) == (
        {
            "ix_completion_credit": "(person_id, completed_on, voided) INCLUDE (id)",
            "pk_classification": "(completion_id) INCLUDE (category_id, valid_until)",
        }
        if empty.dialect.name == "postgresql"
        else {}
    )


def typed(engine: Engine, table: str, *columns: str) -> Any:
    """A select of the columns of the table as reflected now: values of their types, on
    SQLite too (a date is text there)."""
    found = Table(table, MetaData(), autoload_with=engine)
    return select(*(found.c[name] for name in columns)).order_by(found.c[columns[0]])


def test_sqlite_migrations_end_by_checking_every_key(tmp_path: Path) -> None:
    """SQLite migrates with foreign-key enforcement off (batch mode makes tables again); a row
    left naming nothing fails the migration, named, instead of passing unseen."""
    engine = make_engine(f"sqlite:///{tmp_path / 'onemind.db'}")
    config = alembic_config(engine)
    command.upgrade(config, "0024")
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.execute(
            text("INSERT INTO person_identifier (person_id, kind, value) VALUES (99, 'e', 'x')")
        )
    with pytest.raises(RuntimeError, match="person_identifier"):
        command.upgrade(config, "head")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_0026_keeps_the_hub_date_once_and_a_downgrade_gives_each_row_its_date_back(
    empty: Engine,
) -> None:
    """A `coverage_latest` row may leave its date to `coverage_latest_date`; the downgrade
    writes that date back into it. The dashboard's indexes stay both ways (SQLite copies the
    table to alter it)."""
    config = alembic_config(empty)
    command.upgrade(config, "0025")
    rows = fill(empty)
    indexes = index_names(empty)
    command.upgrade(config, "0026")
    assert indexes <= index_names(empty)
    hub = date(2030, 1, 1)
    with empty.begin() as connection:
        latest = Table("coverage_latest", MetaData(), autoload_with=connection)
        found = connection.execute(select(latest.c.as_of, latest.c.mirrors)).one()
        assert tuple(found) == (rows["coverage_latest"]["as_of"], False)
        connection.execute(latest.update().values(as_of=None))
        connection.execute(
            text("INSERT INTO coverage_latest_date (id, as_of) VALUES (1, :d)"), {"d": hub}
        )
    command.downgrade(config, "0025")
    assert index_names(empty) == indexes
    with empty.connect() as connection:
        latest = Table("coverage_latest", MetaData(), autoload_with=connection)
        assert connection.scalar(select(latest.c.as_of)) == hub
        assert "coverage_latest_date" not in inspect(connection).get_table_names()
