"""The references of the bulk tables that PostgreSQL does not declare, verified per transaction.

A declared foreign key fires a trigger for each row written, and a load writes rows by the
million (see `models.BULK_TABLES`). A load transaction notes where each bulk table ended when it
began; before it commits, one anti-join per reference checks every row inserted since, and a row
naming a row that does not exist fails the transaction, as a declared key would have. SQLite
declares these keys and checks them itself. The same check covers `employment` and
`person_identifier` while a first roster load has dropped their keys (`deferred_indexes`).
"""

from __future__ import annotations

from sqlalchemy import Table, exists, func, select
from sqlalchemy.orm import Session

from onemind.errors import DanglingReferenceError
from onemind.store.models import BULK_TABLES, Base, DeferredIndex

Marks = dict[str, int]
"""The highest key of each bulk table whose references the backend does not declare."""


def marks(session: Session) -> Marks:
    """Where each bulk table ends now; empty where the database checks the keys itself."""
    if session.get_bind().dialect.name == "sqlite":
        return {}
    found = {}
    for table in (*BULK_TABLES, *_keys_dropped(session)):
        (key,) = table.primary_key.columns
        found[table.name] = session.scalar(select(func.coalesce(func.max(key), 0)))
    return found


def verify(session: Session, since: Marks) -> None:
    """Check the references of the rows inserted after `since` into each table it names.

    Raises:
        DanglingReferenceError: naming the table, the column and how many rows; the caller
            rolls the transaction back.
    """
    for name, mark in since.items():
        table = Base.metadata.tables[name]
        (key,) = table.primary_key.columns
        for constraint in table.foreign_key_constraints:
            (element,) = constraint.elements
            column, target = element.parent, element.column
            dangling = (
                select(func.count())
                .select_from(table)
                .where(key > mark, column.is_not(None), ~exists().where(target == column))
            )
            count = session.scalar(dangling)
            if count:
                raise DanglingReferenceError(
                    f"{count} new row(s) of {table.name} name a {target.table.name} that does not "
                    f"exist ({column.name}); nothing of this transaction is kept"
                )


def _keys_dropped(session: Session) -> list[Table]:
    """The tables one of whose foreign keys a first load has dropped for its time (kept in
    `deferred_index` until added again, see `deferred_indexes`)."""
    kept = set(session.scalars(select(DeferredIndex.name)))
    if not kept:
        return []
    return [
        table
        for table in Base.metadata.sorted_tables
        if any(c.name in kept for c in table.foreign_key_constraints)
    ]
