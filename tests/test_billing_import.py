"""`flask billing import` through Flask's CLI runner, on real files written byte for byte: the
format's variants, the kinds, every reason to reject a row or a file, all or nothing, upserts by
natural key, --skip-invalid and its rejects file, the order of files, contacts taking effect at
login, verdicts on exported readings, and the example files of docs/examples."""

import codecs
import csv
import io
import os
import pty
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback
import tracemalloc
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from billing_files import (
    ACCOUNT,
    EXAMPLES,
    HEADERS,
    KINDS,
    ROWS,
    SUMMARY,
    add_reference_data,
    billing_import,
    errors_of,
    import_log,
    kind_file,
    snapshot,
    summaries,
    write,
)
from sqlalchemy import create_engine, insert, select

from conftest import NOW, count, logged_in, make_accounts, make_user
from lkabonent import demo
from lkabonent.clock import utcnow
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


@pytest.fixture
def meters(app):
    """The reference data of billing_files: services, account 1090000001, meters E-1 and W-1."""
    return add_reference_data(app)


def record(cells, delimiter=";") -> str:
    """One line of a CSV file, quoted where a cell needs it."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(cells)
    return out.getvalue()


def stored(app, model, *columns, **where):
    """The values of ``columns`` of every ``model`` row matching ``where``, ordered by them."""
    with app.app_context():
        query = select(*(getattr(model, name) for name in columns)).order_by(
            *(getattr(model, name) for name in columns)
        )
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return [tuple(row) for row in db.session.execute(query)]


def account_row(app, number):
    """(address, owner surname, owner name, status, area, residents) of an account."""
    rows = stored(
        app,
        Account,
        "address",
        "owner_surname",
        "owner_name",
        "status",
        "total_area",
        "residents",
        number=number,
    )
    assert len(rows) == 1, rows
    return rows[0]


def add_portal_reading(app, meter_id, zone=1, month=date(2026, 10, 1), exported=True) -> int:
    """A reading submitted in the portal, exported in a batch of its own unless told; its id."""
    with app.app_context():
        reading = Reading(
            meter_id=meter_id,
            zone=zone,
            month=month,
            value=12700,
            source=Reading.PORTAL,
            state=Reading.ACCEPTED,
        )
        if exported:
            batch = ReadingExport(readings=1)
            db.session.add(batch)
            db.session.flush()
            reading.state = Reading.EXPORTED
            reading.export_batch_id = batch.id
            reading.exported_at = NOW
        db.session.add(reading)
        db.session.commit()
        return reading.id


def assert_rejected(app, result, before):
    """The file was refused: exit code 1, nothing written, the log says rejected."""
    assert result.exit_code == 1, result.output
    assert snapshot(app) == before
    assert import_log(app)[-1].result == BillingImport.REJECTED


# --- the format's variants --------------------------------------------------------------------

PAYMENTS_IN_TWO_NOTATIONS = {
    "semicolon, decimal comma, Russian dates": [
        "id;account;date;amount;channel;month",
        "ПП-1;1090000001;14.10.2026;4 043,18;Онлайн;09.2026",
        "ПП-2;1090000001;2.11.2026;-120,5;Касса;01.10.2026",
        "ПП-3;1090000001;03.11.2026;1\u00a0000 000,00;почта;",
    ],
    "comma, decimal point, ISO dates": [
        "id,account,date,amount,channel,month",
        "ПП-1,1090000001,2026-10-14,4043.18,online,2026-09",
        "ПП-2,1090000001,2026-11-02,-120.50,cash,2026-10-01",
        'ПП-3,1090000001,2026-11-3,"1 000 000",post,',
    ],
}


@pytest.mark.parametrize("notation", PAYMENTS_IN_TWO_NOTATIONS)
def test_both_notations_store_the_same_values(app, meters, tmp_path, notation):
    path = write(tmp_path / "payments.csv", PAYMENTS_IN_TWO_NOTATIONS[notation])
    result = billing_import(app, path)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(3, 0, 0, 0)]
    assert stored(app, Payment, "external_id", "paid_on", "amount", "channel", "month") == [
        ("ПП-1", date(2026, 10, 14), Decimal("4043.18"), "online", date(2026, 9, 1)),
        ("ПП-2", date(2026, 11, 2), Decimal("-120.50"), "cash", date(2026, 10, 1)),
        ("ПП-3", date(2026, 11, 3), Decimal("1000000.00"), "post", None),
    ]


ACCOUNTS_WITH_CYRILLIC = [
    HEADERS["accounts"],
    "1090000002;г. Евпатория, ул. Фрунзе, д. 4, кв. 11;Семёнов;Семёнов Пётр Ильич;действующий;"
    "38,10;1",
    "1090000003;пгт Гурзуф, ул. Подгорная, д. 3 «Б»;Ёлкина;;закрыт;;",
]


@pytest.mark.parametrize(
    ("encoding", "bom", "newline"),
    [
        ("utf-8", False, "\n"),
        ("utf-8", True, "\n"),
        ("utf-8", False, "\r\n"),
        ("utf-8", True, "\r\n"),
        ("cp1251", False, "\n"),
        ("cp1251", False, "\r\n"),
    ],
)
def test_encodings_byte_order_mark_and_line_ends(app, tmp_path, encoding, bom, newline):
    path = write(
        tmp_path / "accounts.csv",
        ACCOUNTS_WITH_CYRILLIC,
        encoding=encoding,
        bom=bom,
        newline=newline,
    )
    result = billing_import(app, path)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(2, 0, 0, 0)]
    assert account_row(app, "1090000002") == (
        "г. Евпатория, ул. Фрунзе, д. 4, кв. 11",
        "Семёнов",
        "Семёнов Пётр Ильич",
        Account.ACTIVE,
        Decimal("38.10"),
        1,
    )
    assert account_row(app, "1090000003") == (
        "пгт Гурзуф, ул. Подгорная, д. 3 «Б»",
        "Ёлкина",
        None,
        Account.CLOSED,
        None,
        None,
    )


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_quoted_cells_blank_lines_and_physical_line_numbers(app, tmp_path, newline):
    path = write(
        tmp_path / "accounts.csv",
        [
            HEADERS["accounts"],  # line 1
            '1090000002;"г. Евпатория; ул. Фрунзе, д. 4";Мельник;;действующий;38,10;1',  # 2
            '1090000003;"г. Алушта,',  # 3: a quoted cell goes on to line 4
            'пер. Виноградный, д. 9";Мельник;"Мельник ""Анна""";действующий;96,40;2',  # 4
            "",  # 5
            ";;;;;;",  # 6
            "1090000004;г. Саки;Мельник;;открыт;;",  # 7
        ],
        newline=newline,
    )
    result = billing_import(app, path)
    assert result.exit_code == 1
    assert errors_of(result.output, path) == [
        "7: status: «открыт» — нужно одно из значений: «действующий», «закрыт»"
    ]

    result = billing_import(app, path, skip_invalid=True)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(2, 0, 0, 1)]
    assert account_row(app, "1090000002")[0] == "г. Евпатория; ул. Фрунзе, д. 4"
    assert account_row(app, "1090000003")[:3] == (
        "г. Алушта, пер. Виноградный, д. 9",
        "Мельник",
        'Мельник "Анна"',
    )


