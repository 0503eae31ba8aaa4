"""`flask billing import`: files of the accounting system into the portal's tables.

A file is read as a stream into a temporary staging table (COPY on PostgreSQL), checked there
with set-based queries (references, duplicated keys, the rules between rows and tables), and
merged into its table by natural key with one UPDATE and one INSERT. Memory stays bounded
whatever the file's size: rows never collect in Python, errors go to a temporary table too.
A file is one transaction: with an invalid row and without ``skip_invalid`` nothing of it is
written, and the import log says why.
"""

import codecs
import csv
import errno
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import groupby, islice

from flask import current_app
from sqlalchemy import Column as TableColumn
from sqlalchemy import (
    Connection,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

from ..bulk import copy_rows
from ..clock import utcnow
from ..extensions import db
from ..models import (
    Account,
    AccountContact,
    BillingImport,
    Charge,
    Meter,
    Payment,
    Reading,
    Service,
    UTCDateTime,
)
from . import formats
from .formats import Kind

DETECTION_BYTES = 64 * 1024
MAX_LINE_BYTES = 1024 * 1024
TOO_LONG = "строка длиннее 1 МБ: возможно, строки файла не разделены переводами строки"
PROGRESS_LINES = 10000
OPEN_ERRORS = {
    errno.ENOENT: "файл не найден",
    errno.EACCES: "нет прав на чтение файла",
    errno.EISDIR: "это папка, а не файл",
}
ERROR_COLUMNS = ["line", "column_name", "reason"]  # the temporary table of a file's errors
MERGE_LOCK = 0x6C6B_6269  # the PostgreSQL advisory lock that imports merge under
# What a reference column points to: the table, its natural key column, and how an error
# names a missing row («лицевой счет «…» не найден»).
REFERENCES = {
    "accounts": (Account.__table__, "number", "лицевой счет", "не найден"),
    "services": (Service.__table__, "code", "услуга", "не найдена"),
    "meters": (Meter.__table__, "external_id", "прибор учета", "не найден"),
}


class FileRejected(Exception):
    """The file cannot be read as a file of the exchange format at all."""

    def __init__(self, line: int, column: str, reason: str):
        super().__init__(reason)
        self.line, self.column, self.reason = line, column, reason


@dataclass
class Outcome:
    """What became of one file."""

    path: str
    kind: Kind | None = None
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # the first ones shown
    error_count: int = 0
    rejects_path: str | None = None
    seconds: float = 0.0

    def refuse(self, line: int, column: str, reason: str) -> None:
        """The file is rejected as a whole for this one reason (line 0: no line at all)."""
        self.errors, self.error_count = [(line, column, reason)], 1

    @property
    def result(self) -> str:
        if self.kind is None or (self.error_count and not self.rejects_path):
            return BillingImport.REJECTED
        return BillingImport.PARTIAL if self.rejected else BillingImport.DONE


# --- reading ---------------------------------------------------------------------------------


@dataclass
class Source:
    """An open file of the exchange format: its encoding, delimiter, header and kind."""

    path: str
    # None while every line read is ASCII: the encoding is decided by the first line that is not.
    encoding: str | None
    delimiter: str
    header: list[str]  # the column names, trimmed and in lower case
    titles: list[str]  # the same as the file writes them
    width: int  # the header's cells, with the empty ones a delimiter at its end makes
    kind: Kind | None
    size: int


def open_source(path: str, kinds: tuple[Kind, ...]) -> Source:
    """Detect the encoding, delimiter and kind of ``path``; raise FileRejected if unreadable."""
    with open(path, "rb") as raw:
        head = raw.read(DETECTION_BYTES)
    refuse_unreadable(head)
    source = Source(path, detect_encoding(head), ",", [], [], 0, None, os.path.getsize(path))
    with open(path, "rb") as raw:
        try:
            first_line = next(decoded_lines(raw, source), "")
        except UnicodeDecodeError:
            raise FileRejected(1, "-", undecodable(source.encoding)) from None
        except LineTooLong:
            raise FileRejected(1, "-", TOO_LONG) from None
    if not first_line.strip():
        raise FileRejected(
            1, "-", "файл пуст или начинается с пустой строки — нужна строка заголовка"
        )
    source.delimiter = ";" if ";" in first_line else ","
    try:
        cells = next(csv.reader([first_line], delimiter=source.delimiter, strict=True))
    except csv.Error as error:
        raise FileRejected(1, "-", quoting_problem(error)) from None
    names = [cell.strip().lstrip("\ufeff").lower() for cell in cells]
    source.width = len(names)
    while names and not names[-1]:
        names.pop()  # a delimiter at the end of every line
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise FileRejected(1, repeated[0], "колонка названа в заголовке дважды")
    source.kind = formats.recognise(kinds, names)
    if source.kind is None:
        raise FileRejected(1, "-", unknown_header_reason(kinds, names))
    source.header = names
    source.titles = [cell.strip().lstrip("\ufeff") for cell in cells[: len(names)]]
    return source


def refuse_unreadable(head: bytes) -> None:
    """Files the importer cannot read line by line, with what to do about them."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRejected(
            1, "-", "файл в кодировке UTF-16 («Юникод»): сохраните его в UTF-8 или Windows-1251"
        )
    if b"\r" in head and b"\n" not in head:
        raise FileRejected(
            1,
            "-",
            "строки разделены только символом CR: сохраните файл с переводами строк "
            "Windows (CRLF) или Unix (LF)",
        )


def detect_encoding(head: bytes) -> str | None:
    """UTF-8 with a BOM; None while the file is ASCII (so far); UTF-8 when its first bytes are
    valid UTF-8, else Windows-1251: Russian text in one is almost never valid in the other."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.isascii():
        return None
    return "utf-8" if is_utf8(head, final=False) else "cp1251"


def is_utf8(data: bytes, final: bool = True) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=final)
    except UnicodeDecodeError:
        return False
    return True


