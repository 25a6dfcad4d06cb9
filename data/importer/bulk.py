"""Bulk inserts: COPY on PostgreSQL (several times faster than executemany), Core on SQLite."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

T = TypeVar("T")


def insert_rows(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys; instants must be tz-aware (they are UTC)."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    json_columns = {name for name in columns if isinstance(table.c[name].type, sa.JSON)}
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c in json_columns else row[c] for c in columns])


def padded(values: Iterable[T]) -> list[T]:
    """`values` for an IN (...) list, its length rounded up to a power of two (by repeating
    the last value), so a file's batches reuse a few statements instead of preparing one
    per list length (each is cached by the driver; long IN lists make big statements)."""
    items = list(values)
    if not items:
        return items
    size = 1 << (len(items) - 1).bit_length()
    return items + [items[-1]] * (size - len(items))


def one_of(conn: Connection, column: sa.ColumnElement[Any], values: Iterable[Any]) -> Any:
    """`column IN values`: one array parameter on PostgreSQL (`= ANY(...)`), a padded
    IN list on SQLite. Thousands of separate parameters cost psycopg real time to bind."""
    if conn.dialect.name == "postgresql":
        array = sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type))
        return column == sa.any_(array)
    return column.in_(padded(values))