def test_comma_file_with_quoted_commas(app, meters, tmp_path):
    path = write(
        tmp_path / "charges.csv",
        [
            HEADERS["charges"].replace(";", ","),
            '1090000001,2026-10,electricity,306,4.2,"1 285.20",-42,"Перерасчет, сентябрь",,'
            '"1 251.60",1251.6,1243.2',
        ],
    )
    result = billing_import(app, path)
    assert result.exit_code == 0, result.output
    with app.app_context():
        charge = db.session.scalar(select(Charge))
        assert (charge.month, charge.service.code) == (date(2026, 10, 1), "electricity")
        assert (charge.volume, charge.tariff) == (Decimal("306"), Decimal("4.2"))
        assert charge.accrued == Decimal("1285.20")
        assert charge.recalculation == Decimal("-42.00")
        assert charge.recalculation_reason == "Перерасчет, сентябрь"
        assert charge.benefit == Decimal("0")  # an empty optional amount is zero
        assert charge.paid == Decimal("1251.60")
        assert (charge.opening_balance, charge.closing_balance) == (
            Decimal("1251.60"),
            Decimal("1243.20"),
        )


def test_cells_are_normalised(app, meters, tmp_path):
    files = [
        kind_file(tmp_path, "services", "gas;  Газо-   снабжение ;м³;;;", "fee;Сбор;руб.;1;31;1"),
        kind_file(
            tmp_path,
            "accounts",
            # Cyrillic look-alikes in the number, spaces everywhere, a choice in capitals.
            " А1В2С3Е4К5 ;  г. Саки,   ул. Морская ; Мельник ;;ДЕЙСТВУЮЩИЙ;1\u00a0234,5;0",
        ),
        kind_file(
            tmp_path,
            "meters",
            "M-3;109 000-0001;electricity;123;;3;6;;2020-01-31;;ДА;снят",
        ),
        kind_file(
            tmp_path,
            "readings",
            "E-1;Т2;2026-10;5 412;billing;accepted;;;2026-10-23T09:41:05",  # Cyrillic Т
            "E-1;t1;01.10.2026;12673;Учет;Принято;;;23.10.2026",
        ),
    ]
    result = billing_import(app, *files)
    assert result.exit_code == 0, result.output
    assert stored(
        app, Service, "code", "name", "reading_window_start", "reading_window_end", "is_penalty"
    ) == [
        ("cold_water", "Холодное водоснабжение", 15, 25, False),
        ("electricity", "Электроснабжение", 15, 25, False),
        ("fee", "Сбор", 1, 31, True),
        ("gas", "Газо- снабжение", 15, 25, False),  # empty cells: the defaults
    ]
    assert account_row(app, "A1B2C3E4K5") == (
        "г. Саки, ул. Морская",
        "Мельник",
        None,
        Account.ACTIVE,
        Decimal("1234.50"),
        0,
    )
    with app.app_context():
        meter = db.session.scalar(select(Meter).where(Meter.external_id == "M-3"))
        assert meter.account_id == db.session.scalar(
            select(Account.id).where(Account.number == ACCOUNT)
        )
        assert meter.service.code == "electricity"
        assert (meter.zones, meter.digits, meter.decimals) == (3, 6, 0)
        assert (meter.installed_on, meter.next_verification_on) == (date(2020, 1, 31), None)
        assert (meter.place, meter.is_remote_read, meter.status) == (None, True, Meter.REMOVED)
    # Local time of the settlement centre (Europe/Simferopol, UTC+3) is stored in UTC.
    assert stored(app, Reading, "zone", "month", "value", "source", "state") == [
        (1, date(2026, 10, 1), 12673, Reading.BILLING, Reading.ACCEPTED),
        (2, date(2026, 10, 1), 5412, Reading.BILLING, Reading.ACCEPTED),
    ]
    assert stored(app, Reading, "zone", "received_at") == [
        (1, datetime(2026, 10, 22, 21, 0, tzinfo=UTC)),
        (2, datetime(2026, 10, 23, 6, 41, 5, tzinfo=UTC)),
    ]


def test_a_windows_1251_file_whose_cyrillic_comes_after_64_kib(app, tmp_path):
    # Plain ASCII for well over the 64 KiB the encoding used to be decided from.
    ascii_rows = [
        f"{1090100000 + index};Saki, Morskaya st. {index};Melnik;;active;;" for index in range(3000)
    ]
    path = kind_file(
        tmp_path,
        "accounts",
        *ascii_rows,
        *ACCOUNTS_WITH_CYRILLIC[1:],
        "1090000004;г. Судак, ул. Ленина, д. 1;Щукин;;открыт;;",
        encoding="cp1251",
    )
    assert path.read_bytes()[: 64 * 1024 + 10000].isascii()
    result = billing_import(app, path, skip_invalid=True)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(3002, 0, 0, 1)]
    assert account_row(app, "1090100007")[0] == "Saki, Morskaya st. 7"
    assert account_row(app, "1090000002")[:3] == (
        "г. Евпатория, ул. Фрунзе, д. 4, кв. 11",
        "Семёнов",
        "Семёнов Пётр Ильич",
    )
    assert account_row(app, "1090000003")[:2] == ("пгт Гурзуф, ул. Подгорная, д. 3 «Б»", "Ёлкина")
    # The rejects file is in the file's encoding too.
    data = (tmp_path / "accounts.rejected.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert (
        data.decode("cp1251")
        .splitlines()[1]
        .startswith("1090000004;г. Судак, ул. Ленина, д. 1;Щукин;;открыт;;;status: «открыт»")
    )


def test_an_all_ascii_file_imports_and_sets_its_bad_rows_aside(app, tmp_path):
    path = kind_file(
        tmp_path,
        "accounts",
        "1090000002;Saki, Morskaya st. 4;Melnik;;active;38.10;1",
        "1090000003;Sudak;Orlov;;open;;",
    )
    result = billing_import(app, path, skip_invalid=True)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(1, 0, 0, 1)]
    assert account_row(app, "1090000002") == (
        "Saki, Morskaya st. 4",
        "Melnik",
        None,
        Account.ACTIVE,
        Decimal("38.10"),
        1,
    )
    rejects = (tmp_path / "accounts.rejected.csv").read_bytes().decode("utf-8")
    assert rejects.splitlines()[1].startswith("1090000003;Sudak;Orlov;;open;;;status: «open»")


@pytest.mark.parametrize(
    "lines",
    [
        # An unquoted decimal comma in a ',' file: 54,3 would shift into the residents.
        [
            HEADERS["accounts"].replace(";", ","),
            "1090000002,Saki,Melnik,,active,38,1",
            "1090000003,Saki,Melnik,,active,54,3,",
        ],
        # A delimiter at the end of a row whose header has none.
        [HEADERS["accounts"], ROWS["accounts"], "1090000003;г. Саки;Мельник;;закрыт;;;"],
    ],
    ids=["decimal comma", "trailing delimiter"],
)
def test_a_row_with_one_cell_more_than_the_header_is_an_error_even_if_empty(app, tmp_path, lines):
    path = write(tmp_path / "accounts.csv", lines)
    before = snapshot(app)
    result = billing_import(app, path)
    assert_rejected(app, result, before)
    assert errors_of(result.output, path) == ["3: -: значений в строке 8, а колонок в заголовке 7"]


def test_a_header_and_rows_ending_with_a_delimiter(app, tmp_path):
    path = write(
        tmp_path / "accounts.csv",
        [
            HEADERS["accounts"] + ";",
            "1090000002;г. Саки;Мельник;;действующий;38,10;1;",
            "1090000003;г. Саки;Мельник;;закрыт;;",  # without the delimiter at its end
        ],
    )
    result = billing_import(app, path)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(2, 0, 0, 0)]
    assert account_row(app, "1090000002")[3:] == (Account.ACTIVE, Decimal("38.10"), 1)
    assert account_row(app, "1090000003")[3:] == (Account.CLOSED, None, None)


