"""Raw rows by their key, a source and an external id: which a batch's keys find, whether a
load looks them up at all, and whether a failed insert took a key another row holds."""

from __future__ import annotations

from json import dumps
from typing import Any, NamedTuple

from sqlalchemy import Connection, UniqueConstraint, exists, select
from sqlalchemy.orm import Session

from onemind.store.models import RawRecord, Source

LOOKUP = (
    "SELECT external_id, id, payload_hash, last_run_id, location FROM raw_record"
    " WHERE source_id = {mark} AND external_id {keys}"
)
LOOKUP_POSTGRES = LOOKUP.format(mark="%s", keys="= ANY(%s)")
LOOKUP_SQLITE = LOOKUP.format(mark="?", keys="IN (SELECT value FROM json_each(?))")
RAW_KEY = next(
    str(c.name) for c in RawRecord.__table__.constraints if isinstance(c, UniqueConstraint)
)
"""The name of the raw rows' unique key."""
UNIQUE_VIOLATION = "23505"


class Existing(NamedTuple):
    """A record's raw row as stored before the batch, and the run that last wrote it."""

    raw_id: int
    digest: str
    run_id: int | None
    location: str


class Stored(NamedTuple):
    """Where a record's raw row stands after the batch: its id and whether it changed (a
    tuple, made once per record of a load)."""

    raw_id: int
    changed: bool
    new: bool


def stored_rows(connection: Connection, source_id: int, keys: list[str]) -> dict[str, Existing]:
    """The stored raw rows of `keys`: one query, its keys one parameter (as `bulk.among`
    sends them), sent as SQL text through the driver's cursor (compiling a statement, and
    a result row object per row, cost more than the lookup)."""
    if not keys:
        return {}
    postgres = connection.dialect.name == "postgresql"
    sql = LOOKUP_POSTGRES if postgres else LOOKUP_SQLITE
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, (source_id, keys if postgres else dumps(keys)))
        return {key: Existing(*rest) for key, *rest in cursor.fetchall()}
    finally:
        cursor.close()


def inserts_unlooked(session: Session, source: str) -> bool:
    """Whether a load of the source named `source` inserts its raw rows without looking their
    keys up first (see `RecordWriter`): on PostgreSQL, when the source has no raw row yet.

    Only an earlier batch of a first load can hold one of its keys, and on PostgreSQL each
    look-up is a round trip to the server and an index probe per key, dearer as the table
    grows. SQLite always looks up, and is not asked: its look-ups are in the process and
    cheap, and the savepoint an unlooked insert needs keeps a journal of every page it
    changes (100,000 rows: twice the system time)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    held = exists().where(RawRecord.source_id == Source.id, Source.name == source)
    return not session.scalar(select(held))


def takes_a_stored_key(error: BaseException) -> bool:
    """Whether `error`, psycopg's, is an insert of a raw row whose source and external id
    another row holds."""
    cause: Any = error
    if getattr(cause, "sqlstate", None) != UNIQUE_VIOLATION:
        return False
    return bool(cause.diag.constraint_name == RAW_KEY)
