"""Secondary indexes built once after a first load instead of row by row: those of
`completion`, and those of a roster's `employment` and `person_identifier` (with, on PostgreSQL,
their foreign keys).

A first load fills an empty `completion` with up to millions of rows whose people, employee ids
and dates fall all over its three secondary indexes. Keeping those up to date row by row cost
half the table's insert time: 1,000,000 rows on SQLite 15.8 s with them, 7.4 s without;
2,000,000 on PostgreSQL 27.7 s and 7.4 s. Building them once afterwards, from sorted keys, took
2.6 s and 6.8 s. So a pull of completions into an empty `completion` drops them first and
builds them again when it ends, however it ends.

Each index's statement, as the database itself gives it (PostgreSQL's with its INCLUDE
columns), is kept in `deferred_index` by the transaction that drops the index, and deleted by
the one that builds it again. A load killed outright leaves the statements there: the next
sync of any source, or `onemind init`, builds those indexes first. Until then every query
still gives the right answer, only more slowly. The unique indexes stay: the load itself
looks rows up by them.

A first roster load into an empty `employment` does the same with the indexes by person and
employee id of `employment` and `person_identifier` (800,000 people on SQLite: 75 s with them,
66 s without), and on PostgreSQL drops their foreign keys too, checked by a trigger per row:
while they are dropped, `references` checks each load transaction's rows at once, as it does
for the bulk tables, and adding them again checks every row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, delete, insert, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from onemind.store.db import transaction
from onemind.store.models import Completion, DeferredIndex, Employment, PersonIdentifier

log = logging.getLogger(__name__)

DEFERRED = ("ix_completion_unlinked", "ix_completion_course", "ix_completion_credit")
ROSTER_DEFERRED = (
    "ix_employment_person_id",
    "ix_employment_employee_id",
    "ix_person_identifier_person_id",
)


@dataclass(frozen=True)
class Deferral:
    """What a first load into `tables[0]` (found empty) builds once it ends instead of row by
    row: `indexes` (of any of `tables`) and, on PostgreSQL with `keys`, the foreign keys of
    `tables`, which it locks for the drop.

    PostgreSQL checks a declared foreign key by a trigger per row written: a third of a first
    roster load's time. Dropped with the indexes, they are added again (one check of every row)
    when the load ends; until then `references` checks each load transaction's rows."""

    tables: tuple[Table, ...]
    indexes: tuple[str, ...]
    keys: bool = False

    @property
    def foreign_keys(self) -> list[str]:
        """The names of the foreign keys dropped with the indexes, as the models name them."""
        if not self.keys:
            return []
        return [str(c.name) for t in self.tables for c in t.foreign_key_constraints]


COMPLETIONS = Deferral((Completion.__table__,), DEFERRED)
ROSTER = Deferral((Employment.__table__, PersonIdentifier.__table__), ROSTER_DEFERRED, keys=True)
LOCK_TIMEOUT = "500ms"
"""How long PostgreSQL may wait for `completion` to itself: a reader holding it (the web app, a
report) or another load would otherwise make the drop wait, and every query after it wait on
the drop. Under PostgreSQL's deadlock_timeout (1 s), as BUILD_LOCK_TIMEOUT: dropping a roster's
foreign keys locks the tables they name (`source`, `raw_record`), and a concurrent load's query
that holds one of them and waits on another the drop took is otherwise the transaction
PostgreSQL aborts (a completions sync failed so, started beside a first roster load)."""
LOCK_NOT_AVAILABLE = "55P03"
DEADLOCK_DETECTED = "40P01"
BUILD_LOCK_TIMEOUT = "500ms"
"""How long a build may wait for a table another load is writing. Adding a foreign key locks
the table it refers to as well: a roster load holding `person` and waiting on `employment`,
which the build holds, would deadlock with it. Under PostgreSQL's deadlock_timeout (1 s), the
build gives up first and the other load goes on; the statements stay kept, and the next build
(that load's own, when it ends) builds them."""


@contextmanager
def built_after(sessions: sessionmaker[Session], deferral: Deferral | None) -> Iterator[None]:
    """Around a pull: indexes left dropped by a killed load are built first; then, if the pull
    loads the table of a `deferral` and it is empty, what `deferral` names is dropped until the
    pull ends."""
    build(sessions)
    if deferral is not None:
        _drop_if_empty(sessions, deferral)
    try:
        yield
    except BaseException:
        try:
            build(sessions)
        except Exception:  # the pull's own error is the one to report
            log.exception("the indexes are built by the next sync")
        raise
    build(sessions)


def build(sessions: sessionmaker[Session]) -> list[str]:
    """Build every index (and add every foreign key) kept in `deferred_index`; their names."""
    if not _finds(sessions, select(DeferredIndex.name)):
        return []  # every sync but the one after a killed load: no lock taken
    try:
        with transaction(sessions) as session:
            kept = _claimed(session)
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text(f"SET LOCAL lock_timeout = '{BUILD_LOCK_TIMEOUT}'"))
            for name, definition in kept:
                log.info("building index %s", name)
                statement = _if_not_exists(session, name, definition)
                if statement is not None:
                    session.execute(text(statement))
            if kept:
                session.execute(delete(DeferredIndex))
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) not in (LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED):
            raise
        log.info("another load is writing the tables: the indexes are built after it")
        return []
    return [name for name, _ in kept]