# --- kinds ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_recognised_by_its_header(app, meters, tmp_path, kind):
    path = kind_file(tmp_path, kind, ROWS[kind], name="data.csv")
    result = billing_import(app, path)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(1, 0, 0, 0)]
    assert re.search(r"\d\s*(строк\w*\s*/\s*с|строк\w* в секунду)", result.output), result.output
    [entry] = import_log(app)
    assert (entry.kind, entry.result) == (kind, BillingImport.DONE)
    assert (entry.rows, entry.inserted, entry.updated, entry.rejected) == (1, 1, 0, 0)


def test_a_terminal_sees_a_progress_bar_and_a_pipe_does_not(app, database_url, tmp_path):
    rows = [f"s{index};Услуга {index};шт.;;;" for index in range(30_000)]
    path = kind_file(tmp_path, "services", *rows)
    # The command in a process of its own whose standard error is a pseudo-terminal.
    controller, terminal = pty.openpty()
    environment = {**os.environ, "LKABONENT_DATABASE_URL": database_url, "FLASK_APP": "lkabonent"}
    command = [os.path.join(os.path.dirname(sys.executable), "flask"), "--debug"]
    process = subprocess.Popen(  # noqa: S603 - our own venv's flask
        [*command, "billing", "import", str(path)],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=environment,
    )
    os.close(terminal)
    drawn = b""
    while chunk := read_terminal(controller):
        drawn += chunk
    os.close(controller)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 0, drawn.decode()
    assert summaries(stdout.decode()) == [(30_000, 0, 0, 0)]
    bar = drawn.decode()
    assert "services.csv" in bar and "100%" in bar
    assert re.search(r"\b(?:[1-9]|[1-9]\d)%", bar), bar  # drawn on the way, not only at the end
    # Through a pipe (the CLI runner) the same command draws nothing.
    again = billing_import(app, path)
    assert "%" not in again.output and summaries(again.output) == [(0, 0, 30_000, 0)]


def read_terminal(controller: int) -> bytes:
    """What the terminal got next; empty once the process has closed it."""
    try:
        return os.read(controller, 65536)
    except OSError:  # EIO: no process holds the terminal any more
        return b""


def test_header_in_any_order_and_case_with_an_error_column(app, tmp_path):
    path = write(
        tmp_path / "accounts.csv",
        [
            "RESIDENTS;Area;Status;OWNER_NAME;owner_surname;Address;Number;error",
            "1;38,10;действующий;;Мельник;г. Евпатория;1090000002;status: старая причина",
        ],
    )
    result = billing_import(app, path)
    assert result.exit_code == 0, result.output
    assert account_row(app, "1090000002") == (
        "г. Евпатория",
        "Мельник",
        None,
        Account.ACTIVE,
        Decimal("38.10"),
        1,
    )


@pytest.mark.parametrize(
    "header",
    [
        "number;address;owner_surname;owner_name;status;area",  # a column missing
        HEADERS["accounts"] + ";comment",  # a column too many
        "номер;адрес;фамилия",
        "number;number;address;owner_surname;owner_name;status;area;residents",
    ],
    ids=["missing", "extra", "russian", "repeated"],
)
@pytest.mark.parametrize("skip_invalid", [False, True])
def test_a_header_that_names_no_kind_rejects_the_file(app, tmp_path, header, skip_invalid):
    path = write(tmp_path / "accounts.csv", [header, "1090000002;г. Саки;Мельник;;закрыт;;"])
    before = snapshot(app)
    result = billing_import(app, path, skip_invalid=skip_invalid)
    assert_rejected(app, result, before)
    assert [line.split(":")[0] for line in errors_of(result.output, path)] == ["1"]
    assert import_log(app)[-1].kind is None
    assert not (tmp_path / "accounts.rejected.csv").exists()


# --- every reason to reject a row -------------------------------------------------------------
# (kind, the bad row, the error printed for it as a pattern "LINE: COLUMN: reason"); line 2 of
# each file is the valid row of billing_files.ROWS.

