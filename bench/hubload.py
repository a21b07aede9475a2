"""Loading the synthetic hub (`hubdata`) into SQLite and PostgreSQL stores with bulk Core inserts.

Import it from a benchmark run as `python bench/<name>.py` (bench/ is then on the path):

    from hubload import Target, build_world, load_world, populate, postgres_database
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

from hubdata import (
    AS_OF,
    CATALOGUE,
    NOW,
    SEED_SOURCE,
    World,
    agency_rows,
    attestation_rows,
    build_world,
    classification,
    completion_row,
    employment_rows,
    facts,
    identifier_rows,
    person_rows,
    raw_row,
)
from sqlalchemy import Connection, Engine, Table, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from onemind.config.model import Settings
from onemind.domain.rules import CourseFacts, candidates, decide
from onemind.store.bootstrap import apply_settings
from onemind.store.classify import load_rules
from onemind.store.db import session_factory, transaction, upgrade
from onemind.store.models import (
    Agency,
    Attestation,
    Category,
    Completion,
    Employment,
    Person,
    PersonIdentifier,
    RawRecord,
    Source,
)

OUT = Path(__file__).resolve().parent / "out"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TEMPLATE_TRIES = 30


def load_average() -> str:
    """The machine's load average, printed beside a bench's figures: the machine is shared,
    and the figures of a busy one are not those of an idle one."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


# ---------------------------------------------------------------- loading


@dataclass
class Target:
    name: str
    engine: Engine
    load_seconds: float = 0.0