def unknown_header_reason(kinds: tuple[Kind, ...], names: list[str]) -> str:
    """Why a header names no kind: the kind it is closest to, and what differs."""
    given = set(names) - {formats.ERROR_COLUMN}
    closest = max(kinds, key=lambda kind: len(kind.column_names & given))
    missing = sorted(closest.column_names - given)
    extra = sorted(given - closest.column_names)
    parts = []
    if missing:
        parts.append("нет колонок " + ", ".join(missing))
    if extra:
        parts.append("лишние колонки " + ", ".join(extra))
    return (
        f"вид файла не распознан по заголовку; ближе всего «{closest.label}» ({closest.name}): "
        + "; ".join(parts)
    )


def records(
    source: Source, progress: Callable[[int], None] | None = None
) -> Iterator[tuple[int, list[str]]]:
    """The file's records after the header, with the physical line each starts on; blank
    lines skipped. ``progress`` hears the number of bytes read now and then, and at the end,
    also when the file turns out unreadable."""
    with open(source.path, "rb") as raw:
        reader = csv.reader(decoded_lines(raw, source), delimiter=source.delimiter, strict=True)
        line = 1
        try:
            next(reader)
            line = reader.line_num + 1
            for record in reader:
                if any(cell.strip() for cell in record):
                    yield line, record
                line = reader.line_num + 1
                if progress and line % PROGRESS_LINES == 0:
                    progress(raw.tell())
        except UnicodeDecodeError:
            # The reader has not counted the line it could not get.
            raise FileRejected(reader.line_num + 1, "-", undecodable(source.encoding)) from None
        except LineTooLong:
            raise FileRejected(reader.line_num + 1, "-", TOO_LONG) from None
        except csv.Error as error:
            raise FileRejected(line, "-", quoting_problem(error)) from None
        finally:
            if progress:
                progress(source.size)


class LineTooLong(Exception):
    """A line longer than MAX_LINE_BYTES: reading on would not keep memory bounded."""


def decoded_lines(raw, source: Source) -> Iterator[str]:
    """The file's lines, each decoded on its own, so that a byte the encoding lacks is caught on
    the line that has it. An ASCII start leaves the encoding to the first line that is not."""
    while line := raw.readline(MAX_LINE_BYTES):
        if len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"):
            raise LineTooLong
        if source.encoding is None:
            if line.isascii():
                yield line.decode("ascii")
                continue
            source.encoding = "utf-8" if is_utf8(line) else "cp1251"
        yield line.decode(source.encoding)


def quoting_problem(error: csv.Error) -> str:
    if "field limit" in str(error):
        return f"значение длиннее {csv.field_size_limit()} символов: возможно, не закрыта кавычка"
    return (
        "нарушены кавычки: значение в кавычках должно занимать всю ячейку, "
        "а кавычка внутри него — быть удвоена"
    )