BAD_ROWS = [
    ("services", "gas2;" + "Г" * 101 + ";м³;;;", r"3: name: длиннее 100 символов"),
    ("services", "gas2;Газ;;;;", r"3: unit: .+"),
    ("services", "gas2;Газ;м³;0;25;", r"3: window_start: «0» — нужно число от 1 до 31"),
    ("services", "gas2;Газ;м³;15;32;", r"3: window_end: «32» — нужно число от 1 до 31"),
    ("services", "gas2;Газ;м³;26;25;", r"3: window_(start|end): .+"),
    # An empty cell takes its default (15 to 25) before the window is checked.
    (
        "services",
        "gas2;Газ;м³;28;;",
        r"3: window_end: окно подачи показаний заканчивается \(25\) раньше, чем начинается \(28\)",
    ),
    (
        "services",
        "gas2;Газ;м³;;10;",
        r"3: window_end: окно подачи показаний заканчивается \(10\) раньше, чем начинается \(15\)",
    ),
    ("services", "gas2;Газ;м³;;;иногда", r"3: penalty: «иногда» — нужно «да» или «нет»"),
    (
        "accounts",
        "12345;г. Саки;Мельник;;закрыт;;",
        r"3: number: номер лицевого счета «12345» — нужно 10 цифр или латинских букв",
    ),
    ("accounts", "1090000003;;Мельник;;закрыт;;", r"3: address: .+"),
    (
        "accounts",
        "1090000003;г. Саки;Мельник;;открыт;;",
        r"3: status: «открыт» — нужно одно из значений: «действующий», «закрыт»",
    ),
    (
        "accounts",
        "1090000003;г. Саки;Мельник;;закрыт;-5;",
        r"3: area: «-5» — не может быть отрицательным",
    ),
    (
        "accounts",
        "1090000003;г. Саки;Мельник;;закрыт;38,105;",
        r"3: area: «38,105» — больше 2 знаков после запятой",
    ),
    (
        "accounts",
        "1090000003;г. Саки;Мельник;;закрыт;;1,5",
        r"3: residents: «1,5» — нужно целое число",
    ),
    (
        "accounts",
        "1090000003;г. Саки;Мельник;;закрыт;;1000",
        r"3: residents: «1000» — нужно число от 0 до 999",
    ),
    # Thousands of digits: int() would refuse them in English.
    (
        "accounts",
        "1090000003;г. Саки;Мельник;;закрыт;" + "1" * 5000 + ";",
        r"3: area: «1{5000}» — не число",
    ),
    (
        "accounts",
        "1090000003;г. Саки;Мельник;;закрыт;;" + "1" * 5000,
        r"3: residents: «1{5000}» — нужно целое число",
    ),
    # A NUL byte made PostgreSQL's COPY fail; other control characters are refused alike.
    (
        "accounts",
        "1090000003;г. Саки,\x00ул. Морская;Мельник;;закрыт;;",
        r"3: address: в тексте управляющий символ \(например, нулевой байт\)",
    ),
    (
        "accounts",
        "1090000003;г. Саки;Мель\x1bник;;закрыт;;",
        r"3: owner_surname: в тексте управляющий символ .+",
    ),
    ("accounts", "1090000003;г. Саки;Мельник;;закрыт;", r"3: .+"),  # a cell missing
    ("accounts", "1090000003;г. Саки;Мельник;;закрыт;;;лишнее", r"3: .+"),  # a cell too many
    ("contacts", "1090000001;не-адрес", r"3: email: адрес «не-адрес» не разобран: .+"),
    ("contacts", "1090000009;primer@lkabonent.test", r"3: account: .*1090000009.*"),
    ("meters", "W-3;1090000009;cold_water;1;;1;5;;;;;", r"3: account: .*1090000009.*"),
    ("meters", "W-3;1090000001;gas;1;;1;5;;;;;", r"3: service: .*gas.*"),
    ("meters", "W-3;1090000001;cold_water;1;;4;5;;;;;", r"3: zones: «4» — нужно число от 1 до 3"),
    (
        "meters",
        "W-3;1090000001;cold_water;1;;1;13;;;;;",
        r"3: digits: «13» — нужно число от 1 до 12",
    ),
    (
        "meters",
        "W-3;1090000001;cold_water;1;;1;5;;31.02.2020;;;",
        r"3: installed_on: «31.02.2020» — нужна дата в виде ДД.ММ.ГГГГ или ГГГГ-ММ-ДД",
    ),
    (
        "meters",
        "W-3;1090000001;cold_water;1;;1;5;;;;;в ремонте",
        r"3: status: «в ремонте» — нужно одно из значений: «действующий», «снят»",
    ),
    (
        "charges",
        "1090000001;13.2026;cold_water;;;1;;;;;0;1",
        r"3: month: «13.2026» — нужен месяц в виде ММ.ГГГГ или ГГГГ-ММ",
    ),
    (
        "charges",
        "1090000001;15.10.2026;cold_water;;;1;;;;;0;1",
        r"3: month: «15.10.2026» — нужен месяц в виде ММ.ГГГГ или ГГГГ-ММ",
    ),
    (
        "charges",
        "1090000001;10.2026;cold_water;;;12,3,4;;;;;0;1",
        r"3: accrued: «12,3,4» — не число",
    ),
    (
        "charges",
        "1090000001;10.2026;cold_water;;;Infinity;;;;;0;1",
        r"3: accrued: «Infinity» — не число",
    ),
    (
        "charges",
        "1090000001;10.2026;cold_water;;;10000000000000;;;;;0;1",
        r"3: accrued: «10000000000000» — слишком большое число",
    ),
    (
        "charges",
        "1090000001;10.2026;cold_water;;4,20001;1;;;;;0;1",
        r"3: tariff: «4,20001» — больше 4 знаков после запятой",
    ),
    (
        "charges",
        "1090000001;10.2026;cold_water;-1;;1;;;;;0;1",
        r"3: volume: «-1» — не может быть отрицательным",
    ),
    ("charges", "1090000001;10.2026;cold_water;;;;;;;;0;1", r"3: accrued: .+"),
    ("charges", "1090000001;10.2026;gas;;;1;;;;;0;1", r"3: service: .*gas.*"),
    ("charges", "1090000009;10.2026;cold_water;;;1;;;;;0;1", r"3: account: .*1090000009.*"),
    (
        "payments",
        "ПП-2;1090000001;14.10.2026;10;карта;",
        r"3: channel: «карта» — нужно одно из значений: "
        r"«Банк», «Касса», «Онлайн», «Почта», «Прочее»",
    ),
    ("payments", "ПП-2;1090000001;;10;Банк;", r"3: date: .+"),
    ("payments", "ПП-2;1090000009;14.10.2026;10;Банк;", r"3: account: .*1090000009.*"),
    ("readings", "X-9;1;10.2026;1;учет;принято;;;", r"3: meter: .*X-9.*"),
    (
        "readings",
        "W-1;4;10.2026;1;учет;принято;;;",
        r"3: zone: «4» — нужна зона 1, 2 или 3 \(T1, T2, T3\)",
    ),
    (
        "readings",
        "W-1;T4;10.2026;1;учет;принято;;;",
        r"3: zone: «T4» — нужна зона 1, 2 или 3 \(T1, T2, T3\)",
    ),
    (
        "readings",
        "W-1;Т4;10.2026;1;учет;принято;;;",  # a Cyrillic Т
        r"3: zone: «Т4» — нужна зона 1, 2 или 3 \(T1, T2, T3\)",
    ),
    ("readings", "W-1;2;10.2026;1;учет;принято;;;", r"3: zone: .+"),  # W-1 has one zone
    ("readings", "E-1;3;10.2026;1;учет;принято;;;", r"3: zone: .+"),  # E-1 has two
    ("readings", "W-1;1;10.2026;-5;учет;принято;;;", r"3: value: «-5» — нужно число от 0 до \d+"),
    ("readings", "W-1;1;10.2026;12,5;учет;принято;;;", r"3: value: «12,5» — нужно целое число"),
    (
        "readings",
        "W-1;1;10.2026;1;счетчик;принято;;;",
        r"3: source: «счетчик» — нужно одно из значений: «учет», «портал»",
    ),
    (
        "readings",
        "W-1;1;10.2026;1;учет;потеряно;;;",
        r"3: state: «потеряно» — нужно одно из значений: "
        r"«принято», «передано в расчет», «отклонено»",
    ),
    (
        "readings",
        "W-1;1;10.2026;1;учет;принято;;;23.10.2026 25:00",
        r"3: received_at: «23.10.2026 25:00» — нужны дата и время в виде ДД.ММ.ГГГГ ЧЧ:ММ",
    ),
    ("readings", "W-1;1;10.2026;1;учет;принято;;7;", r"3: portal_id: .+"),
    ("readings", "W-1;1;10.2026;1;портал;отклонено;Ошибка;;", r"3: portal_id: .+"),
    (
        "readings",
        "W-1;1;10.2026;1;портал;отклонено;;0;",
        r"3: portal_id: «0» — нужно число от 1 до \d+",
    ),
]


def bad_row_id(case) -> str:
    """kind-column, for the test's name."""
    kind, _, error = case
    column = error.split(": ")[1] if error.count(": ") > 1 else "cells"
    return f"{kind}-{re.sub(r'[^a-z_]', '', column)}"


@pytest.mark.parametrize(("kind", "row", "error"), BAD_ROWS, ids=map(bad_row_id, BAD_ROWS))
def test_a_bad_row_rejects_the_file(app, meters, tmp_path, kind, row, error):
    path = kind_file(tmp_path, kind, ROWS[kind], row)
    before = snapshot(app)
    result = billing_import(app, path)
    assert_rejected(app, result, before)
    printed = errors_of(result.output, path)
    assert any(re.fullmatch(error, line) for line in printed), printed
    assert all(line.startswith("3: ") for line in printed), printed
    assert summaries(result.output)[0][:2] == (0, 0)


