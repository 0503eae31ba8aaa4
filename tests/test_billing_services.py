"""What the cabinet reads of the accounting system's data: the reading window of a service."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from lkabonent.billing.services import local_today, reading_window
from lkabonent.models import Service


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