def undecodable(encoding: str | None) -> str:
    return f"строка не читается в кодировке {encoding_label(encoding)}"


def encoding_label(encoding: str | None) -> str:
    return "Windows-1251" if encoding == "cp1251" else "UTF-8"


def parse_record(
    kind: Kind, positions: list[int], width: int, padded: int, record: list[str]
) -> tuple[tuple | None, list[tuple[str, str]]]:
    """The record's values in the order of the kind's columns (``positions`` says where each
    is among the ``width`` columns of the file), or None and the errors as (column, reason).
    A header ending in delimiters makes ``padded`` cells a row: those past ``width`` must be
    empty."""
    if len(record) == padded > width and not any(cell.strip() for cell in record[width:]):
        record = record[:width]
    if len(record) != width:
        return None, [("-", f"значений в строке {len(record)}, а колонок в заголовке {width}")]
    values, errors = [], []
    for column, position in zip(kind.columns, positions, strict=True):
        cell = record[position].strip()
        if not cell:
            if column.required:
                errors.append((column.name, "не заполнено"))
            values.append(None)
            continue
        try:
            values.append(column.parse(cell))
        except ValueError as error:
            values.append(None)
            errors.append((column.name, str(error)))
    if not errors and kind.rule:
        errors = kind.rule(dict(zip(kind.column_names_in_order, values, strict=True)))
    return (None if errors else tuple(values)), errors


# --- staging ---------------------------------------------------------------------------------


def staging_tables(kind: Kind, dialect: str) -> tuple[Table, Table]:
    """Temporary tables for the file's valid rows (with their line) and its errors."""
    metadata = MetaData()
    options = {"prefixes": ["TEMPORARY"]}
    if dialect == "postgresql":
        options["postgresql_on_commit"] = "DROP"
    stage = Table(
        "billing_stage",
        metadata,
        TableColumn("line", Integer, primary_key=True),
        *(TableColumn(column.name, column.stored) for column in kind.columns),
        **options,
    )
    errors = Table(
        "billing_stage_errors",
        metadata,
        TableColumn(ERROR_COLUMNS[0], Integer, index=True),
        TableColumn(ERROR_COLUMNS[1], Text),
        TableColumn(ERROR_COLUMNS[2], Text),
        **options,
    )
    return stage, errors


# --- importing -------------------------------------------------------------------------------


def import_files(
    paths: list[str],
    skip_invalid: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Outcome]:
    """Import ``paths`` in the order of their kinds; one outcome per file, in that order.
    ``progress(path, bytes_read, size)`` hears how far each file has been read."""
    kinds = formats.kinds(current_app.config["TIME_ZONE"])
    order = {kind.name: index for index, kind in enumerate(kinds)}
    sources = []
    for path in paths:
        outcome = Outcome(path)
        try:
            source = open_source(path, kinds)
            outcome.kind = source.kind
        except FileRejected as rejected:
            source = None
            outcome.refuse(rejected.line, rejected.column, rejected.reason)
        except OSError as error:
            source = None
            outcome.refuse(
                0, "-", OPEN_ERRORS.get(error.errno, f"файл не открывается ({error.strerror})")
            )
        sources.append((outcome, source))
    sources.sort(key=lambda pair: order[pair[1].kind.name] if pair[1] else -1)
    for outcome, source in sources:
        started = utcnow()
        if source is not None:
            import_file(outcome, source, skip_invalid, started, progress)
        if outcome.result == BillingImport.REJECTED:
            outcome.rejected = outcome.rows
            with db.engine.begin() as connection:
                log(connection, outcome, started)
    return [outcome for outcome, _ in sources]