@pytest.mark.parametrize(
    ("kind", "first", "other", "again"),
    [
        ("services", "gas;Газ;м³;;;", "water;Вода;м³;;;", " gas ;Газ;м³;20;25;"),
        (
            "accounts",
            "1090000002;г. Саки;Мельник;;закрыт;;",
            "1090000003;г. Саки;Мельник;;закрыт;;",
            "109 000-0002;г. Саки, ул. Морская;Мельник;;закрыт;;",
        ),
        (
            "contacts",
            "1090000001;primer@lkabonent.test",
            "1090000001;ivanov@lkabonent.test",
            "1090000001;Primer@LKAbonent.test",
        ),
        (
            "meters",
            "W-3;1090000001;cold_water;1;;1;5;;;;;",
            "W-4;1090000001;cold_water;1;;1;5;;;;;",
            "W-3;1090000001;cold_water;2;;1;5;;;;;",
        ),
        (
            "charges",
            "1090000001;10.2026;cold_water;;;1;;;;;0;1",
            "1090000001;09.2026;cold_water;;;1;;;;;0;1",
            "1090000001;2026-10;cold_water;;;2;;;;;0;2",
        ),
        (
            "payments",
            "ПП-2;1090000001;14.10.2026;10;Банк;",
            "ПП-3;1090000001;14.10.2026;10;Банк;",
            "ПП-2;1090000001;15.10.2026;20;Банк;",
        ),
        (
            "readings",
            "E-1;1;10.2026;1;учет;принято;;;",
            "E-1;2;10.2026;1;учет;принято;;;",
            "E-1;T1;01.10.2026;2;billing;принято;;;",
        ),
    ],
    ids=KINDS,
)
def test_a_key_given_twice_rejects_both_lines(app, meters, tmp_path, kind, first, other, again):
    path = kind_file(tmp_path, kind, first, other, again)
    before = snapshot(app)
    result = billing_import(app, path)
    assert_rejected(app, result, before)
    printed = errors_of(result.output, path)
    assert {line.split(":")[0] for line in printed} == {"2", "4"}, printed
    # The later line names the first one.
    assert any(line.startswith("4: ") and re.search(r"\b2\b", line[3:]) for line in printed)

    result = billing_import(app, path, skip_invalid=True)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(1, 0, 0, 2)]


# --- verdicts on readings from the portal -----------------------------------------------------


def test_a_verdict_sets_the_state_of_an_exported_portal_reading(app, meters, tmp_path):
    reading_id = add_portal_reading(app, meters["E-1"], zone=2)
    path = kind_file(
        tmp_path,
        "readings",
        f"E-1;2;10.2026;12700;портал;отклонено;Показание меньше предыдущего;{reading_id};",
    )
    result = billing_import(app, path)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(0, 1, 0, 0)]
    assert stored(app, Reading, "id", "source", "state", "rejection_reason", "value") == [
        (reading_id, Reading.PORTAL, Reading.REJECTED, "Показание меньше предыдущего", 12700)
    ]
    # The same verdict again changes nothing.
    result = billing_import(app, path)
    assert summaries(result.output) == [(0, 0, 1, 0)]

    path = kind_file(tmp_path, "readings", f"E-1;T2;10.2026;12700;portal;принято;;{reading_id};")
    result = billing_import(app, path)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(0, 1, 0, 0)]
    assert stored(app, Reading, "id", "state", "rejection_reason") == [
        (reading_id, Reading.ACCEPTED, None)
    ]


@pytest.mark.parametrize(
    "case", ["unknown", "not exported", "other month", "other zone", "other meter", "billing"]
)
def test_a_verdict_on_no_exported_reading_of_that_meter_zone_and_month(app, meters, tmp_path, case):
    if case == "billing":
        with app.app_context():
            billing = Reading(
                meter_id=meters["E-1"],
                zone=1,
                month=date(2026, 10, 1),
                value=12673,
                source=Reading.BILLING,
            )
            db.session.add(billing)
            db.session.commit()
            reading_id = billing.id
    else:
        reading_id = add_portal_reading(
            app,
            meters["W-1" if case == "other meter" else "E-1"],
            zone=2 if case == "other zone" else 1,
            month=date(2026, 9, 1) if case == "other month" else date(2026, 10, 1),
            exported=case != "not exported",
        )
    if case == "unknown":
        reading_id += 1000
    path = kind_file(tmp_path, "readings", f"E-1;1;10.2026;12700;портал;отклонено;;{reading_id};")
    before = snapshot(app)
    result = billing_import(app, path)
    assert_rejected(app, result, before)
    assert [line.split(": ")[:2] for line in errors_of(result.output, path)] == [["2", "portal_id"]]


# --- unreadable files ---------------------------------------------------------------------------


def utf8_file_with_a_windows_1251_row_after_64_kib() -> bytes:
    """Valid UTF-8 for well over the 64 KiB the encoding is detected from, then a row in
    Windows-1251."""
    lines = [HEADERS["accounts"]] + [
        f"{1090000100 + index};г. Симферополь, ул. Киевская, д. {index};Мельник;;действующий;;"
        for index in range(1200)
    ]
    head = "\n".join(lines).encode()
    assert len(head) > 64 * 1024 + 1000
    return head + "\n1090009999;г. Саки;Мельник;;закрыт;;\n".encode("cp1251")


UNREADABLE = {
    "empty": b"",
    "blank lines only": b"\n\r\n\n",
    # 0x98 is no character in Windows-1251 and cannot start one in UTF-8.
    "a byte no encoding has": (HEADERS["accounts"] + "\n1090000002;").encode()
    + b"\x98\xcf;M;;closed;;\n",
    "such a byte in the header": b"number;address\x98;owner_surname\n",
    "UTF-8, then Windows-1251 after 64 KiB": utf8_file_with_a_windows_1251_row_after_64_kib(),
    "an unterminated quote": (
        HEADERS["accounts"] + '\n1090000002;"г. Саки;Мельник;;закрыт;;\n'
        "1090000003;г. Саки;Мельник;;закрыт;;\n"
    ).encode(),
}


@pytest.mark.parametrize("content", UNREADABLE.values(), ids=UNREADABLE.keys())
@pytest.mark.parametrize("skip_invalid", [False, True])
def test_a_file_that_cannot_be_read_is_rejected_whole(app, tmp_path, content, skip_invalid):
    path = tmp_path / "accounts.csv"
    path.write_bytes(content)
    before = snapshot(app)
    result = billing_import(app, path, skip_invalid=skip_invalid)
    assert_rejected(app, result, before)
    assert errors_of(result.output, path), result.output
    assert not (tmp_path / "accounts.rejected.csv").exists()


TWO_ACCOUNTS = "\n".join(
    [
        HEADERS["accounts"],
        "1090000002;г. Саки;Мельник;;закрыт;;",
        "1090000003;г. Судак;Орлов;;закрыт;;",
    ]
)
CANNOT_BE_READ_LINE_BY_LINE = {
    "CR only": (
        TWO_ACCOUNTS.replace("\n", "\r").encode() + b"\r",
        "1: -: строки разделены только символом CR: сохраните файл с переводами строк "
        "Windows (CRLF) или Unix (LF)",
    ),
    "UTF-16 little-endian": (
        codecs.BOM_UTF16_LE + (TWO_ACCOUNTS + "\r\n").encode("utf-16-le"),
        "1: -: файл в кодировке UTF-16 («Юникод»): сохраните его в UTF-8 или Windows-1251",
    ),
    "UTF-16 big-endian": (
        codecs.BOM_UTF16_BE + (TWO_ACCOUNTS + "\r\n").encode("utf-16-be"),
        "1: -: файл в кодировке UTF-16 («Юникод»): сохраните его в UTF-8 или Windows-1251",
    ),
}


@pytest.mark.parametrize(
    ("content", "error"),
    CANNOT_BE_READ_LINE_BY_LINE.values(),
    ids=CANNOT_BE_READ_LINE_BY_LINE.keys(),
)
def test_a_file_that_cannot_be_read_line_by_line_says_what_to_do(app, tmp_path, content, error):
    path = tmp_path / "accounts.csv"
    path.write_bytes(content)
    before = snapshot(app)
    result = billing_import(app, path)
    assert_rejected(app, result, before)
    assert errors_of(result.output, path) == [error]