def chunked(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@contextmanager
def connections(targets: Sequence[Target]) -> Iterator[list[tuple[Target, Connection]]]:
    """One transaction per target, committed together at the end of the block."""
    with ExitStack() as stack:
        yield [(t, stack.enter_context(t.engine.begin())) for t in targets]


def insert_all(
    open_: list[tuple[Target, Connection]], table: Table, rows: list[dict[str, Any]]
) -> None:
    for target, connection in open_:
        start = perf_counter()
        connection.execute(table.insert(), rows)
        target.load_seconds += perf_counter() - start


def load_table(
    targets: Sequence[Target], table: Table, rows: Iterable[dict[str, Any]], size: int
) -> int:
    count = 0
    with connections(targets) as open_:
        for batch in chunked(rows, size):
            insert_all(open_, table, batch)
            count += len(batch)
    return count


def load_completions(targets: Sequence[Target], world: World, count: int, size: int) -> None:
    """Raw record and classified completion rows, chunk by chunk in FK order."""
    with connections(targets) as open_:
        for batch in chunked(facts(world, count), size):
            insert_all(open_, RawRecord.__table__, [raw_row(f) for f in batch])
            rows = [completion_row(f) | classification(world, f) for f in batch]
            insert_all(open_, Completion.__table__, rows)


def prepare_schema(target: Target) -> None:
    """Migrations, built-in categories and rules, and the source the seeded rows came from."""
    upgrade(target.engine)
    with transaction(session_factory(target.engine)) as session:
        apply_settings(session, Settings(), NOW)
        session.execute(
            Source.__table__.insert(), [{"id": SEED_SOURCE, "name": "bench-seed", "kind": "csv"}]
        )


def decide_courses(target: Target, world: World) -> None:
    """Find each catalogue course's candidate rules once, exactly as `classify_pending` does."""
    with transaction(session_factory(target.engine)) as session:
        rules = load_rules(session)
        world.validity = dict(session.execute(select(Category.id, Category.validity_months)).all())
    for course in CATALOGUE:
        described = CourseFacts(SEED_SOURCE, course.key, course.title, course.hours)
        found = candidates(rules, described)
        known = world.candidates.setdefault(course.key, found)
        if [r.id for r in known] != [r.id for r in found]:
            raise RuntimeError(f"{target.name}: rules differ from the first backend's")


def load_world(targets: Sequence[Target], world: World, args: argparse.Namespace) -> None:
    size = args.chunk
    for target in targets:
        prepare_schema(target)
        decide_courses(target, world)
    deciding = {k: decide(v, AS_OF) for k, v in world.candidates.items()}
    print("course decisions:", {k: r.category if r else None for k, r in deciding.items()})
    steps: list[tuple[Table, Iterable[dict[str, Any]]]] = [
        (Agency.__table__, agency_rows(world)),
        (Attestation.__table__, attestation_rows(world)),
        (Person.__table__, person_rows(world)),
        (PersonIdentifier.__table__, identifier_rows(world)),
        (Employment.__table__, employment_rows(world)),
    ]
    for table, rows in steps:
        start = perf_counter()
        count = load_table(targets, table, rows, size)
        print(f"  loaded {count:>9} {table.name} rows in {perf_counter() - start:.1f} s")
    start = perf_counter()
    load_completions(targets, world, args.completions, size)
    print(
        f"  loaded {args.completions:>9} completions (+raw, classified) "
        f"in {perf_counter() - start:.1f} s"
    )


def finish_postgres(target: Target) -> None:
    """Move the id sequences past the explicit ids, then settle the tables."""
    with target.engine.begin() as connection:
        for table in ("source", "person", "employment", "raw_record", "completion"):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    settle_postgres(target)


def settle_postgres(target: Target) -> None:
    """VACUUM ANALYZE, as autovacuum would after a bulk load: statistics for the planner and
    the visibility map that lets it answer from an index alone."""
    with target.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        start = perf_counter()
        connection.execute(text("VACUUM ANALYZE"))
        print(f"  postgresql VACUUM ANALYZE: {perf_counter() - start:.1f} s")


AUTOVACUUM_DUE = """
WITH setting AS (
    SELECT s.relname, s.n_dead_tup, s.n_ins_since_vacuum, greatest(c.reltuples, 0) AS tuples,
        (SELECT jsonb_object_agg(option_name, option_value::float)
         FROM pg_options_to_table(c.reloptions)) AS own
    FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
)
SELECT relname FROM setting
WHERE n_dead_tup > coalesce((own->>'autovacuum_vacuum_threshold')::float,
        current_setting('autovacuum_vacuum_threshold')::float)
    + coalesce((own->>'autovacuum_vacuum_scale_factor')::float,
        current_setting('autovacuum_vacuum_scale_factor')::float) * tuples
   OR n_ins_since_vacuum > coalesce((own->>'autovacuum_vacuum_insert_threshold')::float,
        current_setting('autovacuum_vacuum_insert_threshold')::float)
    + coalesce((own->>'autovacuum_vacuum_insert_scale_factor')::float,
        current_setting('autovacuum_vacuum_insert_scale_factor')::float) * tuples
ORDER BY relname
"""
STATS_DELAY = 11
"""Seconds for a committed change to reach the statistics autovacuum reads: a busy backend
sends them at most once a second, an idle one (a pooled connection) after 10 s."""


def a_day_passes(target: Target) -> list[str]:
    """PostgreSQL: what autovacuum does between two nightly runs, done now: VACUUM ANALYZE of
    each table whose dead rows, or rows inserted since its last vacuum, passed their threshold
    (the table's own setting, else the server's), by autovacuum's own rules. The tables
    vacuumed; nothing on SQLite, which keeps no dead rows."""
    if target.name != "postgresql":
        return []
    time.sleep(STATS_DELAY)
    with target.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        due = list(connection.scalars(text(AUTOVACUUM_DUE)))
        for table in due:
            connection.execute(text(f'VACUUM ANALYZE "{table}"'))
    return due


# ---------------------------------------------------------------- postgres lifecycle


@contextmanager
def postgres_database(
    admin_url: str, name: str, keep: bool = False, template: str | None = None
) -> Iterator[str]:
    """A throwaway database, dropped on the way out (unless `keep`) whatever happens; a copy
    of `template` when given (PostgreSQL refuses while anyone is connected to the template:
    tried again for a few minutes)."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    create = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    with admin.connect() as connection:
        connection.execute(drop)
        _create(connection, create)
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(drop)
        admin.dispose()


BACKENDS = ("sqlite", "postgresql")


@contextmanager
def store_url(
    backend: str, sqlite_file: Path, database: str, admin_url: str = PG_ADMIN
) -> Iterator[str]:
    """The URL of a new, empty store on `backend`: the SQLite file `sqlite_file`, or the
    PostgreSQL database `database` (dropped on the way out)."""
    if backend == "sqlite":
        yield f"sqlite:///{sqlite_file}"
        return
    with postgres_database(admin_url, database) as url:
        yield url


def fresh_sqlite(database: Path = OUT / "bench.db") -> Path:
    """An empty place for a SQLite store (its folder made, an old file and its WAL removed)."""
    database.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return database


def populate(targets: Sequence[Target], world: World, args: argparse.Namespace) -> None:
    print(
        f"generating and loading: {args.agencies} agencies, {args.people} people "
        f"({len(world.laterals)} lateral hires), {args.completions} completions"
    )
    load_world(targets, world, args)
    for target in targets:
        print(f"  {target.name} insert time: {target.load_seconds:.1f} s")
        if target.name == "postgresql":
            finish_postgres(target)


def _create(connection: Connection, statement: str) -> None:
    for attempt in range(TEMPLATE_TRIES):
        try:
            connection.execute(text(statement))
            return
        except OperationalError as exc:
            if "being accessed by other users" not in str(exc) or attempt == TEMPLATE_TRIES - 1:
                raise
            print("  the template database is in use; trying again in 10 s")
            time.sleep(10)


__all__ = ["Target", "build_world", "load_world", "populate", "postgres_database"]