def import_file(outcome: Outcome, source: Source, skip_invalid: bool, started, progress) -> None:
    """Read, check and merge one file in one transaction, logged in it when it succeeds."""
    clock = time.monotonic()
    reported = progress and (lambda position: progress(source.path, position, source.size))
    with db.engine.connect() as connection:
        stage, errors = staging_tables(source.kind, connection.dialect.name)
        transaction = connection.begin()
        try:
            stage.metadata.create_all(connection)
            load(connection, source, stage, errors, reported, outcome)
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"ANALYZE {stage.name}")  # no autovacuum for temp
            if connection.dialect.name == "sqlite":
                # The staging tables stay with the connection. Checking and merging must read
                # and write the database in one write transaction: in a deferred one, a write
                # committed by anyone after its first read makes SQLite refuse the merge.
                transaction.commit()
                transaction = connection.begin()
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            if check_and_merge(connection, source, stage, errors, skip_invalid, outcome):
                log(connection, outcome, started)
                transaction.commit()
        except FileRejected as rejected:
            outcome.refuse(rejected.line, rejected.column, rejected.reason)
        except DBAPIError as error:
            outcome.refuse(0, "-", f"база данных отказала: {error.orig}")
        finally:
            if transaction.is_active:
                transaction.rollback()
            if connection.dialect.name == "sqlite":
                stage.metadata.drop_all(connection)
                connection.commit()
    outcome.seconds = time.monotonic() - clock


def load(connection, source: Source, stage: Table, errors: Table, progress, outcome) -> None:
    """Parse the file into the staging table, batch by batch; the errors of invalid rows go to
    the errors table. The outcome counts the rows read, also when the file turns out
    unreadable half-way."""
    kind = source.kind
    width = len(source.header)
    positions = [source.header.index(column.name) for column in kind.columns]
    stage_columns = ["line", *(column.name for column in kind.columns)]
    batch_rows = current_app.config["IMPORT_BATCH_ROWS"]
    stream = counted(records(source, progress), outcome)
    while batch := list(islice(stream, batch_rows)):
        valid, invalid = [], []
        for line, record in batch:
            values, problems = parse_record(kind, positions, width, source.width, record)
            if values is None:
                invalid.extend((line, column, reason) for column, reason in problems)
            else:
                valid.append((line, *values))
        copy_rows(connection, stage, stage_columns, valid)
        copy_rows(connection, errors, ERROR_COLUMNS, invalid)


def counted(stream: Iterator, outcome: Outcome) -> Iterator:
    """``stream``, counting its items in ``outcome.rows`` as they come."""
    for item in stream:
        outcome.rows += 1
        yield item


def check_and_merge(connection, source, stage, errors, skip_invalid: bool, outcome) -> bool:
    """Check the staged rows and merge the valid ones; False if the file is rejected."""
    check(connection, source.kind, stage, errors)
    outcome.error_count = connection.scalar(select(func.count()).select_from(errors))
    if outcome.error_count:
        outcome.errors = [
            tuple(row)
            for row in connection.execute(
                select(*errors.c)
                .order_by(errors.c.line, errors.c.column_name)
                .limit(current_app.config["IMPORT_ERRORS_SHOWN"])
            )
        ]
        if not skip_invalid:
            return False
        outcome.rejected = connection.scalar(select(func.count(func.distinct(errors.c.line))))
        outcome.rejects_path = write_rejects(connection, source, errors)
    if connection.dialect.name == "postgresql":
        # Two imports merging at once could both insert the same new key.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MERGE_LOCK})
    valid = ~exists().where(errors.c.line == stage.c.line)
    outcome.inserted, outcome.updated = merge(connection, source.kind, stage, valid)
    outcome.unchanged = outcome.rows - outcome.rejected - outcome.inserted - outcome.updated
    return True


# --- checks ----------------------------------------------------------------------------------


def check(connection: Connection, kind: Kind, stage: Table, errors: Table) -> None:
    """Find what only the database can tell: references to rows that do not exist, natural
    keys given twice, and the readings' rules against their meters and exported readings."""
    for column in kind.columns:
        if column.reference:
            table, key, noun, missing = REFERENCES[column.reference]
            value = stage.c[column.name]
            report(
                connection,
                errors,
                select(
                    stage.c.line,
                    literal(column.name),
                    literal(f"{noun} «") + value + literal(f"» {missing}"),
                ).where(~exists().where(table.c[key] == value)),
            )
    report_duplicates(connection, kind, stage, errors)
    if kind.name == "readings":
        report_reading_errors(connection, stage, errors)


def report(connection: Connection, errors: Table, query) -> None:
    connection.execute(insert(errors).from_select(ERROR_COLUMNS, query))


