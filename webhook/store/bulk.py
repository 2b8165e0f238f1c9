"""Inserting many rows at once, with their values converted once, here, as the driver takes them.

In a storm of new alerts the receiver writes thousands of alert and timeline rows a second.
SQLAlchemy processes every value of every row on its way to the driver (the type decorator of
UTC datetimes, then SQLite's datetime format, JSON), which cost several times what the insert
itself costs in the database. A `BulkInsert` compiles its statement once per dialect and
converts each column with one plain function, chosen by the column's type; the driver then gets
the rows as they are. The values written are the same as through SQLAlchemy: the rest of SIGAP
reads them back through the ORM unchanged (tests/webhook/test_store_bulk.py checks that).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Connection, Dialect, FromClause, String, insert

from webhook.store.models import UTCDateTime, json_text

Convert = Callable[[Any], Any]


@functools.lru_cache(maxsize=4096)  # the rows of a batch share most of their times
def _sqlite_datetime(value: datetime | None) -> str | None:
    """As SQLAlchemy's SQLite dialect stores it: naive UTC, always with microseconds (the
    database compares these strings, so every row must have the same form)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}; SIGAP stores aware UTC datetimes")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _aware_datetime(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}; SIGAP stores aware UTC datetimes")
    return value


def _json(value: Any) -> str | None:
    return None if value is None else json_text(value)


def _converter(column_type: Any, dialect: Dialect) -> Convert | None:
    """How a value of `column_type` goes to the driver of `dialect`; None: as it is."""
    if isinstance(column_type, UTCDateTime):
        return _sqlite_datetime if dialect.name == "sqlite" else _aware_datetime
    if isinstance(column_type, JSON):  # also JSONB, its PostgreSQL variant
        return _json
    return None


def _pg_element(column_type: Any, dialect: Dialect) -> str:
    """The array element type of a column: text for strings, since a cast to ``varchar(n)``
    would cut a long value short where storing it must fail (the receiver answers 422)."""
    if isinstance(column_type, String):
        return "TEXT"
    return str(dialect.type_compiler_instance.process(column_type))


class BulkInsert:
    """``INSERT INTO table (columns)`` of many rows, each a sequence of values in the order of
    `columns` (the table's order), converted as described above. SQLite gets the rows one
    by one in one call (``executemany``: no round trips); PostgreSQL gets one statement that
    takes a column of values an array (``SELECT * FROM unnest(...)``): row by row, its
    server would parse, bind and execute each one (three times the cost in a storm)."""

    def __init__(self, table: FromClause, columns: Sequence[str]) -> None:
        names = [c.name for c in table.columns if c.name in columns]
        if names != list(columns):
            raise ValueError(f"{table}: columns {columns} not in the table's order {names}")
        self.table = table
        self.columns = tuple(columns)
        self._compiled: dict[str, tuple[str, list[tuple[int, Convert]]]] = {}

    def _for(self, dialect: Dialect) -> tuple[str, list[tuple[int, Convert]]]:
        """The statement for `dialect`, and the columns whose values it converts."""
        known = self._compiled.get(dialect.name)
        if known is None:
            known = self._compiled[dialect.name] = (self._statement(dialect), [
                (i, convert)
                for i, name in enumerate(self.columns)
                if (convert := _converter(self.table.c[name].type, dialect)) is not None
            ])  # fmt: skip
        return known

    def _statement(self, dialect: Dialect) -> str:
        target = insert(self.table).inline()  # type: ignore[arg-type]
        compiled = target.compile(dialect=dialect, column_keys=list(self.columns))
        assert tuple(compiled.positiontup or ()) == self.columns, compiled.string
        if dialect.name != "postgresql":
            return compiled.string
        head = compiled.string[: compiled.string.index(" VALUES ")]
        arrays = ", ".join(
            f"${n}::{_pg_element(self.table.c[name].type, dialect)}[]"
            for n, name in enumerate(self.columns, start=1)
        )
        return f"{head} SELECT * FROM unnest({arrays})"

    def execute(self, connection: Connection, rows: Iterable[Sequence[Any]]) -> None:
        sql, converting = self._for(connection.dialect)
        parameters = []
        for row in rows:
            values = list(row)
            for i, convert in converting:
                values[i] = convert(values[i])
            parameters.append(tuple(values))
        if not parameters:
            return
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(
                sql, tuple(list(column) for column in zip(*parameters, strict=True))
            )
        else:
            connection.exec_driver_sql(sql, parameters)
