"""`flask billing export-readings` through Flask's CLI runner: what a batch holds, that readings
are marked in it, that none is exported twice or lost — also while subscribers submit during an
export — that a past batch is written again byte for byte, and that the accounting system's
verdicts come back by importing the exported file."""

import csv
import io
import os
import re
import threading
import traceback
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from billing_files import (
    add_reference_data,
    billing_import,
    snapshot,
    summaries,
)
from sqlalchemy import func, select

from conftest import NOW
from lkabonent.billing import readings
from lkabonent.billing.formats import moment, month
from lkabonent.billing.readings import AlreadyExported, store_portal_reading
from lkabonent.extensions import db
from lkabonent.models import Reading, ReadingExport

HEADER = "meter;zone;month;value;source;state;reason;portal_id;received_at"
OCTOBER = date(2026, 10, 1)


@pytest.fixture
def meters(app):
    """Meters E-1 (two zones) and W-1 of account 1090000001; their ids by external id."""
    return add_reference_data(app)


@dataclass(frozen=True)
class Row:
    """One row of an export file, parsed as the accounting system would."""

    meter: str
    zone: int
    month: date
    value: int
    source: str
    state: str
    reason: str
    portal_id: int
    received_at: datetime


def read_export(app, path) -> list[Row]:
    """The rows of an export file; its header checked."""
    header, *records = csv.reader(io.StringIO(path.read_bytes().decode("utf-8")), delimiter=";")
    assert ";".join(header) == HEADER
    parse_moment = moment(app.config["TIME_ZONE"])
    rows = []
    for meter, zone, month_cell, value, source, state, reason, portal_id, received in records:
        rows.append(
            Row(
                meter,
                int(zone),
                month(month_cell),
                int(value),
                source,
                state,
                reason,
                int(portal_id),
                parse_moment(received).replace(tzinfo=UTC),  # read as naive UTC
            )
        )
    return rows


def export(app, path, batch=None):
    """`flask billing export-readings --out PATH [--batch ID]`; fails on a traceback."""
    args = ["billing", "export-readings", "--out", str(path)]
    if batch is not None:
        args += ["--batch", str(batch)]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exception is None or isinstance(result.exception, SystemExit), "".join(
        traceback.format_exception(*result.exc_info)
    )
    return result


def submit(app, meter_id, zone, month_, value) -> None:
    """A subscriber's reading, stored as the portal stores it, committed."""
    with app.app_context():
        store_portal_reading(meter_id, zone, month_, value)
        db.session.commit()


def portal_readings(app) -> list[Reading]:
    """The portal's readings, oldest first, detached."""
    with app.app_context():
        rows = db.session.scalars(
            select(Reading).where(Reading.source == Reading.PORTAL).order_by(Reading.id)
        ).all()
        db.session.expunge_all()
        return rows


def batches(app) -> list[tuple[int, int]]:
    """(id, number of readings) of every export batch."""
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                select(ReadingExport.id, ReadingExport.readings).order_by(ReadingExport.id)
            )
        ]


def test_export_writes_the_new_portal_readings_and_marks_them(app, meters, tmp_path, time_machine):
    time_machine.move_to(NOW, tick=False)
    submit(app, meters["E-1"], 1, OCTOBER, 12700)
    submit(app, meters["E-1"], 2, OCTOBER, 5420)
    submit(app, meters["W-1"], 1, OCTOBER, 419)
    with app.app_context():
        # The accounting system's own reading is never exported.
        db.session.add(
            Reading(
                meter_id=meters["W-1"],
                zone=1,
                month=OCTOBER,
                value=418,
                source=Reading.BILLING,
            )
        )
        db.session.commit()

    path = tmp_path / "readings.csv"
    result = export(app, path)
    assert result.exit_code == 0, result.output
    [(batch_id, count)] = batches(app)
    assert count == 3
    assert re.search(rf"\b{batch_id}\b", result.output) and re.search(r"\b3\b", result.output)

    readings = portal_readings(app)
    assert [(reading.state, reading.export_batch_id) for reading in readings] == [
        (Reading.EXPORTED, batch_id)
    ] * 3
    assert all(reading.exported_at == NOW for reading in readings)
    with app.app_context():
        billing = db.session.scalar(select(Reading).where(Reading.source == Reading.BILLING))
        assert (billing.state, billing.export_batch_id, billing.exported_at) == (
            Reading.ACCEPTED,
            None,
            None,
        )

    ids = [reading.id for reading in readings]
    assert read_export(app, path) == [
        Row("E-1", 1, OCTOBER, 12700, "портал", "передано в расчет", "", ids[0], NOW),
        Row("E-1", 2, OCTOBER, 5420, "портал", "передано в расчет", "", ids[1], NOW),
        Row("W-1", 1, OCTOBER, 419, "портал", "передано в расчет", "", ids[2], NOW),
    ]
    # Dates as Russian billing systems write them.
    assert re.search(r";10\.2026;", path.read_text("utf-8"))
    assert re.search(r";27\.11\.2026 13:00", path.read_text("utf-8"))


