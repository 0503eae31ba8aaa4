"""Russian text helpers: plural forms, the emailed password's lifetime, and money, quantities
and dates as Babel writes them in Russian."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal
from flask import Flask
from hypothesis import example, given
from hypothesis import strategies as st

from lkabonent import config as default_config
from lkabonent.text import (
    date_ru,
    days_left_ru,
    moment_ru,
    money_ru,
    month_ru,
    number_ru,
    plural_ru,
)


@pytest.mark.parametrize(
    ("n", "form"),
    [
        (0, "минут"),
        (1, "минуту"),
        (2, "минуты"),
        (4, "минуты"),
        (5, "минут"),
        (11, "минут"),
        (12, "минут"),
        (14, "минут"),
        (21, "минуту"),
        (22, "минуты"),
        (25, "минут"),
        (101, "минуту"),
        (111, "минут"),
    ],
)
def test_plural_ru_follows_russian_rules(n, form):
    assert plural_ru(n, "минуту", "минуты", "минут") == form


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (1, "остался 1 день"),
        (2, "осталось 2 дня"),
        (5, "осталось 5 дней"),
        (11, "осталось 11 дней"),
        (21, "остался 21 день"),
        (24, "осталось 24 дня"),
    ],
)
def test_days_left_ru_agrees_verb_and_noun_with_the_number(count, text):
    assert days_left_ru(count) == text


@pytest.mark.parametrize(
    ("seconds", "said"), [(60, "1 минуту"), (180, "3 минуты"), (1800, "30 минут")]
)
def test_password_lifetime_is_said_in_proper_russian(make_app, seconds, said):
    app = make_app(REGISTRATION_PASSWORD_TTL=seconds)
    with app.app_context():
        assert app.jinja_env.from_string("{{ password_lifetime() }}").render() == said


KOPECKS = st.integers(min_value=-(10**13), max_value=10**13).map(lambda k: Decimal(k) / 100)


@given(KOPECKS)
def test_money_is_written_as_babel_writes_roubles(amount):
    assert money_ru(amount) == format_currency(amount, "RUB", locale="ru")


def test_money_looks_russian():
    assert money_ru(Decimal("1234.56")) == "1\u00a0234,56\u00a0₽"
    assert money_ru(Decimal("-0.5")) == "-0,50\u00a0₽"


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=4))
@example(Decimal("-0.0001"))
def test_quantities_are_written_as_babel_writes_them(value):
    """As Babel writes them, but for the sign of what rounds to zero: «0», not «-0»."""
    assert number_ru(value) == unsigned_zero(format_decimal(value, locale="ru"))
    assert number_ru(value, 4) == unsigned_zero(format_decimal(value, "#,##0.####", locale="ru"))


def unsigned_zero(text: str) -> str:
    return "0" if text == "-0" else text


def test_quantities_drop_trailing_zeros():
    assert number_ru(Decimal("300.0000")) == "300"
    assert number_ru(Decimal("5.5000")) == "5,5"
    assert number_ru(Decimal("6.4300"), 4) == "6,43"
    assert number_ru(12345) == "12\u00a0345"


def test_dates_and_months_in_russian():
    assert date_ru(date(2026, 11, 27)) == "27 ноября 2026"
    assert month_ru(date(2026, 11, 1)) == "ноябрь 2026"


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    )
)
def test_moments_are_written_as_babel_writes_them_in_the_centres_time_zone(value):
    app = Flask(__name__)
    app.config["TIME_ZONE"] = zone = default_config.TIME_ZONE
    with app.app_context():
        assert moment_ru(value) == format_datetime(
            value, "d MMMM y, HH:mm", tzinfo=zone, locale="ru"
        )


def test_a_moment_is_said_in_local_time(app):
    with app.app_context():  # Europe/Simferopol: UTC+3
        assert moment_ru(datetime(2026, 11, 27, 22, 5, tzinfo=UTC)) == "28 ноября 2026, 01:05"
        # A naive moment is read as UTC, as Babel reads it.
        assert moment_ru(datetime(2026, 11, 27, 22, 5)) == "28 ноября 2026, 01:05"
