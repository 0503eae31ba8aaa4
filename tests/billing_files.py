"""Files of the exchange format (docs/exchange-format.md) for the billing tests, the commands
run on them, and the reference data they refer to."""

import codecs
import re
import traceback
from pathlib import Path

from sqlalchemy import select

from lkabonent.extensions import db
from lkabonent.models import (
    Account,
    AccountContact,
    BillingImport,
    Charge,
    Meter,
    Payment,
    Reading,
    ReadingExport,
    Service,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
KINDS = ("services", "accounts", "contacts", "meters", "charges", "payments", "readings")
HEADERS = {
    "services": "code;name;unit;window_start;window_end;penalty",
    "accounts": "number;address;owner_surname;owner_name;status;area;residents",
    "contacts": "account;email",
    "meters": "id;account;service;serial_number;place;zones;digits;decimals;installed_on;"
    "next_verification;remote_read;status",
    "charges": "account;month;service;volume;tariff;accrued;recalculation;recalculation_reason;"
    "benefit;paid;opening_balance;closing_balance",
    "payments": "id;account;date;amount;channel;month",
    "readings": "meter;zone;month;value;source;state;reason;portal_id;received_at",
}
# One valid row of each kind, referring to the reference data below.
ROWS = {
    "services": "gas;Газоснабжение;м³;20;25;нет",
    "accounts": "1090000002;г. Евпатория, ул. Фрунзе, д. 4, кв. 11;Мельник;;действующий;38,10;1",
    "contacts": "1090000001;primer@lkabonent.test",
    "meters": "W-2;1090000001;cold_water;19-0045213;Кухня;1;5;3;05.02.2020;05.02.2029;нет;"
    "действующий",
    "charges": "1090000001;10.2026;electricity;306;4,2000;1 285,20;-42,00;Перерасчет;0;"
    "1 251,60;1 251,60;1 243,20",
    "payments": "ПП-2026-0102266;1090000001;14.10.2026;4 043,18;Онлайн;09.2026",
    "readings": "E-1;1;10.2026;12673;учет;принято;;;23.10.2026 09:41",
}
ACCOUNT = "1090000001"
SUMMARY = re.compile(r"добавлено (\d+), обновлено (\d+), без изменений (\d+), отклонено (\d+)")
BILLING_MODELS = (
    Service,
    Account,
    AccountContact,
    Meter,
    Charge,
    Payment,
    Reading,
    ReadingExport,
)


def write(path: Path, lines, encoding="utf-8", bom=False, newline="\n") -> Path:
    """Write ``lines`` to ``path`` byte for byte as asked: encoding, BOM, line ends."""
    data = "".join(line + newline for line in lines).encode(encoding)
    path.write_bytes(codecs.BOM_UTF8 + data if bom else data)
    return path


def kind_file(directory: Path, kind: str, *rows: str, name=None, **options) -> Path:
    """A file of ``kind`` with the header of docs/exchange-format.md and ``rows``."""
    return write(directory / (name or f"{kind}.csv"), [HEADERS[kind], *rows], **options)


def billing_import(app, *paths, skip_invalid=False):
    """`flask billing import` through Flask's CLI runner; fails on a traceback."""
    options = ["--skip-invalid"] if skip_invalid else []
    result = app.test_cli_runner().invoke(
        args=["billing", "import", *options, *(str(path) for path in paths)]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), "".join(
        traceback.format_exception(*result.exc_info)
    )
    return result


def summaries(output: str) -> list[tuple[int, int, int, int]]:
    """(inserted, updated, unchanged, rejected) of every summary line, in order."""
    return [tuple(map(int, found)) for found in SUMMARY.findall(output)]


def errors_of(output: str, path: Path) -> list[str]:
    """The error lines printed for ``path``, without the path: "LINE: COLUMN: reason"."""
    prefix = f"{path}:"
    return [line[len(prefix) :] for line in output.splitlines() if line.startswith(prefix)]


def import_log(app) -> list[BillingImport]:
    """The import log, oldest first, detached."""
    with app.app_context():
        rows = db.session.scalars(select(BillingImport).order_by(BillingImport.id)).all()
        db.session.expunge_all()
        return rows


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of the accounting system's tables, comparable."""
    with app.app_context():
        return {
            model.__tablename__: sorted(
                tuple(row) for row in db.session.execute(select(model.__table__)).all()
            )
            for model in BILLING_MODELS
        }


def add_reference_data(app) -> dict[str, int]:
    """Services electricity and cold_water, account 1090000001, a two-zone electricity meter
    E-1 and a cold water meter W-1; the meters' ids by their external ids."""
    with app.app_context():
        electricity = Service(code="electricity", name="Электроснабжение", unit="кВт·ч")
        water = Service(code="cold_water", name="Холодное водоснабжение", unit="м³")
        account = Account(
            number=ACCOUNT,
            address="г. Симферополь, ул. Гоголя, д. 20, кв. 7",
            owner_surname="Мельник",
            status=Account.ACTIVE,
        )
        db.session.add_all([electricity, water, account])
        db.session.flush()
        meters = [
            Meter(
                external_id="E-1",
                account_id=account.id,
                service_id=electricity.id,
                serial_number="011552148735",
                zones=2,
                digits=6,
            ),
            Meter(
                external_id="W-1",
                account_id=account.id,
                service_id=water.id,
                serial_number="21-184563",
                zones=1,
                digits=5,
            ),
        ]
        db.session.add_all(meters)
        db.session.commit()
        return {meter.external_id: meter.id for meter in meters}