def test_each_export_writes_only_what_no_export_wrote_before(app, meters, tmp_path):
    submit(app, meters["E-1"], 1, OCTOBER, 12700)
    submit(app, meters["W-1"], 1, OCTOBER, 419)
    assert export(app, tmp_path / "first.csv").exit_code == 0
    submit(app, meters["E-1"], 2, OCTOBER, 5420)
    assert export(app, tmp_path / "second.csv").exit_code == 0

    first, second = (
        read_export(app, tmp_path / "first.csv"),
        read_export(app, tmp_path / "second.csv"),
    )
    assert [(row.meter, row.zone) for row in first] == [("E-1", 1), ("W-1", 1)]
    assert [(row.meter, row.zone, row.value) for row in second] == [("E-1", 2, 5420)]
    [(first_batch, first_count), (second_batch, second_count)] = batches(app)
    assert (first_count, second_count) == (2, 1)
    assert {reading.id: reading.export_batch_id for reading in portal_readings(app)} == {
        first[0].portal_id: first_batch,
        first[1].portal_id: first_batch,
        second[0].portal_id: second_batch,
    }


def test_with_nothing_new_only_the_header_is_written_and_no_batch(app, meters, tmp_path):
    path = tmp_path / "empty.csv"
    result = export(app, path)
    assert result.exit_code == 0, result.output
    assert path.read_bytes().decode("utf-8").splitlines() == [HEADER]
    assert batches(app) == []

    submit(app, meters["E-1"], 1, OCTOBER, 12700)
    assert export(app, tmp_path / "first.csv").exit_code == 0
    result = export(app, path)
    assert result.exit_code == 0, result.output
    assert read_export(app, path) == []
    assert len(batches(app)) == 1


def test_a_past_batch_is_written_again_byte_for_byte(app, meters, tmp_path):
    submit(app, meters["E-1"], 1, OCTOBER, 12700)
    submit(app, meters["W-1"], 1, OCTOBER, 419)
    assert export(app, tmp_path / "first.csv").exit_code == 0
    submit(app, meters["E-1"], 2, OCTOBER, 5420)
    assert export(app, tmp_path / "second.csv").exit_code == 0
    before = snapshot(app)

    [(first_batch, _), (second_batch, _)] = batches(app)
    for batch, original in ((first_batch, "first.csv"), (second_batch, "second.csv")):
        again = tmp_path / f"again-{batch}.csv"
        result = export(app, again, batch=batch)
        assert result.exit_code == 0, result.output
        assert again.read_bytes() == (tmp_path / original).read_bytes()
    assert snapshot(app) == before


def test_an_unknown_batch_is_an_error(app, meters, tmp_path):
    submit(app, meters["E-1"], 1, OCTOBER, 12700)
    assert export(app, tmp_path / "first.csv").exit_code == 0
    [(batch, _)] = batches(app)
    result = export(app, tmp_path / "again.csv", batch=batch + 1)
    assert result.exit_code == 1
    assert str(batch + 1) in result.output
    assert len(batches(app)) == 1


def test_a_reading_replaced_before_its_export_is_exported_once_with_the_last_value(
    app, meters, tmp_path
):
    submit(app, meters["E-1"], 1, OCTOBER, 12700)
    submit(app, meters["E-1"], 1, OCTOBER, 12670)
    path = tmp_path / "readings.csv"
    assert export(app, path).exit_code == 0
    [reading] = portal_readings(app)
    assert [(row.portal_id, row.value) for row in read_export(app, path)] == [(reading.id, 12670)]


