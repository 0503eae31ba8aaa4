"""Writing many rows fast: COPY on PostgreSQL, batched executemany on SQLite.

Rows come as tuples of stored values: Fixed columns as their scaled integers, UTCDateTime columns
as naive UTC datetimes, dates as dates. The billing importer's staging tables and the demo data
at scale go through here; everything else uses the ORM.
"""

from collections.abc import Iterable
from datetime import date, datetime
from itertools import islice

from sqlalchemy import Connection, Date, DateTime, Table

BATCH_ROWS = 5000


def copy_rows(connection: Connection, table: Table, columns: list[str], rows: Iterable) -> int:
    """Append ``rows`` (tuples in the order of ``columns``) to ``table``; return how many."""
    raw = connection.connection.driver_connection
    names = ", ".join(columns)
    written = 0
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
        return written

    # sqlite3's own date adapters are deprecated; write the text SQLAlchemy's types read back.
    converters = [_sqlite_converter(table.c[name].type) for name in columns]
    convert = [index for index, converter in enumerate(converters) if converter]
    marks = ", ".join("?" * len(columns))
    statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608 - no input
    rows = iter(rows)
    cursor = raw.cursor()
    try:
        while batch := list(islice(rows, BATCH_ROWS)):
            if convert:
                batch = [_converted(row, converters, convert) for row in batch]
            cursor.executemany(statement, batch)
            written += len(batch)
    finally:
        cursor.close()
    return written


def _converted(row, converters, convert):
    row = list(row)
    for index in convert:
        if row[index] is not None:
            row[index] = converters[index](row[index])
    return row


def _sqlite_converter(type_):
    stored = getattr(type_, "impl", type_)
    if isinstance(stored, DateTime):
        return _sqlite_datetime
    if isinstance(stored, Date):
        return date.isoformat
    return None


def _sqlite_datetime(value: datetime) -> str:
    """SQLAlchemy's storage format for DateTime on SQLite."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")