def report_duplicates(connection: Connection, kind: Kind, stage: Table, errors: Table) -> None:
    """Every line of a key given more than once; the first names the last, the others the
    first."""
    keys = [stage.c[name] for name in kind.key]
    groups = (
        select(*keys, func.min(stage.c.line).label("first"), func.max(stage.c.line).label("last"))
        .group_by(*keys)
        .having(func.count() > 1)
        .subquery()
    )
    same_key = and_(*(stage.c[name] == groups.c[name] for name in kind.key))
    reason = case(
        (
            stage.c.line == groups.c.first,
            literal("то же значение ключа в строке ") + cast_text(groups.c.last),
        ),
        else_=literal("повторяет ключ строки ") + cast_text(groups.c.first),
    )
    report(
        connection,
        errors,
        select(stage.c.line, literal(", ".join(kind.key)), reason).select_from(
            stage.join(groups, same_key)
        ),
    )


def report_reading_errors(connection: Connection, stage: Table, errors: Table) -> None:
    """A zone the meter does not have; a verdict on a portal reading that does not exist,
    belongs to another meter, zone or month, or was never exported."""
    meters = Meter.__table__
    report(
        connection,
        errors,
        select(
            stage.c.line,
            literal("zone"),
            literal("у прибора учета тарифных зон: ") + cast_text(meters.c.zones),
        )
        .select_from(stage.join(meters, meters.c.external_id == stage.c.meter))
        .where(stage.c.zone > meters.c.zones),
    )
    readings, reading_meters = Reading.__table__.alias("portal"), meters.alias("portal_meter")
    number = literal("показание портала № ") + cast_text(stage.c.portal_id)
    elsewhere = or_(
        reading_meters.c.external_id != stage.c.meter,
        readings.c.zone != stage.c.zone,
        readings.c.month != stage.c.month,
    )
    report(
        connection,
        errors,
        select(
            stage.c.line,
            literal("portal_id"),
            case(
                (readings.c.id.is_(None), number + literal(" не найдено")),
                (elsewhere, number + literal(" подано по другому прибору, зоне или месяцу")),
                else_=number + literal(" еще не выгружалось из портала"),
            ),
        )
        .select_from(
            stage.outerjoin(
                readings,
                and_(readings.c.id == stage.c.portal_id, readings.c.source == Reading.PORTAL),
            ).outerjoin(reading_meters, reading_meters.c.id == readings.c.meter_id)
        )
        .where(
            stage.c.source == Reading.PORTAL,
            or_(readings.c.id.is_(None), elsewhere, readings.c.export_batch_id.is_(None)),
        ),
    )


def cast_text(expression):
    return expression.cast(Text)


# --- merging ---------------------------------------------------------------------------------


@dataclass
class Plan:
    """How staged rows become rows of ``target``: the value of each target column, the natural
    key among them, and the tables joined to resolve references."""

    target: Table
    key: tuple[str, ...]
    values: dict
    joined: object
    where: tuple = ()
    # Columns an empty cell leaves as they are on update, and gives this value on insert.
    fallbacks: dict = field(default_factory=dict)


