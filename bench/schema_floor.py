"""The schema's floor: the rows a load wrote, written again by the database alone.

The floors of `bench/load.py` and `bench/roster.py` are one table of the file's own rows. A
load of ours writes more: each record's raw row (`raw_record`, with its unique key on source
and external id), the batches of payloads (`raw_batch`), a completion's row, or a roster row's
person, identifiers and employment; and it builds what it deferred (`deferred_indexes`) after.
This floor takes the rows our load left, empties those tables (what a first load defers
dropped, as it drops them), and times the database writing the same rows back with
`INSERT … SELECT` in one transaction, in the order they were stored, then making what was
deferred again: no client, no parsing, no per-row round trip, and every index, trigger and
checked reference of the real tables. What our load takes beyond it is our code's; what it
takes beyond the file's floor is the schema's. The store ends holding what it held.
"""

from __future__ import annotations

from time import perf_counter

from sqlalchemy import Connection, text

from onemind.store.db import make_engine
from onemind.store.deferred_indexes import COMPLETIONS, ROSTER, Deferral

LOADS: dict[str, tuple[tuple[str, ...], Deferral]] = {
    "completions": (("raw_batch", "raw_record", "completion"), COMPLETIONS),
    "roster": (("raw_batch", "raw_record", "person", "person_identifier", "employment"), ROSTER),
}
"""The tables each load writes, in the order their references allow them to be written, and
what its first load defers."""


def schema_floor(url: str, load: str = "completions") -> float:
    """Seconds for the database to write the rows of `load`'s tables again, what it defers
    dropped first and made again after, as a first load does."""
    tables, deferral = LOADS[load]
    engine = make_engine(url)
    try:
        with engine.connect() as connection:  # one connection: the kept rows are its own
            with connection.begin():
                deferred = _deferred(connection, deferral)
                for table in tables:
                    connection.exec_driver_sql(
                        f"CREATE TEMPORARY TABLE kept_{table} AS SELECT * FROM {table}"
                    )
                _empty(connection, tables)
                for drop, _ in deferred:
                    connection.exec_driver_sql(drop)
            start = perf_counter()
            with connection.begin():
                for table in tables:
                    connection.exec_driver_sql(f"INSERT INTO {table} SELECT * FROM kept_{table}")
            with connection.begin():
                for _, make in deferred:
                    connection.exec_driver_sql(make)
            return perf_counter() - start
    finally:
        engine.dispose()


def _deferred(connection: Connection, deferral: Deferral) -> list[tuple[str, str]]:
    """What a first load drops and makes again: each as its DROP and the database's own
    statement making it (on PostgreSQL, the foreign keys too when the deferral names them)."""
    names = list(deferral.indexes)
    if connection.dialect.name != "postgresql":
        marks = ", ".join(f":n{i}" for i in range(len(names)))
        query = f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ({marks})"
        rows = connection.execute(text(query), {f"n{i}": n for i, n in enumerate(names)})
        return [(f"DROP INDEX {name}", sql) for name, sql in rows]
    found = connection.execute(
        text("SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(:names)"),
        {"names": names},
    )
    deferred = [(f"DROP INDEX {name}", sql) for name, sql in found]
    keys = connection.execute(
        text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND conname = ANY(:names)"
        ),
        {"names": deferral.foreign_keys},
    )
    for table, name, definition in keys:
        drop = f"ALTER TABLE {table} DROP CONSTRAINT {name}"
        deferred.append((drop, f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
    return deferred


def _empty(connection: Connection, tables: tuple[str, ...]) -> None:
    """Empty `tables` (the bench's store holds nothing else that names their rows)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)} CASCADE")
        return
    for table in reversed(tables):
        connection.exec_driver_sql(f"DELETE FROM {table}")