def test_a_line_longer_than_1_mb_is_refused_in_bounded_memory(app, tmp_path):
    def peak_memory(length: int) -> int:
        """The most memory Python held while refusing a file whose line 4 has ``length``
        bytes and no end."""
        path = tmp_path / f"accounts-{length}.csv"
        path.write_bytes((TWO_ACCOUNTS + "\n1090000004;").encode() + b"x" * length)
        tracemalloc.start()
        try:
            result = billing_import(app, path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert result.exit_code == 1, result.output
        assert errors_of(result.output, path) == [
            "4: -: строка длиннее 1 МБ: возможно, строки файла не разделены переводами строки"
        ]
        assert import_log(app)[-1].result == BillingImport.REJECTED
        return peak

    shorter = peak_memory(1_100_000)
    # A line over twice as long: the importer reads no more of it.
    assert peak_memory(2_800_000) < shorter + 300_000
    assert count_accounts(app) == 0


QUOTING_PROBLEMS = {
    "a stray quote": (
        ['1090000003;"г. Саки" д. 4;Мельник;;закрыт;;'],
        "3: -: нарушены кавычки: значение в кавычках должно занимать всю ячейку, "
        "а кавычка внутри него — быть удвоена",
    ),
    # The quote is not closed: the cell takes in the lines after it up to csv's field limit.
    "a quote not closed": (
        [
            '1090000003;"г. Саки;Мельник;;закрыт;;',
            *(f"{1090100000 + index};г. Саки;Мельник;;закрыт;;" for index in range(5000)),
        ],
        f"3: -: значение длиннее {csv.field_size_limit()} символов: возможно, не закрыта кавычка",
    ),
}


@pytest.mark.parametrize(("rows", "error"), QUOTING_PROBLEMS.values(), ids=QUOTING_PROBLEMS.keys())
def test_quoting_problems_are_explained_in_russian(app, tmp_path, rows, error):
    path = kind_file(tmp_path, "accounts", ROWS["accounts"], *rows)
    before = snapshot(app)
    result = billing_import(app, path)
    assert_rejected(app, result, before)
    [printed] = errors_of(result.output, path)
    assert printed == error
    assert not re.search(r"[A-Za-z]", printed), printed  # nothing of csv's English


@pytest.mark.parametrize(
    "bad_line",
    [
        b"1090199999;\x98\xcf;Melnik;;active;;\n",  # a byte no encoding has
        b'1090199999;"Saki" 4;Melnik;;active;;\n',  # a broken quote
    ],
    ids=["unreadable byte", "broken quote"],
)
def test_a_file_rejected_half_way_counts_the_rows_read_before(app, tmp_path, bad_line):
    rows = [f"{1090100000 + index};Saki;Melnik;;active;;" for index in range(19998)]
    path = kind_file(tmp_path, "accounts", *rows)
    with path.open("ab") as out:
        out.write(bad_line)  # line 20,000
        out.write(b"1090200000;Saki;Melnik;;active;;\n")
    result = billing_import(app, path)
    assert result.exit_code == 1
    [printed] = errors_of(result.output, path)
    assert printed.startswith("20000: -: "), printed
    assert summaries(result.output) == [(0, 0, 0, 19998)]
    entry = import_log(app)[-1]
    assert (entry.result, entry.rows, entry.rejected) == (BillingImport.REJECTED, 19998, 19998)
    assert entry.message.startswith("строка 20000: -: ")
    assert count_accounts(app) == 0


# --- all or nothing -------------------------------------------------------------------------------


def test_a_bad_row_in_the_middle_leaves_the_database_untouched(make_app, tmp_path):
    # Small batches, so the rows before the bad one were already sent to the database.
    app = make_app(IMPORT_BATCH_ROWS=100)
    first = kind_file(
        tmp_path,
        "accounts",
        "1090000001;г. Симферополь, ул. Гоголя, д. 20, кв. 7;Мельник;;действующий;54,30;3",
        name="first.csv",
    )
    assert billing_import(app, first).exit_code == 0
    before = snapshot(app)
    rows = [
        # An update of the existing account, then many new ones, one of them bad.
        "1090000001;г. Симферополь, ул. Гоголя, д. 22;Мельник;;закрыт;54,30;2",
        *(f"{1090001000 + index};г. Саки, д. {index};Орлов;;действующий;;" for index in range(999)),
    ]
    rows[500] = "1090001499;г. Саки;Орлов;;действующий;;много"
    path = kind_file(tmp_path, "accounts", *rows)
    result = billing_import(app, path)
    assert_rejected(app, result, before)
    assert errors_of(result.output, path) == ["502: residents: «много» — нужно целое число"]
    assert account_row(app, "1090000001") == (
        "г. Симферополь, ул. Гоголя, д. 20, кв. 7",
        "Мельник",
        None,
        Account.ACTIVE,
        Decimal("54.30"),
        3,
    )
    entry = import_log(app)[-1]
    assert (entry.kind, entry.rows, entry.inserted, entry.updated) == ("accounts", 1000, 0, 0)


def test_a_file_is_read_in_bounded_memory(make_app, tmp_path):
    app = make_app(IMPORT_BATCH_ROWS=1000)

    def peak_memory(rows: int, first_number: int) -> int:
        """The most memory Python held while importing ``rows`` new accounts."""
        path = kind_file(
            tmp_path,
            "accounts",
            *(
                f"{first_number + index};г. Симферополь, ул. Киевская, д. {index % 200};"
                f"Иванов;Иванов Иван Иванович;действующий;54,30;3"
                for index in range(rows)
            ),
            name=f"accounts-{rows}.csv",
        )
        tracemalloc.start()
        try:
            result = billing_import(app, path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert summaries(result.output) == [(rows, 0, 0, 0)]
        return peak

    small = peak_memory(5000, 1100000000)
    # Ten times the rows: memory grows with a batch, not with the file.
    assert peak_memory(50000, 1200000000) < 2 * small


def test_a_bad_verdict_row_undoes_the_verdicts_before_it(app, meters, tmp_path):
    reading_id = add_portal_reading(app, meters["E-1"])
    path = kind_file(
        tmp_path,
        "readings",
        f"E-1;1;10.2026;12700;портал;отклонено;Ошибка;{reading_id};",
        "W-1;1;10.2026;1;учет;принято;;;вчера",
    )
    before = snapshot(app)
    assert_rejected(app, billing_import(app, path), before)
    assert stored(app, Reading, "state", id=reading_id) == [(Reading.EXPORTED,)]


def test_more_than_50_errors_print_50_and_the_count(app, tmp_path):
    rows = [f"{1090001000 + index};г. Саки;Орлов;;открыт;;" for index in range(60)]
    path = kind_file(tmp_path, "accounts", *rows)
    result = billing_import(app, path)
    assert result.exit_code == 1
    printed = errors_of(result.output, path)
    assert len(printed) == 50
    assert printed[0].startswith("2: status: ") and printed[-1].startswith("51: status: ")
    rest = [
        line
        for line in result.output.splitlines()
        if not line.startswith(str(path)) and not SUMMARY.search(line)
    ]
    assert any(re.search(r"\b10\b", line) for line in rest), result.output
    assert count_accounts(app) == 0


def count_accounts(app) -> int:
    return len(stored(app, Account, "number"))


def test_each_file_is_its_own_transaction(app, meters, tmp_path):
    accounts = kind_file(tmp_path, "accounts", ROWS["accounts"])
    charges = kind_file(tmp_path, "charges", ROWS["charges"], "1090000002;10.2026;gas;;;1;;;;;0;1")
    result = billing_import(app, charges, accounts)
    assert result.exit_code == 1
    assert [entry.result for entry in import_log(app)] == [
        BillingImport.DONE,
        BillingImport.REJECTED,
    ]
    assert count_accounts(app) == 2
    assert stored(app, Charge, "id") == []


# --- beside the portal's own writes ---------------------------------------------------------


def test_an_import_succeeds_while_another_connection_keeps_committing(app, meters, tmp_path):
    # SQLite refused the merge ("database is locked") when a write was committed between the
    # checks, which read the accounts and services, and the merge.
    numbers = [account.number for account in make_accounts(app, 100)]
    months = [f"{index % 12 + 1:02d}.{2010 + index // 12}" for index in range(100)]
    path = kind_file(
        tmp_path,
        "charges",
        *(
            f"{number};{month};{service};;;1;;;;;0;1"
            for number in numbers
            for month in months
            for service in ("electricity", "cold_water")
        ),
    )
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    stop = threading.Event()
    commits, failures = [], []

    def writer():
        """Commit a row every few milliseconds, as the portal does while subscribers work."""
        try:
            while not stop.is_set():
                with engine.begin() as connection:
                    connection.execute(
                        insert(ReadingExport.__table__).values(created_at=utcnow(), readings=0)
                    )
                commits.append(time.monotonic())
                time.sleep(0.003)
        except Exception:
            failures.append(traceback.format_exc())

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        started = time.monotonic()
        result = billing_import(app, path)
        ended = time.monotonic()
    finally:
        stop.set()
        thread.join()
        engine.dispose()
    assert failures == []
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(20000, 0, 0, 0)]
    assert count(app, Charge) == 20000
    # What the test is about happened: the other connection committed during the import.
    assert sum(started < moment < ended for moment in commits) > 10
    assert count(app, ReadingExport) == len(commits)


# --- upserts by natural key --------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_importing_the_same_file_twice_changes_nothing(app, meters, tmp_path, kind):
    path = kind_file(tmp_path, kind, ROWS[kind])
    assert summaries(billing_import(app, path).output) == [(1, 0, 0, 0)]
    before = snapshot(app)
    result = billing_import(app, path)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(0, 0, 1, 0)]
    assert snapshot(app) == before
    entry = import_log(app)[-1]
    assert (entry.inserted, entry.updated, entry.unchanged, entry.result) == (
        0,
        0,
        1,
        BillingImport.DONE,
    )