def plan(kind: Kind, stage: Table) -> Plan:
    s = stage.c
    accounts, services, meters = Account.__table__, Service.__table__, Meter.__table__
    by_account = stage.join(accounts, accounts.c.number == s.account) if "account" in s else None
    if kind.name == "services":
        table = Service.__table__
        return Plan(
            table,
            ("code",),
            {
                "code": s.code,
                "name": s.name,
                "unit": s.unit,
                "reading_window_start": func.coalesce(
                    s.window_start, default(table, "reading_window_start")
                ),
                "reading_window_end": func.coalesce(
                    s.window_end, default(table, "reading_window_end")
                ),
                "is_penalty": func.coalesce(s.penalty, default(table, "is_penalty")),
            },
            stage,
        )
    if kind.name == "accounts":
        return Plan(
            accounts,
            ("number",),
            {
                "number": s.number,
                "address": s.address,
                "owner_surname": s.owner_surname,
                "owner_name": s.owner_name,
                "status": s.status,
                "total_area": s.area,
                "residents": s.residents,
            },
            stage,
        )
    if kind.name == "contacts":
        return Plan(
            AccountContact.__table__,
            ("account_id", "email"),
            {"account_id": accounts.c.id, "email": s.email},
            by_account,
        )
    if kind.name == "meters":
        return Plan(
            meters,
            ("external_id",),
            {
                "external_id": s.id,
                "account_id": accounts.c.id,
                "service_id": services.c.id,
                "serial_number": s.serial_number,
                "place": s.place,
                "zones": s.zones,
                "digits": s.digits,
                "decimals": func.coalesce(s.decimals, default(meters, "decimals")),
                "installed_on": s.installed_on,
                "next_verification_on": s.next_verification,
                "is_remote_read": func.coalesce(s.remote_read, default(meters, "is_remote_read")),
                "status": func.coalesce(s.status, default(meters, "status")),
            },
            by_account.join(services, services.c.code == s.service),
        )
    if kind.name == "charges":
        return Plan(
            Charge.__table__,
            ("account_id", "month", "service_id"),
            {
                "account_id": accounts.c.id,
                "month": s.month,
                "service_id": services.c.id,
                "volume": s.volume,
                "tariff": s.tariff,
                "accrued": s.accrued,
                "recalculation": func.coalesce(s.recalculation, 0),
                "recalculation_reason": s.recalculation_reason,
                "benefit": func.coalesce(s.benefit, 0),
                "paid": func.coalesce(s.paid, 0),
                "opening_balance": s.opening_balance,
                "closing_balance": s.closing_balance,
            },
            by_account.join(services, services.c.code == s.service),
        )
    if kind.name == "payments":
        return Plan(
            Payment.__table__,
            ("external_id",),
            {
                "external_id": s.id,
                "account_id": accounts.c.id,
                "paid_on": s.date,
                "amount": s.amount,
                "channel": s.channel,
                "month": s.month,
            },
            by_account,
        )
    return Plan(
        Reading.__table__,
        ("meter_id", "zone", "month", "source"),
        {
            "meter_id": meters.c.id,
            "zone": s.zone,
            "month": s.month,
            "value": s.value,
            "source": s.source,
            "state": s.state,
            "rejection_reason": s.reason,
            "received_at": s.received_at,
        },
        stage.join(meters, meters.c.external_id == s.meter),
        where=(s.source == Reading.BILLING,),
        fallbacks={"received_at": literal(utcnow(), UTCDateTime)},
    )


def default(table: Table, column: str):
    """The model's default of a column, for a cell left empty."""
    return table.c[column].default.arg


def merge(connection: Connection, kind: Kind, stage: Table, valid) -> tuple[int, int]:
    """Upsert the valid staged rows by natural key; return (inserted, updated)."""
    how = plan(kind, stage)
    source = (
        select(*(value.label(name) for name, value in how.values.items()))
        .select_from(how.joined)
        .where(valid, *how.where)
        .subquery("source")
    )
    if connection.dialect.name == "postgresql" and not how.fallbacks:
        inserted, updated = upsert(connection, how, source)
    else:
        inserted, updated = update_then_insert(connection, how, source)
    if kind.name == "readings":
        updated += record_verdicts(connection, stage, valid)
    return inserted, updated


def upsert(connection: Connection, how: Plan, source) -> tuple[int, int]:
    """PostgreSQL: one INSERT … ON CONFLICT DO UPDATE of the rows that differ, in key order.
    Each row is looked up in the key's unique index, where a join would scan the whole table
    (temporary tables have no statistics). xmax is 0 in a row the statement inserted."""
    target = how.target
    changing = [name for name in how.values if name not in how.key]
    statement = postgresql.insert(target).from_select(
        list(how.values), select(source).order_by(*(source.c[name] for name in how.key))
    )
    if changing:
        statement = statement.on_conflict_do_update(
            index_elements=list(how.key),
            set_={name: statement.excluded[name] for name in changing},
            where=or_(
                *(target.c[name].is_distinct_from(statement.excluded[name]) for name in changing)
            ),
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(how.key))
    merged = statement.returning(literal_column("xmax = 0").label("new")).cte("merged")
    inserted, updated = connection.execute(
        select(
            func.count().filter(merged.c.new),
            func.count().filter(~merged.c.new),
        )
    ).one()
    return inserted, updated


