"""Multi-row inserts for large loads: ids allocated up front, rows handed to the driver as is.

At a million rows, SQLAlchemy's per-row parameter handling costs more than the database's own
work, and RETURNING makes SQLite insert one row at a time. A `BulkInsert` is compiled once per
dialect; each column's own bind processor converts its values. SQLite takes them through the
driver's `executemany`; PostgreSQL through COPY, straight into the table, or, where columns are
computed, into a temporary table and one INSERT … SELECT, since it would otherwise plan and run
the statement once per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    BindParameter,
    Column,
    ColumnElement,
    Connection,
    MetaData,
    Table,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateTable

Values = Callable[[str], ColumnElement[Any]]
"""The value a row gives one of the insert's columns, for use in computed columns."""
Expressions = Callable[[Values], Mapping[str, ColumnElement[Any]]]


class BulkInsert:
    """INSERT INTO `table` one row per list of values, in the order of `columns`.

    `fixed` columns take one value for a whole call. `expressions` compute other columns from
    a row's values (a lookup, say); literals in them are sent as constants.
    """

    def __init__(
        self,
        table: Table,
        columns: Sequence[str],
        dialect: Dialect,
        fixed: Sequence[str] = (),
        expressions: Expressions | None = None,
    ) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.fixed = tuple(fixed)
        self.expressions = expressions or (lambda values: {})
        self.processors = [
            (index, processor)
            for index, name in enumerate(self.columns)
            if (processor := _processor(table.c[name], dialect)) is not None
        ]
        if dialect.name != "postgresql":
            self.send = self._execute_many(dialect)
        elif expressions is None:
            self.send = self._copy(dialect)
        else:
            self.send = self._copy_then_insert(dialect)

    def execute(
        self, connection: Connection, rows: Sequence[list[Any]], fixed: Mapping[str, Any]
    ) -> None:
        """Insert `rows`, each a list of values in column order (converted, and extended, in
        place); `fixed` gives the value of each fixed column."""
        if not rows:
            return
        for index, processor in self.processors:
            for row in rows:
                row[index] = processor(row[index])
        self.send(connection, rows, [fixed[name] for name in self.fixed])

    def _execute_many(self, dialect: Dialect) -> Callable[[Connection, Any, list[Any]], None]:
        """One parametrised INSERT … VALUES run by `executemany`, rows as positional tuples."""
        params = {name: param(self.table, name) for name in (*self.columns, *self.fixed)}
        computed = self.expressions(lambda name: params[name])
        compiled = (
            self.table.insert().inline().values({**params, **computed}).compile(dialect=dialect)
        )
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        names = [params[c].key for c in (*self.columns, *self.fixed)]
        literals = [name for name in binds if name not in names]
        constants = [_literal(binds[name], dialect) for name in literals]
        if compiled.positiontup is None:
            raise ValueError(f"{dialect.name}: a positional parameter style is needed")
        order = [(names + literals).index(name) for name in compiled.positiontup]
        shape = itemgetter(*order) if len(order) > 1 else lambda row: (row[order[0]],)
        sql = compiled.string

        convert = self._fixed_converter(dialect)

        def send(connection: Connection, rows: Any, values: list[Any]) -> None:
            tail = convert(values) + constants
            for row in rows:
                row.extend(tail)
            connection.exec_driver_sql(sql, [shape(row) for row in rows])

        return send

    def _fixed_converter(self, dialect: Dialect) -> Callable[[list[Any]], list[Any]]:
        """The fixed columns' values as the driver takes them."""
        processors = [_processor(self.table.c[name], dialect) for name in self.fixed]

        def convert(values: list[Any]) -> list[Any]:
            return [
                value if processor is None else processor(value)
                for value, processor in zip(values, processors, strict=True)
            ]

        return convert

    def _copy(self, dialect: Dialect) -> Callable[[Connection, Any, list[Any]], None]:
        """COPY straight into the table, each row followed by the fixed values."""
        copy = f"COPY {self.table.name} ({', '.join((*self.columns, *self.fixed))}) FROM STDIN"
        convert = self._fixed_converter(dialect)

        def send(connection: Connection, rows: Any, values: list[Any]) -> None:
            tail = convert(values)
            driver: Any = connection.connection.driver_connection
            with driver.cursor() as cursor, cursor.copy(copy) as pipe:
                for row in rows:
                    row.extend(tail)
                    pipe.write_row(row)

        return send

    def _copy_then_insert(self, dialect: Dialect) -> Callable[[Connection, Any, list[Any]], None]:
        """COPY into a per-session temporary table, then INSERT … SELECT from it (whose
        parameters, the fixed values, SQLAlchemy converts itself)."""
        stage = Table(
            f"bulk_{self.table.name}",
            MetaData(),
            *(Column(name, self.table.c[name].type) for name in self.columns),
            prefixes=["TEMPORARY"],
        )
        params = {name: param(self.table, name) for name in self.fixed}
        computed = self.expressions(lambda name: stage.c[name])
        insert = self.table.insert().from_select(
            [*self.columns, *params, *computed],
            select(*stage.c, *params.values(), *computed.values()),
        )
        create = str(CreateTable(stage, if_not_exists=True).compile(dialect=dialect))
        copy = f"COPY {stage.name} ({', '.join(self.columns)}) FROM STDIN"

        names = [p.key for p in params.values()]

        def send(connection: Connection, rows: Any, values: list[Any]) -> None:
            connection.exec_driver_sql(create)
            driver: Any = connection.connection.driver_connection
            with driver.cursor() as cursor, cursor.copy(copy) as pipe:
                for row in rows:
                    pipe.write_row(row)
            connection.execute(insert, dict(zip(names, values, strict=True)))
            connection.execute(text(f"TRUNCATE {stage.name}"))

        return send


def param(table: Table, column: str) -> BindParameter[Any]:
    """A bound parameter carrying `column`'s value."""
    return bindparam(f"v_{column}", type_=table.c[column].type)


def allocate_ids(connection: Connection, table: Table, count: int) -> Sequence[int]:
    """`count` unused primary keys of `table`, for rows this transaction is about to insert.

    SQLite has one writer at a time: once this transaction has written, nobody else can take
    the ids above the current maximum (and before it has, a competing commit makes its first
    write fail rather than collide). PostgreSQL draws them from the column's sequence.
    """
    if count <= 0:
        return range(0)
    if connection.dialect.name == "sqlite":
        top = connection.execute(select(func.max(table.c.id))).scalar() or 0
        return range(top + 1, top + 1 + count)
    sequence = func.nextval(func.pg_get_serial_sequence(table.name, "id"))
    series = func.generate_series(1, count)
    return list(connection.execute(select(sequence).select_from(series)).scalars())


def among(
    dialect: Dialect, column: ColumnElement[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(:array)`, one parameter however many
    values: a list of thousands of ids costs more to render, send and parse than to run."""
    if dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def _processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _literal(bind: BindParameter[Any], dialect: Dialect) -> Any:
    """The value of a literal inside a computed column, as the driver takes it."""
    processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
    value = bind.effective_value
    return value if processor is None else processor(value)
