"""Readings submitted in the portal, and their export to the accounting system.

A portal reading is kept until it is exported; a second submission for the same meter, zone and
month replaces it until then, and is refused afterwards. `flask billing export-readings` marks
the readings it writes with a batch in the same transaction as it selects them, so none is
exported twice or missed, whatever subscribers submit meanwhile.
"""

import csv
import os
import tempfile
from datetime import date
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..extensions import db
from ..models import Meter, Reading, ReadingExport

EXPORT_COLUMNS = [
    "meter",
    "zone",
    "month",
    "value",
    "source",
    "state",
    "reason",
    "portal_id",
    "received_at",
]


class AlreadyExported(Exception):
    """The reading of this meter, zone and month has gone to the accounting system: changes
    now go through the subscriber service."""


class UnknownBatch(Exception):
    """No export batch has this id."""


class NotWritten(Exception):
    """The batch is saved, but its file could not be moved into place: write it again with
    ``--batch``."""

    def __init__(self, batch_id: int, reason: str):
        super().__init__(reason)
        self.batch_id, self.reason = batch_id, reason


def store_portal_reading(
    meter_id: int, zone: int, month: date, value: int, user_id: int | None = None
) -> bool:
    """Keep a subscriber's reading in place of the unexported one of the same meter, zone and
    month, if any, and tell whether there was one; raise AlreadyExported if that one has been
    exported. The caller commits."""
    if _replace(meter_id, zone, month, value, user_id):
        return True
    if _exported(meter_id, zone, month):
        raise AlreadyExported
    try:
        with db.session.begin_nested():
            db.session.add(
                Reading(
                    meter_id=meter_id,
                    zone=zone,
                    month=month,
                    value=value,
                    source=Reading.PORTAL,
                    state=Reading.ACCEPTED,
                    received_at=utcnow(),
                    submitted_by=user_id,
                )
            )
    except IntegrityError:
        # A submission in parallel stored its reading first: this one replaces it, unless an
        # export took it in between.
        if not _replace(meter_id, zone, month, value, user_id):
            raise AlreadyExported from None
        return True
    return False


def _portal_reading(meter_id: int, zone: int, month: date):
    return (
        Reading.meter_id == meter_id,
        Reading.zone == zone,
        Reading.month == month,
        Reading.source == Reading.PORTAL,
    )


def _replace(meter_id, zone, month, value, user_id) -> bool:
    return bool(
        db.session.execute(
            update(Reading)
            .where(*_portal_reading(meter_id, zone, month), Reading.export_batch_id.is_(None))
            .values(value=value, received_at=utcnow(), submitted_by=user_id)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def _exported(meter_id, zone, month) -> bool:
    return db.session.scalar(
        select(
            exists().where(
                *_portal_reading(meter_id, zone, month), Reading.export_batch_id.is_not(None)
            )
        )
    )


def export_readings(path: str, batch_id: int | None = None) -> tuple[int | None, int]:
    """Write the portal readings not yet exported to ``path`` as a readings file and mark them
    with a new batch, or write batch ``batch_id`` again. Return (batch id, readings written);
    with nothing new to export, the file holds only its header and no batch is made.

    The file is written next to ``path`` and moved into place after the commit: a failed commit
    leaves no file behind, and a failed move is repaired by writing the batch again."""
    if batch_id is None:
        batch = ReadingExport(created_at=utcnow())
        db.session.add(batch)
        db.session.flush()
        marked = db.session.execute(
            update(Reading)
            .where(Reading.source == Reading.PORTAL, Reading.export_batch_id.is_(None))
            .values(export_batch_id=batch.id, exported_at=batch.created_at, state=Reading.EXPORTED)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not marked:
            db.session.rollback()
            _write(path, [])
            return None, 0
        batch.readings = marked
        batch_id = batch.id
    elif db.session.get(ReadingExport, batch_id) is None:
        raise UnknownBatch
    rows = db.session.execute(
        select(
            Meter.external_id,
            Reading.zone,
            Reading.month,
            Reading.value,
            Reading.id,
            Reading.received_at,
        )
        .join(Meter, Meter.id == Reading.meter_id)
        .where(Reading.export_batch_id == batch_id)
        .order_by(Reading.id)
        .execution_options(yield_per=1000)
    )
    temporary, written = _write_temporary(path, rows)
    try:
        db.session.commit()
    except BaseException:
        os.unlink(temporary)
        raise
    try:
        os.replace(temporary, path)
    except OSError as error:
        os.unlink(temporary)
        raise NotWritten(batch_id, error.strerror) from error
    return batch_id, written


def _write(path: str, rows) -> None:
    os.replace(_write_temporary(path, rows)[0], path)


def _write_temporary(path: str, rows) -> tuple[str, int]:
    """The export file, in a temporary file beside ``path``; its name and the readings in it."""
    local = ZoneInfo(current_app.config["TIME_ZONE"])
    handle, temporary = tempfile.mkstemp(
        dir=os.path.dirname(os.path.abspath(path)), prefix=".export-", suffix=".csv"
    )
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(EXPORT_COLUMNS)
        written = 0
        for meter, zone, month, value, reading_id, received_at in rows:
            writer.writerow(
                [
                    meter,
                    zone,
                    month.strftime("%m.%Y"),
                    value,
                    Reading.FILE_SOURCES[Reading.PORTAL],
                    Reading.STATES[Reading.EXPORTED],
                    "",
                    reading_id,
                    received_at.astimezone(local).strftime("%d.%m.%Y %H:%M:%S"),
                ]
            )
            written += 1
    return temporary, written