def update_then_insert(connection: Connection, how: Plan, source) -> tuple[int, int]:
    """One UPDATE of the rows that differ, one INSERT of the new ones: SQLite runs both through
    the key's unique index, and an empty cell can keep a stored value (``Plan.fallbacks``)."""
    target = how.target
    matches = and_(*(target.c[name] == source.c[name] for name in how.key))
    changing = [name for name in how.values if name not in how.key]
    updated = 0
    if changing:
        new = {
            name: (
                func.coalesce(source.c[name], target.c[name])
                if name in how.fallbacks
                else source.c[name]
            )
            for name in changing
        }
        updated = connection.execute(
            update(target)
            .where(matches)
            .where(or_(*(target.c[name].is_distinct_from(new[name]) for name in changing)))
            .values(new)
        ).rowcount
    inserted = connection.execute(
        insert(target)
        .from_select(
            list(how.values),
            select(
                *(
                    func.coalesce(source.c[name], how.fallbacks[name])
                    if name in how.fallbacks
                    else source.c[name]
                    for name in how.values
                )
            ).where(~exists().where(matches)),
        )
        # SQLAlchemy keeps an INSERT's row count only when asked to.
        .execution_options(preserve_rowcount=True)
    ).rowcount
    return inserted, updated


def record_verdicts(connection: Connection, stage: Table, valid) -> int:
    """Set the accounting system's verdict on exported portal readings; return how many
    changed."""
    readings = Reading.__table__
    verdicts = (
        select(stage.c.portal_id, stage.c.state, stage.c.reason)
        .where(valid, stage.c.source == Reading.PORTAL)
        .subquery("verdict")
    )
    return connection.execute(
        update(readings)
        .where(readings.c.id == verdicts.c.portal_id)
        # «передано в расчет» is what the export wrote, not a verdict: an old export file
        # imported again must not undo one.
        .where(verdicts.c.state != Reading.EXPORTED)
        .where(
            or_(
                readings.c.state.is_distinct_from(verdicts.c.state),
                readings.c.rejection_reason.is_distinct_from(verdicts.c.reason),
            )
        )
        .values(state=verdicts.c.state, rejection_reason=verdicts.c.reason)
    ).rowcount


# --- rejected rows and the log ---------------------------------------------------------------


def write_rejects(connection: Connection, source: Source, errors: Table) -> str:
    """Write the rejected rows, as read, with their reasons in a last column, to
    <name>.rejected.csv beside the file, in its encoding and delimiter; return its path."""
    stem, _ = os.path.splitext(source.path)
    path = stem + ".rejected.csv"
    query = select(*errors.c).order_by(errors.c.line, errors.c.column_name)
    # A rejects file imported again has an error column already: it gets the new reasons.
    kept = [i for i, name in enumerate(source.header) if name != formats.ERROR_COLUMN]
    try:
        with (
            connection.execute(query.execution_options(yield_per=1000)) as rows,
            open(
                path, "w", encoding=source.encoding or "utf-8", errors="replace", newline=""
            ) as out,
        ):
            reasons = (
                (line, "; ".join(f"{column}: {reason}" for _, column, reason in group))
                for line, group in groupby(rows, key=lambda row: row[0])
            )
            writer = csv.writer(out, delimiter=source.delimiter, lineterminator="\r\n")
            writer.writerow([*(source.titles[i] for i in kept), formats.ERROR_COLUMN])
            next_bad = next(reasons, None)
            for line, record in records(source):
                while next_bad and next_bad[0] < line:
                    next_bad = next(reasons, None)
                if next_bad and next_bad[0] == line:
                    cells = record + [""] * (len(source.header) - len(record))
                    extra = cells[len(source.header) :]  # a row with too many cells keeps them
                    writer.writerow([*(cells[i] for i in kept), *extra, next_bad[1]])
    except OSError as error:
        raise FileRejected(
            0, "-", f"не удалось записать отклоненные строки в {path}: {error.strerror}"
        ) from None
    return path


def log(connection: Connection, outcome: Outcome, started) -> None:
    """Keep what became of the file in the import log."""
    first = outcome.errors[0] if outcome.errors else None
    connection.execute(
        insert(BillingImport.__table__).values(
            file_name=os.path.basename(outcome.path)[:255],
            kind=outcome.kind.name if outcome.kind else None,
            started_at=started,
            finished_at=utcnow(),
            rows=outcome.rows,
            inserted=outcome.inserted,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
            rejected=outcome.rejected,
            result=outcome.result,
            message=log_message(first),
        )
    )


def log_message(error) -> str | None:
    """The file's first error for the import log."""
    if error is None:
        return None
    line, column, reason = error
    return (f"строка {line}: {column}: {reason}" if line else reason)[:500]
