"""Dialect-aware INSERT … ON CONFLICT, the one construct both backends share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib import import_module
from typing import Any

from sqlalchemy import ColumnElement, Table
from sqlalchemy.orm import Session

from onemind.store import bulk


def insert_for(session: Session, table: Table) -> Any:
    """The backend's INSERT; its dialect module loads on first use (PostgreSQL's pulls in
    asyncio for its async drivers, which a SQLite store never needs)."""
    dialect = session.get_bind().dialect.name
    name = "postgresql" if dialect == "postgresql" else "sqlite"
    return import_module(f"sqlalchemy.dialects.{name}").insert(table)


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Iterable[str],
    update: Iterable[str] = (),
) -> None:
    """Insert rows; on a key conflict update the `update` columns, or leave the row as it is."""
    if not rows:
        return
    statement = insert_for(session, table)
    columns = list(update)
    if columns:
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={c: statement.excluded[c] for c in columns}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    session.execute(statement, list(rows))


def chunks(values: Sequence[Any], size: int = 900) -> Iterable[Sequence[Any]]:
    """Slices small enough for any backend's bound-parameter limit."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def among(
    session: Session, column: ColumnElement[Any], values: Sequence[Any]
) -> Iterable[ColumnElement[bool]]:
    """Conditions that, each in its own query, select the rows whose `column` is one of
    `values`: one condition with one parameter (see `bulk.among`), none for no values."""
    if values:
        yield bulk.among(session.get_bind().dialect, column, values)