def _claimed(session: Session) -> list[Row[tuple[str, str]]]:
    """The kept statements, for this transaction alone to build: two processes building the
    same index at once would both find it missing, and the second fail to create it."""
    kept = select(DeferredIndex.name, DeferredIndex.definition)
    if session.get_bind().dialect.name == "postgresql":
        return list(session.execute(kept.with_for_update()))
    _sqlite_write_lock(session)
    return list(session.execute(kept))


def _sqlite_write_lock(session: Session) -> None:
    """Take SQLite's one writer's lock now, before this transaction reads: a write that
    changes nothing takes it."""
    session.execute(update(DeferredIndex).values(name=DeferredIndex.name))


def _finds(sessions: sessionmaker[Session], query: Select[Any]) -> bool:
    """Whether `query` finds a row, read in a transaction of its own and without a lock: a
    hint, for the common case to take no lock; the locked transaction that acts reads again
    (a read before the lock, in that transaction, is what `_drop` must not do)."""
    with transaction(sessions) as session:
        return session.scalar(query.limit(1)) is not None


def _drop_if_empty(sessions: sessionmaker[Session], deferral: Deferral = COMPLETIONS) -> None:
    table = deferral.tables[0]
    if _finds(sessions, select(table.c.id)):
        return  # every load but a first: nothing is locked
    try:
        with transaction(sessions) as session:
            dropped = _drop(session, deferral)
    except OperationalError as exc:
        # dropping a foreign key locks the table it names too: another load holding that
        # table and waiting on ours is a deadlock, which PostgreSQL breaks by failing the drop
        if getattr(exc.orig, "sqlstate", None) not in (LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED):
            raise
        log.info("%s is in use: its indexes are kept up to date during the load", table.name)
        return
    if dropped:
        log.info("first load: indexes %s are built when it ends", ", ".join(dropped))


def _drop(session: Session, deferral: Deferral = COMPLETIONS) -> list[str]:
    """Drop what `deferral` names, keeping the statements that build it, if its table is
    empty."""
    connection = session.connection()
    # The lock the drop needs is taken before the table is read: two loads that each read it
    # and then asked for the lock would deadlock (PostgreSQL), or the second would find the
    # store changed under its read (SQLite); SQLite's is its one writer's, which a write takes.
    if connection.dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        tables = ", ".join(table.name for table in deferral.tables)
        session.execute(text(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE"))
    else:
        _sqlite_write_lock(session)
    if session.scalar(select(deferral.tables[0].c.id).limit(1)) is not None:
        return []
    definitions = _definitions(connection, deferral)
    if definitions:
        session.execute(
            insert(DeferredIndex),
            [{"name": n, "definition": d} for n, (d, _) in definitions.items()],
        )
    for _, drop in definitions.values():
        session.execute(text(drop))
    return list(definitions)


def _definitions(connection: Connection, deferral: Deferral) -> dict[str, tuple[str, str]]:
    """The statements that build and drop each index of `deferral` the database has, as the
    database gives them; on PostgreSQL, its foreign keys' too."""
    if connection.dialect.name != "postgresql":
        found = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND name IN (SELECT value FROM json_each(:names))"
            ),
            {"names": json.dumps(deferral.indexes)},
        )
        return {name: (definition, f"DROP INDEX {name}") for name, definition in found}
    found = connection.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND indexname = ANY(:names)"
        ),
        {"names": list(deferral.indexes)},
    )
    definitions = {name: (definition, f"DROP INDEX {name}") for name, definition in found}
    if not deferral.foreign_keys:
        return definitions
    keys = connection.execute(
        text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conname = ANY(:names) "
            "AND connamespace = current_schema()::regnamespace"
        ),
        {"names": deferral.foreign_keys},
    )
    for table, name, body in keys:
        definitions[name] = (
            f"ALTER TABLE {table} ADD CONSTRAINT {name} {body}",
            f"ALTER TABLE {table} DROP CONSTRAINT {name}",
        )
    return definitions


def _if_not_exists(session: Session, name: str, definition: str) -> str | None:
    """The statement, made harmless if the index or key exists all the same (built by hand
    after a killed load: builds by this module are one at a time, see `_claimed`); None for a
    foreign key that exists (PostgreSQL cannot add one only if it is missing)."""
    for head in ("CREATE INDEX ", "create index "):
        if definition.startswith(head):
            return f"{head}IF NOT EXISTS {definition[len(head) :]}"
    if definition.startswith("ALTER TABLE ") and " ADD CONSTRAINT " in definition:
        present = session.scalar(
            text(
                "SELECT count(*) FROM pg_constraint "
                "WHERE connamespace = current_schema()::regnamespace AND conname = :name"
            ),
            {"name": name},
        )
        return None if present else definition
    raise ValueError(f"not an index statement: {definition[:80]}")
