"""What the cabinet reads of the accounting system's data: the reading window of a service,
when data last came; and the Fixed type its amounts are stored in."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from billing_files import billing_import, kind_file, summaries
from sqlalchemy import select

from lkabonent.billing.services import last_received, local_today, reading_window
from lkabonent.extensions import db
from lkabonent.models import Account, BillingImport, Fixed, Service


def service(first: int = 15, last: int = 25) -> Service:
    return Service(
        code="electricity",
        name="Электроснабжение",
        unit="кВт·ч",
        reading_window_start=first,
        reading_window_end=last,
    )


@pytest.mark.parametrize(
    ("today", "first", "last", "is_open", "days_left"),
    [
        (date(2026, 11, 14), date(2026, 11, 15), date(2026, 11, 25), False, 0),
        (date(2026, 11, 15), date(2026, 11, 15), date(2026, 11, 25), True, 11),
        (date(2026, 11, 25), date(2026, 11, 15), date(2026, 11, 25), True, 1),
        # After the window: the next month's.
        (date(2026, 11, 27), date(2026, 12, 15), date(2026, 12, 25), False, 0),
        (date(2026, 12, 31), date(2027, 1, 15), date(2027, 1, 25), False, 0),
    ],
)
def test_the_window_open_today_or_the_next_one(app_context, today, first, last, is_open, days_left):
    window = reading_window(service(), today)
    assert (window.first_day, window.last_day, window.is_open) == (first, last, is_open)
    assert window.days_left(today) == days_left


def test_a_window_past_the_end_of_a_short_month_ends_on_its_last_day(app_context):
    window = reading_window(service(20, 31), date(2027, 2, 27))
    assert (window.first_day, window.last_day, window.is_open) == (
        date(2027, 2, 20),
        date(2027, 2, 28),
        True,
    )
    assert window.days_left(date(2027, 2, 27)) == 2
    after = reading_window(service(20, 31), date(2027, 1, 31))
    assert (after.first_day, after.last_day, after.is_open) == (
        date(2027, 1, 20),
        date(2027, 1, 31),
        True,
    )


def test_the_development_setting_keeps_every_window_open(make_app):
    app = make_app(READING_WINDOW_ALWAYS_OPEN=True)
    with app.app_context():
        window = reading_window(service(), date(2026, 11, 27))
    assert window.is_open
    assert (window.first_day, window.last_day) == (date(2026, 12, 15), date(2026, 12, 25))


def test_today_is_the_settlement_centres_date(app_context):
    # 22:30 UTC on 30 November is 1 December in Simferopol (UTC+3).
    with time_machine.travel(datetime(2026, 11, 30, 22, 30, tzinfo=UTC), tick=False):
        assert local_today() == date(2026, 12, 1)


def add_import(finished: datetime, result: str, rows: int, rejected: int) -> None:
    db.session.add(
        BillingImport(
            file_name="charges.csv",
            kind="charges",
            started_at=finished,
            finished_at=finished,
            rows=rows,
            rejected=rejected,
            result=result,
        )
    )
    db.session.commit()


def test_data_last_came_with_the_latest_import_that_took_rows_in(app, tmp_path):
    # Every row set aside with --skip-invalid: a partial import that took nothing in.
    path = kind_file(tmp_path, "accounts", "1090000003;г. Саки;Мельник;;открыт;;")
    result = billing_import(app, path, skip_invalid=True)
    assert summaries(result.output) == [(0, 0, 0, 1)]
    with app.app_context():
        assert db.session.scalar(select(BillingImport.result)) == BillingImport.PARTIAL
        assert last_received() is None

        done = datetime(2026, 11, 26, 21, 30, tzinfo=UTC)
        add_import(done, BillingImport.DONE, rows=10, rejected=0)
        add_import(datetime(2026, 11, 27, 9, 5, tzinfo=UTC), BillingImport.PARTIAL, 10, 10)
        add_import(datetime(2026, 11, 27, 10, 0, tzinfo=UTC), BillingImport.REJECTED, 10, 10)
        assert last_received() == done

        partial = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
        add_import(partial, BillingImport.PARTIAL, rows=10, rejected=9)
        assert last_received() == partial


def test_a_fixed_column_stores_decimals_and_ints_exactly_and_refuses_floats(app):
    money = Fixed(2)
    assert money.process_bind_param(Decimal("1234.56"), None) == 123456
    assert money.process_bind_param(Decimal("0.10"), None) == 10
    assert money.process_bind_param(-42, None) == -4200
    # A float is refused even when it would fit: 0.5 is exact, 0.1 is not.
    for value in (0.5, 0.1, 38.1):
        with pytest.raises(TypeError):
            money.process_bind_param(value, None)
    with pytest.raises(ValueError):
        money.process_bind_param(Decimal("0.105"), None)

    with app.app_context():
        db.session.add_all(
            Account(
                number=number,
                address="г. Саки",
                owner_surname="Мельник",
                status=Account.ACTIVE,
                total_area=area,
            )
            for number, area in (("1090000002", Decimal("38.10")), ("1090000003", 54))
        )
        db.session.commit()
        db.session.expunge_all()
        areas = db.session.execute(
            select(Account.number, Account.total_area).order_by(Account.number)
        ).all()
    assert [(number, str(area)) for number, area in areas] == [
        ("1090000002", "38.10"),
        ("1090000003", "54.00"),
    ]