def test_changed_rows_are_updated_and_the_same_rows_unchanged(app, tmp_path):
    first = kind_file(
        tmp_path,
        "accounts",
        "1090000001;г. Симферополь, ул. Гоголя, д. 20, кв. 7;Мельник;;действующий;54,30;3",
        "1090000002;г. Евпатория, ул. Фрунзе, д. 4, кв. 11;Мельник;;действующий;38,10;1",
        "1090000003;г. Алушта, пер. Виноградный, д. 9;Мельник;;действующий;96,40;2",
        name="first.csv",
    )
    assert summaries(billing_import(app, first).output) == [(3, 0, 0, 0)]
    second = write(
        tmp_path / "second.csv",
        [
            HEADERS["accounts"].replace(";", ","),
            # changed: the address and the status
            '1090000001,"г. Симферополь, ул. Гоголя, д. 22",Мельник,,closed,54.3,3',
            # the same values, written otherwise
            '109 000 0002,"г. Евпатория,  ул. Фрунзе, д. 4, кв. 11",Мельник,,active,38.1,1',
            '1090000003,"г. Алушта, пер. Виноградный, д. 9",Мельник,,действующий,96.40,2',
            '1090000004,"г. Саки",Орлов,,действующий,,',  # new
        ],
    )
    result = billing_import(app, second)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(1, 1, 2, 0)]
    assert account_row(app, "1090000001") == (
        "г. Симферополь, ул. Гоголя, д. 22",
        "Мельник",
        None,
        Account.CLOSED,
        Decimal("54.30"),
        3,
    )
    assert count_accounts(app) == 4


def test_a_readings_time_defaults_to_the_import_and_an_empty_cell_keeps_it(
    app, meters, tmp_path, time_machine
):
    time_machine.move_to(NOW, tick=False)
    path = kind_file(tmp_path, "readings", "W-1;1;10.2026;412;учет;принято;;;")
    assert summaries(billing_import(app, path).output) == [(1, 0, 0, 0)]
    assert stored(app, Reading, "value", "received_at") == [(412, NOW)]

    time_machine.move_to(datetime(2026, 11, 28, 9, 0, tzinfo=UTC), tick=False)
    path = kind_file(tmp_path, "readings", "W-1;1;10.2026;419;учет;принято;;;")
    assert summaries(billing_import(app, path).output) == [(0, 1, 0, 0)]
    assert stored(app, Reading, "value", "received_at") == [(419, NOW)]


# --- --skip-invalid and the rejects file -------------------------------------------------------


@pytest.mark.parametrize(("delimiter", "encoding"), [(";", "utf-8"), (",", "cp1251")])
def test_skip_invalid_writes_the_valid_rows_and_sets_the_others_aside(
    app, tmp_path, delimiter, encoding
):
    header = HEADERS["accounts"].split(";")
    rows = [
        [
            "1090000002",
            "г. Евпатория, ул. Фрунзе, д. 4",
            "Мельник",
            "",
            "действующий",
            "38,10",
            "1",
        ],
        ["1090000003", "г. Алушта, д. 9", "Мельник", "", "открыт", "", ""],
        ["1090000004", "г. Саки, ул. Морская", "Орлов", "", "действующий", "", ""],
        ["12345", "г. Судак", "Орлов", "", "закрыт", "", ""],
    ]
    path = write(
        tmp_path / "accounts.csv",
        [record(cells, delimiter) for cells in [header, *rows]],
        encoding=encoding,
    )
    result = billing_import(app, path, skip_invalid=True)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(2, 0, 0, 2)]
    assert [line.split(": ")[:2] for line in errors_of(result.output, path)] == [
        ["3", "status"],
        ["5", "number"],
    ]
    assert [number for (number,) in stored(app, Account, "number")] == ["1090000002", "1090000004"]
    entry = import_log(app)[-1]
    assert (entry.result, entry.rows, entry.inserted, entry.rejected) == (
        BillingImport.PARTIAL,
        4,
        2,
        2,
    )

    rejects = tmp_path / "accounts.rejected.csv"
    data = rejects.read_bytes()
    text = data.decode(encoding)
    if encoding == "cp1251":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    assert text.splitlines()[0] == delimiter.join([*header, "error"])
    header_read, *rejected = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    assert header_read == [*header, "error"]
    assert [cells[:-1] for cells in rejected] == [rows[1], rows[3]]
    assert "status: «открыт» — нужно одно из значений" in rejected[0][-1]
    assert "number: номер лицевого счета «12345»" in rejected[1][-1]

    # Corrected, the rejects file imports; its error column is ignored.
    rejects.write_bytes(
        text.replace("открыт", "закрыт").replace("12345", "1090000005").encode(encoding)
    )
    result = billing_import(app, rejects)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(2, 0, 0, 0)]
    assert account_row(app, "1090000003")[3] == Account.CLOSED
    assert account_row(app, "1090000005")[0] == "г. Судак"


