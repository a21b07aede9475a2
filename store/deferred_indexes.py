"""The secondary indexes of `completion`, built once after a first load instead of row by row.

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
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Row, Select, delete, insert, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from onemind.store.db import transaction
from onemind.store.models import Completion, DeferredIndex

log = logging.getLogger(__name__)

DEFERRED = ("ix_completion_unlinked", "ix_completion_course", "ix_completion_credit")
LOCK_TIMEOUT = "2s"
"""How long PostgreSQL may wait for `completion` to itself: a reader holding it (the web app, a
report) or another load would otherwise make the drop wait, and every query after it wait on
the drop."""
LOCK_NOT_AVAILABLE = "55P03"


@contextmanager
def built_after(sessions: sessionmaker[Session], load: bool) -> Iterator[None]:
    """Around a pull: indexes left dropped by a killed load are built first; then, if the pull
    `load`s completions and `completion` is empty, its secondary indexes are dropped until it
    ends."""
    build(sessions)
    if load:
        _drop_if_empty(sessions)
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
    """Build every index kept in `deferred_index`; their names."""
    if not _finds(sessions, select(DeferredIndex.name)):
        return []  # every sync but the one after a killed load: no lock taken
    with transaction(sessions) as session:
        kept = _claimed(session)
        for name, definition in kept:
            log.info("building index %s", name)
            session.execute(text(_if_not_exists(definition)))
        if kept:
            session.execute(delete(DeferredIndex))
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


def _drop_if_empty(sessions: sessionmaker[Session]) -> None:
    if _finds(sessions, select(Completion.id)):
        return  # every load but a first: `completion` is not locked
    try:
        with transaction(sessions) as session:
            dropped = _drop(session)
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        log.info("completion is in use: its indexes are kept up to date during the load")
        return
    if dropped:
        log.info("first load: indexes %s are built when it ends", ", ".join(dropped))


def _drop(session: Session) -> list[str]:
    """Drop the indexes of DEFERRED, keeping their statements, if `completion` is empty."""
    connection = session.connection()
    # The lock the drop needs is taken before the table is read: two loads that each read it
    # and then asked for the lock would deadlock (PostgreSQL), or the second would find the
    # store changed under its read (SQLite); SQLite's is its one writer's, which a write takes.
    if connection.dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        session.execute(text("LOCK TABLE completion IN ACCESS EXCLUSIVE MODE"))
    else:
        _sqlite_write_lock(session)
    if session.scalar(select(Completion.id).limit(1)) is not None:
        return []
    definitions = _definitions(connection)
    if definitions:
        session.execute(
            insert(DeferredIndex), [{"name": n, "definition": d} for n, d in definitions.items()]
        )
    for name in definitions:
        session.execute(text(f"DROP INDEX {name}"))
    return list(definitions)


def _definitions(connection: Connection) -> dict[str, str]:
    """The statement of each index of DEFERRED the database has, as the database gives it."""
    if connection.dialect.name == "postgresql":
        found = connection.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema() AND indexname = ANY(:names)"
            ),
            {"names": list(DEFERRED)},
        )
    else:
        found = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND name IN (SELECT value FROM json_each(:names))"
            ),
            {"names": json.dumps(DEFERRED)},
        )
    return {name: definition for name, definition in found}


def _if_not_exists(definition: str) -> str:
    """The statement, made harmless if the index exists all the same (built by hand after a
    killed load: builds by this module are one at a time, see `_claimed`)."""
    for head in ("CREATE INDEX ", "create index "):
        if definition.startswith(head):
            return f"{head}IF NOT EXISTS {definition[len(head) :]}"
    raise ValueError(f"not an index statement: {definition[:80]}")