def test_an_exported_reading_is_not_replaced(app, meters, tmp_path):
    submit(app, meters["E-1"], 1, OCTOBER, 12700)
    assert export(app, tmp_path / "first.csv").exit_code == 0
    with pytest.raises(AlreadyExported):
        submit(app, meters["E-1"], 1, OCTOBER, 12750)
    assert [(reading.value, reading.state) for reading in portal_readings(app)] == [
        (12700, Reading.EXPORTED)
    ]
    # The next month's reading is a new one, and goes in the next batch alone.
    submit(app, meters["E-1"], 1, date(2026, 11, 1), 12900)
    path = tmp_path / "second.csv"
    assert export(app, path).exit_code == 0
    assert [(row.month, row.value) for row in read_export(app, path)] == [
        (date(2026, 11, 1), 12900)
    ]


def exported_and_answered(app, meters, tmp_path):
    """Two readings exported, and the accounting system's answer: the same rows with the first
    rejected and the second accepted. The paths of both files."""
    submit(app, meters["E-1"], 1, OCTOBER, 12700)
    submit(app, meters["W-1"], 1, OCTOBER, 419)
    path = tmp_path / "readings.csv"
    assert export(app, path).exit_code == 0
    lines = list(csv.reader(io.StringIO(path.read_text("utf-8")), delimiter=";"))
    lines[1][5:7] = ["отклонено", "Показание меньше предыдущего"]
    lines[2][5] = "принято"
    answer = io.StringIO()
    csv.writer(answer, delimiter=";").writerows(lines)
    verdicts = tmp_path / "verdicts.csv"
    verdicts.write_text(answer.getvalue(), "utf-8")
    return path, verdicts


def test_the_exported_file_brings_the_verdicts_back(app, meters, tmp_path):
    _, verdicts = exported_and_answered(app, meters, tmp_path)

    result = billing_import(app, verdicts)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(0, 2, 0, 0)]
    assert [
        (reading.value, reading.state, reading.rejection_reason) for reading in portal_readings(app)
    ] == [
        (12700, Reading.REJECTED, "Показание меньше предыдущего"),
        (419, Reading.ACCEPTED, None),
    ]
    # A verdict is no new reading, and a reading with a verdict is not exported again.
    assert export(app, tmp_path / "next.csv").exit_code == 0
    assert read_export(app, tmp_path / "next.csv") == []


# --- an export while readings arrive --------------------------------------------------------------

KEYS = [
    (meter, zone, date(2026, month_number, 1))
    for month_number in (7, 8, 9, 10)
    for meter, zone in (("E-1", 1), ("E-1", 2), ("W-1", 1))
]
SUBMISSIONS = 72  # each key twice in a row (a replacement), and again three rounds later
EXPORTS_BETWEEN = 6  # the subscriber waits for an export to end after so many submissions