def test_the_rejects_of_a_rejects_file_can_be_imported_again(app, tmp_path):
    path = kind_file(
        tmp_path,
        "accounts",
        "1090000011;г. Саки;Орлов;;открыт;;",
        "1090000012;г. Саки;Орлов;;действующий;;x",
    )
    assert billing_import(app, path, skip_invalid=True).exit_code == 0
    # One row corrected, the other not yet: it is set aside again.
    rejects = tmp_path / "accounts.rejected.csv"
    rejects.write_text(rejects.read_text("utf-8").replace("открыт;", "закрыт;"), "utf-8")
    result = billing_import(app, rejects, skip_invalid=True)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(1, 0, 0, 1)]

    again = tmp_path / "accounts.rejected.rejected.csv"
    header, *rows = csv.reader(io.StringIO(again.read_text("utf-8")), delimiter=";")
    assert header == [*HEADERS["accounts"].split(";"), "error"]
    assert [cells[:-1] for cells in rows] == [
        ["1090000012", "г. Саки", "Орлов", "", "действующий", "", "x"]
    ]
    again.write_text(again.read_text("utf-8").replace(";x;", ";1;"), "utf-8")
    result = billing_import(app, again)
    assert result.exit_code == 0, result.output
    assert account_row(app, "1090000012")[5] == 1


def test_skip_invalid_with_every_row_bad_writes_nothing_and_succeeds(app, tmp_path):
    path = kind_file(tmp_path, "accounts", "1090000003;г. Саки;Мельник;;открыт;;")
    result = billing_import(app, path, skip_invalid=True)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(0, 0, 0, 1)]
    assert count_accounts(app) == 0
    assert (tmp_path / "accounts.rejected.csv").exists()


def test_the_rejects_file_keeps_the_bom_the_header_as_written_and_surplus_cells(app, tmp_path):
    header = "Number;Address;Owner_Surname;OWNER_NAME;Status;Area;Residents"
    surplus = "1090000003;г. Саки;Мельник;;закрыт;;;лишнее"
    closed = "1090000004;г. Судак;Орлов;;открыт;;"
    path = write(tmp_path / "accounts.csv", [header, ROWS["accounts"], surplus, closed], bom=True)
    result = billing_import(app, path, skip_invalid=True)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(1, 0, 0, 2)]
    data = (tmp_path / "accounts.rejected.csv").read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    header_read, *rows = csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";")
    assert header_read == [*header.split(";"), "error"]
    assert rows == [
        [*surplus.split(";"), "-: значений в строке 8, а колонок в заголовке 7"],
        [
            *closed.split(";"),
            "status: «открыт» — нужно одно из значений: «действующий», «закрыт»",
        ],
    ]


def test_a_rejects_file_that_cannot_be_written_rejects_the_file(app, tmp_path):
    path = kind_file(tmp_path, "accounts", ROWS["accounts"], "1090000003;г. Саки;Мельник;;открыт;;")
    rejects = tmp_path / "accounts.rejected.csv"
    rejects.mkdir()
    before = snapshot(app)
    result = billing_import(app, path, skip_invalid=True)
    assert_rejected(app, result, before)
    [printed] = errors_of(result.output, path)
    assert printed.startswith(f" не удалось записать отклоненные строки в {rejects}: "), printed
    assert "файл отклонен, ничего не записано" in result.output
    assert list(rejects.iterdir()) == []
    entry = import_log(app)[-1]
    assert (entry.kind, entry.rows, entry.inserted) == ("accounts", 2, 0)
    assert entry.message.startswith("не удалось записать отклоненные строки")


# --- several files --------------------------------------------------------------------------------


def test_files_are_imported_in_the_order_of_their_kinds(app, tmp_path):
    for kind in KINDS:
        shutil.copy(EXAMPLES / f"{kind}.csv", tmp_path / f"{kind}.csv")
    result = billing_import(app, *(tmp_path / f"{kind}.csv" for kind in reversed(KINDS)))
    assert result.exit_code == 0, result.output
    assert [entry.kind for entry in import_log(app)] == list(KINDS)
    assert {entry.result for entry in import_log(app)} == {BillingImport.DONE}
    assert [rejected for *_, rejected in summaries(result.output)] == [0] * len(KINDS)


# --- contacts ------------------------------------------------------------------------------------


def test_imported_contacts_link_the_account_at_the_next_login(app, client, meters, tmp_path):
    make_user(app, "primer@пример.рф")
    logged_in(client, "primer@пример.рф")
    assert ACCOUNT not in client.get("/cabinet/accounts").get_data(as_text=True)

    path = kind_file(
        tmp_path,
        "contacts",
        "109 000-0001;Primer@XN--E1AFMKFD.XN--P1AI",
        "1090000001; IVANOV@LKABONENT.TEST ",
    )
    result = billing_import(app, path)
    assert result.exit_code == 0, result.output
    assert stored(app, AccountContact, "email") == [
        ("ivanov@lkabonent.test",),
        ("primer@пример.рф",),
    ]
    assert client.post("/logout").status_code == 303
    logged_in(client, "primer@пример.рф")
    assert ACCOUNT in client.get("/cabinet/accounts").get_data(as_text=True)


# --- the example files of docs/examples ----------------------------------------------------------

EXAMPLE_ROWS = {
    "services": 8,
    "accounts": 3,
    "contacts": 3,
    "meters": 6,
    "charges": 27,
    "payments": 5,
    "readings": 14,
}


def test_the_examples_import_into_the_demo_database(app, client, tmp_path):
    with app.app_context():
        demo.seed()
    paths = [EXAMPLES / f"{kind}.csv" for kind in KINDS]
    result = billing_import(app, *paths)
    assert result.exit_code == 0, result.output
    # The demo holds the same service catalogue as services.csv.
    assert summaries(result.output) == [(0, 0, 8, 0)] + [
        (EXAMPLE_ROWS[kind], 0, 0, 0) for kind in KINDS[1:]
    ]
    before = snapshot(app)
    result = billing_import(app, *paths)
    assert result.exit_code == 0, result.output
    assert summaries(result.output) == [(0, 0, EXAMPLE_ROWS[kind], 0) for kind in KINDS]
    assert snapshot(app) == before

    # «Done when»: the subscriber whose contact the examples hold sees the accounts.
    make_user(app, "primer@lkabonent.test")
    logged_in(client, "primer@lkabonent.test")
    page = client.get("/cabinet/accounts").get_data(as_text=True)
    assert all(number in page for number in ("1090000001", "1090000002", "1090000003"))


def test_the_example_charges_add_up(app, tmp_path):
    result = billing_import(app, *(EXAMPLES / f"{kind}.csv" for kind in KINDS))
    assert result.exit_code == 0, result.output
    with app.app_context():
        charges = db.session.scalars(select(Charge)).all()
        assert len(charges) == EXAMPLE_ROWS["charges"]
        for charge in charges:
            assert charge.closing_balance == (
                charge.opening_balance
                + charge.accrued
                + charge.recalculation
                - charge.benefit
                - charge.paid
            )
            if charge.volume is not None:
                assert charge.accrued == (charge.volume * charge.tariff).quantize(Decimal("0.01"))
        # The two-zone meter has both zones read in both months.
        zones = db.session.execute(
            select(Reading.zone, Reading.month)
            .join(Meter)
            .where(Meter.zones == 2)
            .order_by(Reading.month, Reading.zone)
        ).all()
        assert [tuple(row) for row in zones] == [
            (1, date(2026, 9, 1)),
            (2, date(2026, 9, 1)),
            (1, date(2026, 10, 1)),
            (2, date(2026, 10, 1)),
        ]
