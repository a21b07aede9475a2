"""The schema's floor: the rows a completions load wrote, written again by the database alone.

`bench/load.py`'s floor is one table of the file's own rows. A load of ours writes more: each
record's raw row (`raw_record`, with its unique key on source and external id), its completion
(`completion`), the batches of payloads (`raw_batch`), and builds the deferred indexes after.
This floor takes the rows our load left, empties the three tables (the deferred indexes
dropped, as a first load drops them), and times the database writing the same rows back with
`INSERT … SELECT` in one transaction, in the order they were stored, then building the deferred
indexes: no client, no parsing, no per-row round trip, and every index, trigger and checked
reference of the real tables. What our load takes beyond it is our code's; what it takes
beyond the file's floor is the schema's. The store ends holding what it held.
"""

from __future__ import annotations

from time import perf_counter

from sqlalchemy import Connection, text

from onemind.store.db import make_engine
from onemind.store.deferred_indexes import DEFERRED

TABLES = ("raw_batch", "raw_record", "completion")
"""In the order their references allow them to be written."""


def schema_floor(url: str) -> float:
    """Seconds for the database to write the load's rows again, deferred indexes built."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:  # one connection: the kept rows are its own
            with connection.begin():
                indexes = _deferred_definitions(connection)
                for table in TABLES:
                    connection.exec_driver_sql(
                        f"CREATE TEMPORARY TABLE kept_{table} AS SELECT * FROM {table}"
                    )
                _empty(connection)
                for name in indexes:
                    connection.exec_driver_sql(f"DROP INDEX {name}")
            start = perf_counter()
            with connection.begin():
                for table in TABLES:
                    connection.exec_driver_sql(f"INSERT INTO {table} SELECT * FROM kept_{table}")
            with connection.begin():
                for definition in indexes.values():
                    connection.exec_driver_sql(definition)
            return perf_counter() - start
    finally:
        engine.dispose()


def _deferred_definitions(connection: Connection) -> dict[str, str]:
    """The statements of the deferred indexes, as the database gives them."""
    if connection.dialect.name == "postgresql":
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(:names)"
        rows = connection.execute(text(query), {"names": list(DEFERRED)})
    else:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN (:a, :b, :c)"
        rows = connection.execute(text(query), dict(zip("abc", DEFERRED, strict=True)))
    return dict(rows.all())


def _empty(connection: Connection) -> None:
    """Empty the three tables (the bench's store holds nothing else that names their rows)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"TRUNCATE {', '.join(TABLES)} CASCADE")
        return
    for table in reversed(TABLES):
        connection.exec_driver_sql(f"DELETE FROM {table}")