def test_readings_submitted_during_exports_are_each_exported_once(app, meters, tmp_path):
    last_stored = {}  # key → the last value stored
    refused = []  # (key, value) refused because the key's reading was exported
    failures = []
    export_ended, finished, aborted = threading.Event(), threading.Event(), threading.Event()

    def subscriber():
        """Submit readings while exports run; now and then wait for one to end, so that exports
        fall between the submissions and some keys come again after their export."""
        try:
            with app.app_context():
                for number in range(SUBMISSIONS):
                    if number % EXPORTS_BETWEEN == 0:
                        export_ended.clear()
                        export_ended.wait(timeout=30)
                    if aborted.is_set():
                        return
                    key, value = KEYS[number // 2 % len(KEYS)], 1000 + number
                    try:
                        store_portal_reading(meters[key[0]], key[1], key[2], value)
                        db.session.commit()
                    except AlreadyExported:
                        db.session.rollback()
                        refused.append((key, value))
                    else:
                        last_stored[key] = value
        except Exception:
            failures.append(traceback.format_exc())
        finally:
            finished.set()

    thread = threading.Thread(target=subscriber)
    thread.start()
    files = []
    try:
        while not finished.is_set():
            files.append(tmp_path / f"export-{len(files)}.csv")
            assert export(app, files[-1]).exit_code == 0
            export_ended.set()
    finally:
        aborted.set()
        thread.join()
    files.append(tmp_path / "last.csv")
    assert export(app, files[-1]).exit_code == 0
    assert failures == []
    # What the test is about happened: readings were refused after their export, and more
    # than one batch was written.
    assert refused
    assert sum(1 for path in files if read_export(app, path)) > 1

    exported = {}  # portal id → (batch file, row)
    for path in files:
        for row in read_export(app, path):
            assert row.portal_id not in exported, f"{row} exported twice"
            exported[row.portal_id] = (path, row)

    readings = portal_readings(app)
    assert {reading.id for reading in readings} == set(exported)
    external = {meter_id: name for name, meter_id in meters.items()}
    assert {
        (external[reading.meter_id], reading.zone, reading.month): reading.value
        for reading in readings
    } == last_stored
    for reading in readings:
        _, row = exported[reading.id]
        assert (row.value, reading.state) == (reading.value, Reading.EXPORTED)
    assert all(value not in {row.value for _, row in exported.values()} for _, value in refused)

    # Each file is one batch, and the batch counts its readings.
    by_batch = {}
    for reading in readings:
        by_batch.setdefault(reading.export_batch_id, set()).add(exported[reading.id][0])
    assert all(len(paths) == 1 for paths in by_batch.values())
    with app.app_context():
        counted = dict(
            db.session.execute(
                select(Reading.export_batch_id, func.count())
                .where(Reading.source == Reading.PORTAL)
                .group_by(Reading.export_batch_id)
            ).all()
        )
    assert dict(batches(app)) == counted
    assert len(counted) == sum(1 for path in files if read_export(app, path))


def test_an_old_export_file_imported_again_does_not_undo_a_verdict(app, meters, tmp_path):
    path, verdicts = exported_and_answered(app, meters, tmp_path)
    assert summaries(billing_import(app, verdicts).output) == [(0, 2, 0, 0)]
    before = snapshot(app)

    # The export file again: «передано в расчет» is what the portal wrote, not a verdict.
    result = billing_import(app, path)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(0, 0, 2, 0)]
    assert snapshot(app) == before
    assert [
        (reading.value, reading.state, reading.rejection_reason) for reading in portal_readings(app)
    ] == [
        (12700, Reading.REJECTED, "Показание меньше предыдущего"),
        (419, Reading.ACCEPTED, None),
    ]


def test_an_export_file_that_cannot_be_moved_into_place_names_its_batch(
    app, meters, tmp_path, monkeypatch
):
    submit(app, meters["E-1"], 1, OCTOBER, 12700)
    submit(app, meters["W-1"], 1, OCTOBER, 419)
    path = tmp_path / "readings.csv"
    # A directory named as --out is refused before anything is exported.
    path.mkdir()
    result = export(app, path)
    assert result.exit_code == 1
    assert f"{path} — это папка; укажите в --out имя файла." in result.output
    assert batches(app) == []
    path.rmdir()

    # The directory appears after the option was checked, while the file is being written.
    write_temporary = readings._write_temporary

    def written_while_a_directory_takes_the_place(out, rows):
        written = write_temporary(out, rows)
        os.mkdir(out)
        return written

    monkeypatch.setattr(readings, "_write_temporary", written_while_a_directory_takes_the_place)
    result = export(app, path)
    monkeypatch.undo()
    assert result.exit_code == 1
    [(batch_id, count)] = batches(app)
    assert count == 2
    assert f"Выгрузка № {batch_id} сохранена, но файл {path} не записан: " in result.output
    assert f"--batch {batch_id}" in result.output
    assert {reading.export_batch_id for reading in portal_readings(app)} == {batch_id}
    assert path.is_dir() and list(path.iterdir()) == []
    # The temporary file is not left behind.
    assert sorted(tmp_path.iterdir()) == [path]

    again = tmp_path / "again.csv"
    result = export(app, again, batch=batch_id)
    assert result.exit_code == 0, result.output
    assert [row.portal_id for row in read_export(app, again)] == [
        reading.id for reading in portal_readings(app)
    ]
    # Nothing is exported twice.
    assert export(app, tmp_path / "next.csv").exit_code == 0
    assert read_export(app, tmp_path / "next.csv") == []
    assert len(batches(app)) == 1
