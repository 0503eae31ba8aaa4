"""Приборы учета without HTTP (lkabonent/meters/services.py): the rules a submitted reading
must pass — whole units within the meter's capacity, not below the last accepted reading unless
the meter rolled over, a confirmation step for unusual consumption, the reading window, the
verification date, remote-read and removed meters, replacing an unexported submission, all zones
or none — and the meter cards, a meter's history and the lookup of an account's meter.

Rows are written with tests/cabinet_data.py, each in an application context of its own, and
every submission runs in its own context and commits on STORED, as the view does. Today is the
20th of November 2026, inside cold water's window (15th to 25th) unless a test says otherwise.
"""

from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest
from cabinet_data import CabinetData
from sqlalchemy import select, update

from conftest import QueryCounter, make_accounts, meeting, run_together
from lkabonent.extensions import db, read
from lkabonent.meters.services import (
    _HISTORY,
    HistoryLine,
    LastReading,
    MeterCard,
    Outcome,
    Submission,
    account_meter,
    cards_of,
    history_rows,
    meter_cards,
    meter_history,
    meter_page,
    parse_value,
    submit_readings,
)
from lkabonent.models import Account, Meter, Reading
from lkabonent.text import number_ru

TODAY = date(2026, 11, 20)  # inside the window, 15th to 25th
PORTAL = Reading.PORTAL
BILLING = Reading.BILLING


def month(number: int, year: int = 2026) -> date:
    return date(year, number, 1)


NOVEMBER = month(11)  # the month readings submitted TODAY count for
OCTOBER, SEPTEMBER, AUGUST, JULY, JUNE = month(10), month(9), month(8), month(7), month(6)


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def data(app):
    return CabinetData(app)


@pytest.fixture
def account_id(accounts):
    return accounts["1080000001"].id


@pytest.fixture
def water(data):
    """Cold water in м³, readings from the 15th to the 25th."""
    return data.service()


@pytest.fixture
def meter_id(data, account_id, water):
    """A one-zone cold water meter of five digits, verified until 2030."""
    return data.meter(account_id, water)


def submit(app, meter_id, values, *, today=TODAY, user_id=None, **confirmed) -> Submission:
    """«Передать показания» as the view does it: in a context of its own, committed on STORED.
    ``values`` is the text of zone 1, or the texts by zone."""
    if isinstance(values, str):
        values = {1: values}
    with app.app_context():
        meter = db.session.get(Meter, meter_id)
        submission = submit_readings(meter, values, user_id, today, **confirmed)
        if submission.outcome is Outcome.STORED:
            db.session.commit()
        else:
            db.session.rollback()
        return submission


def readings_of(app, meter_id) -> list[tuple]:
    """Every reading of the meter as (zone, month, source, value, state, received_at)."""
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                select(
                    Reading.zone,
                    Reading.month,
                    Reading.source,
                    Reading.value,
                    Reading.state,
                    Reading.received_at,
                )
                .where(Reading.meter_id == meter_id)
                .order_by(Reading.zone, Reading.month, Reading.source)
            )
        ]


def portal_values(app, meter_id, of_month: date = NOVEMBER) -> dict[int, int]:
    """The portal's readings of the meter for ``of_month``, by zone."""
    return {
        zone: value
        for zone, month_of, source, value, _, _ in readings_of(app, meter_id)
        if source == PORTAL and month_of == of_month
    }


def cards(app, account_id, today=TODAY):
    with app.app_context():
        return meter_cards(account_id, today)


def history(app, meter_id, latest=NOVEMBER) -> list[tuple]:
    """The meter's history as (month, zone, value, consumption) lines."""
    with app.app_context():
        lines = meter_history(db.session.get(Meter, meter_id), latest).lines
    return [(line.month, line.zone, line.value, line.consumption) for line in lines]


# --- storing -------------------------------------------------------------------------------------


def test_a_valid_reading_is_stored_as_this_months_portal_reading(app, data, account_id, meter_id):
    user_id = data.subscriber(account_id)

    submission = submit(app, meter_id, "00123", user_id=user_id)

    assert submission.outcome is Outcome.STORED
    assert (submission.replaced, submission.message, submission.errors) == (False, None, {})
    with app.app_context():
        (reading,) = db.session.scalars(select(Reading).where(Reading.meter_id == meter_id))
        assert (reading.zone, reading.month, reading.value) == (1, NOVEMBER, 123)
        assert (reading.source, reading.state) == (PORTAL, Reading.ACCEPTED)
        assert reading.submitted_by == user_id
        assert reading.export_batch_id is None


def test_a_stored_reading_is_kept_only_when_the_caller_commits(app, meter_id):
    """«The caller commits on STORED»: rolled back instead, the reading is gone."""
    with app.app_context():
        meter = db.session.get(Meter, meter_id)
        submission = submit_readings(meter, {1: "120"}, None, TODAY)
        assert submission.outcome is Outcome.STORED
        db.session.rollback()

    assert readings_of(app, meter_id) == []


# --- whole units within the meter's capacity -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("123", 123),
        ("0", 0),
        ("99999", 99999),
        ("00123", 123),  # leading zeros, as the drum shows them
        ("0099999", 99999),  # leading zeros do not count as digits
        ("12 345", 12345),
        ("12\u00a0345", 12345),  # a non-breaking space copied from somewhere
        ("0" * 5000 + "7", 7),  # more than int() takes in one string
    ],
)
def test_a_reading_in_whole_units_is_taken_with_leading_zeros_and_spaces(raw, value):
    assert parse_value(raw, 5) == (value, None)


def test_an_empty_reading_is_asked_for():
    assert parse_value("", 5) == (None, "Введите показание.")


@pytest.mark.parametrize("raw", ["123,45", "123.45", "123,", ",5", "1.234"])
def test_a_reading_with_decimals_is_refused_whatever_the_separator(raw):
    value, error = parse_value(raw, 5)

    assert value is None
    assert "целым числом" in error
    assert "без дробной части" in error


@pytest.mark.parametrize("raw", ["12a", "abc", "-5", "+5", "1e3", "١٢٣", "１２３"])
def test_letters_signs_and_other_scripts_digits_are_not_a_reading(raw):
    value, error = parse_value(raw, 5)

    assert value is None
    assert error == "Показание — это число: введите только цифры."


@pytest.mark.parametrize(
    ("digits", "raw", "words"),
    [
        (5, "123456", ["5 разрядов", "больше 99999"]),
        (4, "12345", ["4 разряда", "больше 9999"]),
        (6, "1 234 567", ["6 разрядов", "больше 999999"]),
    ],
)
def test_more_digits_than_the_meter_has_are_refused(digits, raw, words):
    value, error = parse_value(raw, digits)

    assert value is None
    for word in words:
        assert word in error
    assert "лишние цифры" in error


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("", "Введите показание"),
        ("   ", "Введите показание"),
        ("12,5", "целым числом"),
        ("abc", "только цифры"),
        ("123456", "5 разрядов"),
    ],
)
def test_an_invalid_reading_gets_its_reason_and_is_not_stored(app, meter_id, raw, words):
    submission = submit(app, meter_id, raw)

    assert submission.outcome is Outcome.INVALID
    assert list(submission.errors) == [1]
    assert words in submission.errors[1]
    assert readings_of(app, meter_id) == []


# --- not below the last accepted reading, unless it rolled over ----------------------------------


def test_a_reading_below_the_last_one_asks_to_confirm_a_rollover(app, data, meter_id):
    data.reading(meter_id, OCTOBER, 99950)

    submission = submit(app, meter_id, "30")

    assert submission.outcome is Outcome.CONFIRM
    assert list(submission.rollover) == [1]
    warning = submission.rollover[1]
    assert "меньше последнего принятого: 99950 за октябрь 2026" in warning
    assert "через ноль (после 99999 снова с нуля), и тогда расход составит 80 м³" in warning
    assert submission.high == {}
    assert portal_values(app, meter_id) == {}


def test_a_rollover_question_names_the_consumption_a_typo_would_mean(app, data, meter_id):
    """A digit left out of 12345 reads as a rollover of 88,889 m³: the question says so."""
    data.reading(meter_id, OCTOBER, 12345)

    submission = submit(app, meter_id, "1234")

    assert submission.outcome is Outcome.CONFIRM
    assert f"расход составит {number_ru(88889)} м³" in submission.rollover[1]
    assert portal_values(app, meter_id) == {}


def test_a_confirmed_rollover_is_stored(app, data, meter_id):
    data.monthly_readings(meter_id, JULY, [99800, 99850, 99900, 99950])  # 50 a month

    submission = submit(app, meter_id, "30", rollover_confirmed=True)  # 80 past 99999

    assert submission.outcome is Outcome.STORED
    assert portal_values(app, meter_id) == {1: 30}
    assert history(app, meter_id)[0] == (NOVEMBER, 1, 30, 80)


def test_consumption_across_a_rollover_counts_from_the_meters_capacity(app, data, meter_id):
    """99950 → 200 on a five-digit meter is 250 m³: over three times the usual 50, so the
    confirmation step comes after the rollover is confirmed."""
    data.monthly_readings(meter_id, JULY, [99800, 99850, 99900, 99950])

    submission = submit(app, meter_id, "200", rollover_confirmed=True)

    assert submission.outcome is Outcome.CONFIRM
    assert submission.rollover == {}
    assert list(submission.high) == [1]
    assert "— 250 м³" in submission.high[1]
    assert portal_values(app, meter_id) == {}


def test_a_reading_equal_to_the_last_one_is_stored(app, data, meter_id):
    data.monthly_readings(meter_id, AUGUST, [100, 110, 120])

    assert submit(app, meter_id, "120").outcome is Outcome.STORED
    assert portal_values(app, meter_id) == {1: 120}


def test_a_reading_below_one_accepted_long_ago_still_asks_to_confirm_a_rollover(
    app, data, meter_id
):
    """The last accepted reading is two years and a month old (no readings since, charged on
    the norm): a smaller value is still below it."""
    data.reading(meter_id, month(10, 2024), 500)

    submission = submit(app, meter_id, "100")

    assert submission.outcome is Outcome.CONFIRM
    assert "500 за октябрь 2024" in submission.rollover[1]
    assert portal_values(app, meter_id) == {}


# --- the confirmation step for unusual consumption -----------------------------------------------


def test_consumption_above_three_times_the_monthly_mean_asks_to_confirm(app, data, meter_id):
    data.monthly_readings(meter_id, JULY, [100, 110, 120, 130])  # 10 a month

    submission = submit(app, meter_id, "161")  # 31

    assert submission.outcome is Outcome.CONFIRM
    assert submission.rollover == {}
    assert list(submission.high) == [1]
    warning = submission.high[1]
    assert "после показания за октябрь 2026 — 31 м³" in warning
    assert "более чем втрое больше обычного" in warning
    assert portal_values(app, meter_id) == {}


def test_exactly_three_times_the_monthly_mean_is_stored(app, data, meter_id):
    data.monthly_readings(meter_id, JULY, [100, 110, 120, 130])

    submission = submit(app, meter_id, "160")  # 30

    assert submission.outcome is Outcome.STORED
    assert submission.high == {}
    assert portal_values(app, meter_id) == {1: 160}


def test_a_confirmed_high_reading_is_stored(app, data, meter_id):
    data.monthly_readings(meter_id, JULY, [100, 110, 120, 130])

    submission = submit(app, meter_id, "900", high_confirmed=True)

    assert submission.outcome is Outcome.STORED
    assert portal_values(app, meter_id) == {1: 900}


@pytest.mark.parametrize(
    ("history_values", "typed", "mean"),
    [
        ([100, 110, 120, 130], "161", "в среднем 10 м³ в месяц"),
        ([1000, 1100, 1200], "1501", "в среднем 100 м³ в месяц"),
        ([100, 110, 125], "163", "в среднем 12,5 м³ в месяц"),
    ],
    ids=["10", "100", "12,5"],
)
def test_the_confirmation_names_the_usual_mean_in_plain_russian(
    app, data, meter_id, history_values, typed, mean
):
    """Not «1E+1» for 10 (a normalised Decimal), and with a decimal comma."""
    data.monthly_readings(meter_id, month(11 - len(history_values)), history_values)

    submission = submit(app, meter_id, typed)

    assert submission.outcome is Outcome.CONFIRM
    assert mean in submission.high[1]


@pytest.mark.parametrize("history_values", [[], [100]], ids=["no readings", "one reading"])
def test_without_history_any_consumption_is_stored_without_confirmation(
    app, data, meter_id, history_values
):
    data.monthly_readings(meter_id, OCTOBER, history_values)

    submission = submit(app, meter_id, "99999")

    assert submission.outcome is Outcome.STORED
    assert portal_values(app, meter_id) == {1: 99999}


@pytest.mark.parametrize(
    ("typed", "outcome"), [("1180", Outcome.STORED), ("1181", Outcome.CONFIRM)]
)
def test_the_mean_is_of_the_last_six_accepted_months(app, data, meter_id, typed, outcome):
    """March to April 1000, April to May 70, then 10 a month to October: the last six months
    make 120, 20 a month, so 60 in November is usual and 61 asks (with seven months the mean
    would be 160, with five 10)."""
    data.monthly_readings(meter_id, month(3), [0, 1000, 1070, 1080, 1090, 1100, 1110, 1120])

    assert submit(app, meter_id, typed).outcome is outcome


def test_every_confirmation_needed_is_asked_at_once(app, data, account_id, water):
    """Zone 1 is below its last reading and zone 2 unusually high: one step asks both."""
    two_zones = data.meter(account_id, water, zones=2)
    data.monthly_readings(two_zones, AUGUST, [500, 510, 520], zone=1)
    data.monthly_readings(two_zones, AUGUST, [100, 110, 120], zone=2)

    submission = submit(app, two_zones, {1: "400", 2: "900"})

    assert submission.outcome is Outcome.CONFIRM
    assert list(submission.rollover) == [1]
    assert list(submission.high) == [2]
    assert portal_values(app, two_zones) == {}


def test_a_rejected_reading_is_not_the_last_one_to_compare_with(app, data, meter_id):
    data.reading(meter_id, SEPTEMBER, 100)
    data.reading(meter_id, OCTOBER, 5000, source=PORTAL, state=Reading.REJECTED, reason="Опечатка")

    submission = submit(app, meter_id, "150")

    assert submission.outcome is Outcome.STORED
    assert portal_values(app, meter_id) == {1: 150}


def test_rejected_readings_do_not_count_as_history(app, data, meter_id):
    """One accepted reading and a rejected one make no history: no confirmation step, though
    400 would be far above the 1 a month they would give."""
    data.reading(meter_id, SEPTEMBER, 100)
    data.reading(meter_id, OCTOBER, 101, state=Reading.REJECTED, reason="Неверный прибор")

    submission = submit(app, meter_id, "500")

    assert submission.outcome is Outcome.STORED
    assert portal_values(app, meter_id) == {1: 500}


def test_of_two_readings_in_a_month_the_accounting_systems_counts(app, data, meter_id):
    """October has the accounting system's 110 and the portal's 140: 110 is the last reading
    (so 125 is not below it) and the base of the consumption (141 is 31 above it)."""
    data.reading(meter_id, SEPTEMBER, 100)
    data.reading(meter_id, OCTOBER, 110)
    data.reading(meter_id, OCTOBER, 140, source=PORTAL, state=Reading.EXPORTED, exported=True)

    high = submit(app, meter_id, "141")
    assert high.outcome is Outcome.CONFIRM
    assert "после показания за октябрь 2026 — 31 м³" in high.high[1]

    assert submit(app, meter_id, "125").outcome is Outcome.STORED
    assert portal_values(app, meter_id) == {1: 125}


@pytest.mark.parametrize(("typed", "outcome"), [("180", Outcome.STORED), ("181", Outcome.CONFIRM)])
def test_consumption_over_missed_months_is_compared_with_the_mean_of_as_many(
    app, data, meter_id, typed, outcome
):
    """10 a month until September, nothing in October: 60 over two months is usual."""
    data.monthly_readings(meter_id, JULY, [100, 110, 120])

    assert submit(app, meter_id, typed).outcome is outcome


def test_a_gap_in_the_history_spreads_its_consumption_over_its_months(app, data, meter_id):
    """June 100, August 120, September 130, October 140: 40 over four months is 10 a month
    (not 40 over three readings), so 31 asks."""
    data.reading(meter_id, JUNE, 100)
    data.monthly_readings(meter_id, AUGUST, [120, 130, 140])

    submission = submit(app, meter_id, "171")

    assert submission.outcome is Outcome.CONFIRM
    assert "— 31 м³" in submission.high[1]


# --- the reading window --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "first", "last"),
    [
        (date(2026, 11, 27), "15 декабря 2026", "25 декабря 2026"),
        (date(2026, 11, 26), "15 декабря 2026", "25 декабря 2026"),
        (date(2026, 11, 14), "15 ноября 2026", "25 ноября 2026"),
        (date(2026, 12, 31), "15 января 2027", "25 января 2027"),
    ],
)
def test_outside_the_window_a_reading_is_refused_with_the_next_windows_dates(
    app, meter_id, today, first, last
):
    submission = submit(app, meter_id, "120", today=today)

    assert submission.outcome is Outcome.REFUSED
    assert "«Холодное водоснабжение» принимаются с 15-го по 25-е число" in submission.message
    assert f"Ближайший прием: с {first} по {last}." in submission.message
    assert readings_of(app, meter_id) == []


@pytest.mark.parametrize("day", [15, 25])
def test_the_first_and_the_last_day_of_the_window_take_readings(app, meter_id, day):
    assert submit(app, meter_id, "120", today=date(2026, 11, day)).outcome is Outcome.STORED
    assert portal_values(app, meter_id) == {1: 120}


def test_with_the_window_always_open_a_reading_is_taken_on_any_day(make_app, meter_id):
    always_open = make_app(READING_WINDOW_ALWAYS_OPEN=True)
    closed_day = date(2026, 11, 27)

    submission = submit(always_open, meter_id, "120", today=closed_day)

    assert submission.outcome is Outcome.STORED
    assert portal_values(always_open, meter_id) == {1: 120}


# --- meters that take no readings ----------------------------------------------------------------


def test_a_meter_past_its_verification_date_is_refused(app, data, account_id, water):
    overdue = data.meter(account_id, water, verification=TODAY - timedelta(days=1))

    submission = submit(app, overdue, "120")

    assert submission.outcome is Outcome.REFUSED
    assert "Срок поверки прибора истек 19 ноября 2026" in submission.message
    assert "не принимаются" in submission.message
    assert readings_of(app, overdue) == []


def test_a_meter_due_for_verification_today_still_takes_readings(app, data, account_id, water):
    due_today = data.meter(account_id, water, verification=TODAY)

    assert submit(app, due_today, "120").outcome is Outcome.STORED
    assert portal_values(app, due_today) == {1: 120}


@pytest.mark.parametrize(
    ("meter", "words"),
    [
        ({"remote": True}, "передаются автоматически (дистанционно)"),
        ({"status": Meter.REMOVED}, "Прибор учета снят"),
    ],
    ids=["remote-read", "removed"],
)
def test_a_remote_read_or_removed_meter_is_refused(app, data, account_id, water, meter, words):
    refused = data.meter(account_id, water, **meter)

    submission = submit(app, refused, "120")

    assert submission.outcome is Outcome.REFUSED
    assert words in submission.message
    assert readings_of(app, refused) == []


def test_a_meter_of_a_closed_account_is_refused(app, data, water):
    closed = make_accounts(app, 1, start=2000000500)[0]
    with app.app_context():
        db.session.execute(
            update(Account).where(Account.id == closed.id).values(status=Account.CLOSED)
        )
        db.session.commit()
    refused = data.meter(closed.id, water)

    submission = submit(app, refused, "120")

    assert submission.outcome is Outcome.REFUSED
    assert "Лицевой счет закрыт" in submission.message
    assert readings_of(app, refused) == []
    assert not cards(app, closed.id)[0].accepts_readings


# --- one reading per meter, zone and month -------------------------------------------------------


def test_a_second_submission_in_the_window_replaces_the_first(app, meter_id):
    first = submit(app, meter_id, "120")
    second = submit(app, meter_id, "125", today=TODAY + timedelta(days=2))

    assert (first.outcome, first.replaced) == (Outcome.STORED, False)
    assert (second.outcome, second.replaced) == (Outcome.STORED, True)
    assert [row[:4] for row in readings_of(app, meter_id)] == [(1, NOVEMBER, PORTAL, 125)]


def test_after_export_a_change_is_refused_and_points_to_the_subscriber_service(app, data, meter_id):
    data.reading(meter_id, NOVEMBER, 120, source=PORTAL, state=Reading.EXPORTED, exported=True)
    before = readings_of(app, meter_id)

    submission = submit(app, meter_id, "125")

    assert submission.outcome is Outcome.REFUSED
    assert "Показания за ноябрь 2026 уже переданы в расчет" in submission.message
    assert "обратитесь в абонентскую службу" in submission.message
    assert app.config["SUBSCRIBER_SERVICE_CONTACTS"] in submission.message
    assert readings_of(app, meter_id) == before


def test_a_reading_of_the_accounting_system_this_month_does_not_block_the_portals(
    app, data, meter_id
):
    data.reading(meter_id, NOVEMBER, 118)

    assert submit(app, meter_id, "120").outcome is Outcome.STORED
    assert portal_values(app, meter_id) == {1: 120}


def test_two_simultaneous_submissions_of_one_reading_store_one_row(app, meter_id):
    """Both reach the readings table together: on PostgreSQL both find nothing to replace and
    insert, and the second insert, once the first commits, replaces instead; on SQLite the first
    write holds the database and the second waits for it (busy timeout), then replaces."""
    with app.app_context():
        postgresql = db.engine.dialect.name == "postgresql"
    # Where the two meet: neither holds a lock there, so neither keeps the other from it.
    meet = meeting("INSERT INTO readings" if postgresql else "UPDATE readings")
    results = {}

    def attempt(value: str):
        results[value] = submit(app, meter_id, value)

    with app.app_context():
        engine = db.engine
    errors = run_together(engine, meet, [partial(attempt, "120"), partial(attempt, "121")])
    assert errors == []
    assert {submission.outcome for submission in results.values()} == {Outcome.STORED}
    assert sorted(submission.replaced for submission in results.values()) == [False, True]
    (last,) = (value for value, submission in results.items() if submission.replaced)
    rows = readings_of(app, meter_id)
    assert [row[:4] for row in rows] == [(1, NOVEMBER, PORTAL, int(last))]


# --- multi-zone meters ---------------------------------------------------------------------------


@pytest.fixture
def three_zones(data, account_id, water):
    return data.meter(account_id, water, zones=3)


def test_every_zone_of_a_multi_zone_meter_is_stored(app, three_zones):
    submission = submit(app, three_zones, {1: "100", 2: "200", 3: "300"})

    assert submission.outcome is Outcome.STORED
    assert portal_values(app, three_zones) == {1: 100, 2: 200, 3: 300}


def test_a_multi_zone_meter_needs_a_reading_of_every_zone(app, three_zones):
    submission = submit(app, three_zones, {1: "100", 3: "300"})

    assert submission.outcome is Outcome.INVALID
    assert submission.errors == {2: "Введите показание."}
    assert readings_of(app, three_zones) == []


def test_one_invalid_zone_stores_no_zone(app, three_zones):
    submission = submit(app, three_zones, {1: "100", 2: "12,5", 3: "300"})

    assert submission.outcome is Outcome.INVALID
    assert list(submission.errors) == [2]
    assert "целым числом" in submission.errors[2]
    assert readings_of(app, three_zones) == []


def test_one_zone_below_its_last_reading_stores_no_zone(app, data, three_zones):
    for zone, value in ((1, 100), (2, 500), (3, 300)):
        data.reading(three_zones, OCTOBER, value, zone=zone)

    submission = submit(app, three_zones, {1: "110", 2: "400", 3: "310"})

    assert submission.outcome is Outcome.CONFIRM
    assert list(submission.rollover) == [2]
    assert "500 за октябрь 2026" in submission.rollover[2]
    assert portal_values(app, three_zones) == {}


def test_each_zone_is_compared_with_its_own_history(app, data, account_id, water):
    two_zones = data.meter(account_id, water, zones=2)
    data.monthly_readings(two_zones, AUGUST, [100, 110, 120], zone=1)  # 10 a month
    data.monthly_readings(two_zones, AUGUST, [1000, 1100, 1200], zone=2)  # 100 a month

    submission = submit(app, two_zones, {1: "150", 2: "1501"})  # 30 and 301

    assert submission.outcome is Outcome.CONFIRM
    assert list(submission.high) == [2]
    assert "— 301 м³" in submission.high[2]
    assert portal_values(app, two_zones) == {}


def test_one_exported_zone_refuses_the_whole_submission(app, data, account_id, water):
    """Zone 1's earlier submission is not exported, zone 2's is: zone 1 keeps its value."""
    two_zones = data.meter(account_id, water, zones=2)
    data.reading(two_zones, NOVEMBER, 100, zone=1, source=PORTAL)
    data.reading(
        two_zones, NOVEMBER, 200, zone=2, source=PORTAL, state=Reading.EXPORTED, exported=True
    )
    before = readings_of(app, two_zones)

    submission = submit(app, two_zones, {1: "105", 2: "205"})

    assert submission.outcome is Outcome.REFUSED
    assert "абонентскую службу" in submission.message
    assert readings_of(app, two_zones) == before


# --- meter cards ---------------------------------------------------------------------------------


def test_cards_show_the_accounts_meters_in_service_by_service_and_serial_number(
    app, data, accounts, water
):
    mine, theirs = accounts["1080000001"].id, accounts["1080000002"].id
    electricity = data.service("electricity", "Электроснабжение", "кВт·ч")
    data.meter(mine, electricity, serial="E-1")
    data.meter(mine, water, serial="W-2")
    data.meter(mine, water, serial="W-1")
    data.meter(mine, water, serial="W-0", status=Meter.REMOVED)
    data.meter(theirs, water, serial="W-9")

    shown = [card.meter.serial_number for card in cards(app, mine)]

    assert shown == ["W-1", "W-2", "E-1"]


def test_a_card_shows_the_last_accepted_reading_of_each_zone(app, data, account_id, water):
    """Zone 1: October's accounting system reading, not the portal's beside it nor this
    month's. Zone 2: none, its only reading was rejected. Zone 3: September's, as October's
    was rejected."""
    three_zones = data.meter(account_id, water, zones=3)
    data.reading(three_zones, SEPTEMBER, 100, zone=1)
    data.reading(three_zones, OCTOBER, 110, zone=1)
    data.reading(
        three_zones, OCTOBER, 115, zone=1, source=PORTAL, state=Reading.EXPORTED, exported=True
    )
    data.reading(three_zones, NOVEMBER, 120, zone=1, source=PORTAL)
    data.reading(three_zones, OCTOBER, 20, zone=2, state=Reading.REJECTED, reason="Опечатка")
    data.reading(three_zones, SEPTEMBER, 50, zone=3)
    data.reading(three_zones, OCTOBER, 45, zone=3, state=Reading.REJECTED, reason="Меньше")

    (card,) = cards(app, account_id)

    accepted = {zone: (last.month, last.value, last.source) for zone, last in card.accepted.items()}
    assert accepted == {1: (OCTOBER, 110, BILLING), 3: (SEPTEMBER, 50, BILLING)}


def test_a_card_shows_this_months_readings_preferring_the_accounting_systems(
    app, data, account_id, water
):
    two_zones = data.meter(account_id, water, zones=2)
    data.reading(two_zones, OCTOBER, 110, zone=1)
    data.reading(two_zones, NOVEMBER, 120, zone=1, source=PORTAL)
    data.reading(two_zones, NOVEMBER, 121, zone=1)
    data.reading(two_zones, NOVEMBER, 230, zone=2, source=PORTAL)

    (card,) = cards(app, account_id)

    current = {zone: (last.value, last.source) for zone, last in card.current.items()}
    assert current == {1: (121, BILLING), 2: (230, PORTAL)}
    assert card.current[2].state_label == "принято"


@pytest.mark.parametrize(
    ("zones_read", "today", "waiting"),
    [
        ((), TODAY, True),
        ((1,), TODAY, True),
        ((1, 2), TODAY, False),
        ((), date(2026, 11, 27), False),  # after the window
        ((), date(2026, 11, 14), False),  # before it
    ],
)
def test_a_card_waits_while_the_window_is_open_and_a_zone_has_no_reading_this_month(
    app, data, account_id, water, zones_read, today, waiting
):
    two_zones = data.meter(account_id, water, zones=2)
    data.reading(two_zones, OCTOBER, 100, zone=1)
    data.reading(two_zones, OCTOBER, 200, zone=2)
    for zone in zones_read:
        data.reading(two_zones, NOVEMBER, 300, zone=zone, source=PORTAL)

    (card,) = cards(app, account_id, today)

    assert card.waiting is waiting


@pytest.mark.parametrize(
    "meter",
    [{"remote": True}, {"verification": TODAY - timedelta(days=1)}],
    ids=["remote-read", "verification overdue"],
)
def test_a_card_of_a_meter_that_takes_no_readings_does_not_wait(
    app, data, account_id, water, meter
):
    data.meter(account_id, water, **meter)

    (card,) = cards(app, account_id)

    assert card.refusal is not None
    assert card.waiting is False


@pytest.mark.parametrize(
    ("days", "soon", "overdue"),
    [(61, False, False), (60, True, False), (0, True, False), (-1, False, True)],
)
def test_verification_is_announced_from_sixty_days_before_its_date(
    app, data, account_id, water, days, soon, overdue
):
    data.meter(account_id, water, verification=TODAY + timedelta(days=days))

    (card,) = cards(app, account_id)

    assert (card.verification_soon, card.verification_overdue) == (soon, overdue)


def test_a_meter_without_a_verification_date_is_neither_soon_nor_overdue(
    app, data, account_id, water
):
    data.meter(account_id, water, verification=None)

    (card,) = cards(app, account_id)

    assert (card.verification_soon, card.verification_overdue) == (False, False)
    assert card.waiting is True


def test_cards_take_as_many_queries_for_many_meters_as_for_one(app, data, accounts, water):
    one, many = accounts["1080000001"].id, accounts["1080000002"].id
    lone = data.meter(one, water)
    data.monthly_readings(lone, SEPTEMBER, [100, 110, 120])
    electricity = data.service("electricity", "Электроснабжение", "кВт·ч", window=(20, 26))
    heating = data.service("heating", "Отопление", "Гкал", window=(1, 10))
    for service, zones, extra in [
        (water, 1, {}),
        (water, 1, {"remote": True}),
        (electricity, 2, {}),
        (electricity, 3, {"verification": TODAY + timedelta(days=30)}),
        (heating, 1, {"verification": TODAY - timedelta(days=5)}),
        (heating, 1, {}),
    ]:
        meter = data.meter(many, service, zones=zones, **extra)
        for zone in range(1, zones + 1):
            data.monthly_readings(meter, SEPTEMBER, [100, 110, 120], zone=zone)

    def statements_for(account_id) -> tuple[int, int]:
        """Cards and every property the page reads of them; (cards, statements)."""
        with app.app_context(), QueryCounter(db.engine) as counter:
            shown = meter_cards(account_id, TODAY)
            for card in shown:
                _ = (card.meter.service.name, card.refusal, card.waiting, card.days_left)
                _ = (card.verification_soon, card.accepted, card.current)
            return len(shown), counter.count

    assert statements_for(one)[0] == 1
    assert statements_for(many) == (6, statements_for(one)[1])


# --- a meter's history ---------------------------------------------------------------------------


def test_history_is_latest_first_with_the_consumption_of_each_zone(app, data, account_id, water):
    two_zones = data.meter(account_id, water, zones=2)
    data.monthly_readings(two_zones, SEPTEMBER, [100, 110, 125, 140], zone=1)  # to December
    data.monthly_readings(two_zones, SEPTEMBER, [50, 52, 55], zone=2)

    assert history(app, two_zones, latest=NOVEMBER) == [
        (NOVEMBER, 1, 125, 15),
        (NOVEMBER, 2, 55, 3),
        (OCTOBER, 1, 110, 10),
        (OCTOBER, 2, 52, 2),
        (SEPTEMBER, 1, 100, None),
        (SEPTEMBER, 2, 50, None),
    ]


def test_history_counts_consumption_across_a_rollover(app, data, meter_id):
    data.monthly_readings(meter_id, SEPTEMBER, [99990, 15])

    assert history(app, meter_id, latest=OCTOBER) == [
        (OCTOBER, 1, 15, 25),
        (SEPTEMBER, 1, 99990, None),
    ]


def test_history_shows_a_rejected_reading_with_its_reason_but_counts_from_the_one_before(
    app, data, meter_id
):
    data.reading(meter_id, SEPTEMBER, 100)
    data.reading(meter_id, OCTOBER, 500, source=PORTAL, state=Reading.REJECTED, reason="Опечатка")
    data.reading(meter_id, NOVEMBER, 130)

    with app.app_context():
        lines = meter_history(db.session.get(Meter, meter_id), NOVEMBER).lines

    assert [(line.month, line.value, line.consumption) for line in lines] == [
        (NOVEMBER, 130, 30),
        (OCTOBER, 500, None),  # rejected: no consumption
        (SEPTEMBER, 100, None),
    ]
    rejected = lines[1]
    assert (rejected.state_label, rejected.rejection_reason) == ("отклонено", "Опечатка")
    assert rejected.source_label == "портал"


def test_history_rows_are_written_with_the_reason_escaped_and_numbers_named():
    lines = [
        HistoryLine(NOVEMBER, 2, 1300, 25, Reading.BILLING, Reading.ACCEPTED, None),
        HistoryLine(OCTOBER, 1, 500, None, PORTAL, Reading.REJECTED, "<b>Опечатка</b> & т. п."),
    ]
    assert str(history_rows(lines, zoned=True, unit="кВт·ч")) == (
        '<tr><td>ноябрь 2026</td><td class="history__zone" data-label="Зона">T2</td>'
        '<td data-label="Показание" class="number">1300</td>'
        '<td data-label="Расход, кВт·ч" class="number">25</td>'
        "<td>система учета</td><td>"
        '<span class="state state--accepted">принято</span></td></tr>'
        '<tr><td>октябрь 2026</td><td class="history__zone" data-label="Зона">T1</td>'
        '<td data-label="Показание" class="number">500</td>'
        '<td data-label="Расход, кВт·ч" class="number">—</td>'
        "<td>портал</td><td>"
        '<span class="state state--rejected">отклонено</span>: '
        "&lt;b&gt;Опечатка&lt;/b&gt; &amp; т. п.</td></tr>"
    )
    # A meter of one zone has no zone column; a large consumption has its thousands apart.
    one = str(history_rows([lines[0]._replace(consumption=12345)], zoned=False, unit="м³"))
    assert 'data-label="Зона"' not in one
    assert '<td data-label="Расход, м³" class="number">12\u00a0345</td>' in one
    # The unit goes into an attribute: escaped as well.
    odd = str(history_rows(lines[:1], zoned=False, unit='"><b>'))
    assert 'data-label="Расход, &#34;&gt;&lt;b&gt;"' in odd and "<b>" not in odd


def test_history_after_a_month_with_two_readings_counts_from_the_accounting_systems(
    app, data, meter_id
):
    """October has the accounting system's 110 and the portal's 115: November's 120 is 10
    above the reading that counts, as the portal's checks and the card take it."""
    data.monthly_readings(meter_id, SEPTEMBER, [100, 110, 120])
    data.reading(meter_id, OCTOBER, 115, source=PORTAL, state=Reading.EXPORTED, exported=True)

    assert history(app, meter_id)[0] == (NOVEMBER, 1, 120, 10)


def test_history_counts_a_portal_reading_beside_the_accounting_systems_from_the_month_before(
    app, data, meter_id
):
    """The portal's 115 for October is 15 above September's 100, not 5 above the accounting
    system's reading of the same month."""
    data.monthly_readings(meter_id, SEPTEMBER, [100, 110])
    data.reading(meter_id, OCTOBER, 115, source=PORTAL, state=Reading.EXPORTED, exported=True)

    assert history(app, meter_id, latest=OCTOBER)[:2] == [
        (OCTOBER, 1, 110, 10),
        (OCTOBER, 1, 115, 15),
    ]


def test_history_shows_two_years_and_counts_the_oldest_month_from_the_reading_before(
    app, data, meter_id
):
    """25 months of readings, 10 a month: 24 are shown, the oldest with its 10 too."""
    data.monthly_readings(meter_id, month(11, 2024), [100 + 10 * index for index in range(25)])

    lines = history(app, meter_id)

    assert len(lines) == 24
    assert lines[0] == (NOVEMBER, 1, 340, 10)
    assert lines[-1] == (month(12, 2024), 1, 110, 10)


def test_history_counts_its_oldest_month_from_a_reading_years_before(app, data, meter_id):
    """The base of the first month shown is the latest accepted reading before the two years
    shown, however long ago: here from 2023, a rejected one after it not counting. Of the
    readings before those years, only that one and the latest (where the earlier ones begin)
    are read."""
    data.reading(meter_id, month(5, 2023), 90)
    data.reading(meter_id, month(6, 2023), 100)
    data.reading(meter_id, month(1, 2024), 50, state=Reading.REJECTED, reason="Меньше")
    data.reading(meter_id, month(3, 2025), 160)

    assert history(app, meter_id) == [(month(3, 2025), 1, 160, 60)]
    with app.app_context():
        params = {"meter_id": meter_id, "month": month(12, 2024), "latest": NOVEMBER}
        read_rows = read(_HISTORY[False], params).all()
    assert [(row.month, row.value) for row in read_rows] == [
        (month(6, 2023), 100),
        (month(1, 2024), 50),
        (month(3, 2025), 160),
    ]


def test_history_says_the_latest_month_of_the_earlier_readings(app, data, meter_id):
    """Readings of 2022 and of the last two years: the two years are shown, and the earlier
    ones begin at May 2022, where their own two years end; those show no later month."""
    data.monthly_readings(meter_id, month(3, 2022), [10, 20, 30])
    data.monthly_readings(meter_id, month(12, 2024), [100 + index for index in range(24)])

    with app.app_context():
        meter = db.session.get(Meter, meter_id)
        recent = meter_history(meter, NOVEMBER)
        earlier = meter_history(meter, recent.earlier)

    assert (recent.first, recent.latest, recent.earlier) == (
        month(12, 2024),
        NOVEMBER,
        month(5, 2022),
    )
    assert len(recent.lines) == 24
    assert recent.lines[-1][:4] == (month(12, 2024), 1, 100, 70)  # from May 2022's 30
    assert (earlier.first, earlier.latest, earlier.earlier) == (
        month(6, 2020),
        month(5, 2022),
        None,
    )
    assert [line[:4] for line in earlier.lines] == [
        (month(5, 2022), 1, 30, 10),
        (month(4, 2022), 1, 20, 10),
        (month(3, 2022), 1, 10, None),
    ]


def test_a_rejected_reading_alone_before_the_two_years_is_where_the_earlier_ones_begin(
    app, data, meter_id
):
    data.reading(meter_id, month(8, 2023), 5, source=PORTAL, state=Reading.REJECTED, reason="Нет")
    data.reading(meter_id, OCTOBER, 100)

    with app.app_context():
        recent = meter_history(db.session.get(Meter, meter_id), NOVEMBER)

    assert recent.earlier == month(8, 2023)
    assert [line[:4] for line in recent.lines] == [(OCTOBER, 1, 100, None)]


def test_history_without_earlier_readings_has_no_earlier_month(app, data, meter_id):
    data.monthly_readings(meter_id, month(12, 2024), [100, 110])

    with app.app_context():
        assert meter_history(db.session.get(Meter, meter_id), NOVEMBER).earlier is None


# --- a meter's page: its card from the history's rows ---------------------------------------------

# Readings of one zone as (month, value, source, state): each case puts the card's two readings
# (this month's, the last accepted one before it) somewhere the card's own query finds them.
CARD_CASES = {
    "both sources in both months": [
        (OCTOBER, 110, BILLING, Reading.ACCEPTED),
        (OCTOBER, 115, PORTAL, Reading.EXPORTED),
        (NOVEMBER, 120, PORTAL, Reading.ACCEPTED),
        (NOVEMBER, 121, BILLING, Reading.ACCEPTED),
    ],
    "this month's portal reading only": [
        (SEPTEMBER, 100, BILLING, Reading.ACCEPTED),
        (NOVEMBER, 120, PORTAL, Reading.ACCEPTED),
    ],
    "a rejected accounting system's reading this month": [
        (OCTOBER, 110, BILLING, Reading.ACCEPTED),
        (NOVEMBER, 90, BILLING, Reading.REJECTED),
        (NOVEMBER, 120, PORTAL, Reading.EXPORTED),
    ],
    "last month rejected, the one before accepted": [
        (SEPTEMBER, 50, BILLING, Reading.ACCEPTED),
        (OCTOBER, 45, BILLING, Reading.REJECTED),
    ],
    "the portal's accepted beside the accounting system's rejected": [
        (SEPTEMBER, 50, BILLING, Reading.ACCEPTED),
        (OCTOBER, 60, PORTAL, Reading.EXPORTED),
        (OCTOBER, 6, BILLING, Reading.REJECTED),
    ],
    "the last accepted one before the two years shown": [
        (month(6, 2023), 100, BILLING, Reading.ACCEPTED),
        (month(1, 2024), 50, BILLING, Reading.REJECTED),
        (month(3, 2025), 40, BILLING, Reading.REJECTED),
    ],
    "only rejected ones": [(OCTOBER, 20, BILLING, Reading.REJECTED)],
    "none": [],
}


@pytest.mark.parametrize("current", [True, False], ids=["this month", "accepted before"])
def test_a_card_keeps_the_accounting_systems_reading_of_two_whichever_comes_first(current):
    received = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    portal = LastReading(120, NOVEMBER, Reading.ACCEPTED, PORTAL, received)
    billing = LastReading(121, NOVEMBER, Reading.ACCEPTED, BILLING, received)
    for order in ((portal, billing), (billing, portal)):
        card = MeterCard(meter=None, window=None, today=TODAY)
        for reading in order:
            card.take(1, reading, current)
        assert (card.current if current else card.accepted) == {1: billing}
        assert (card.accepted if current else card.current) == {}


def card_readings(card) -> tuple[dict, dict]:
    return dict(card.accepted), dict(card.current)


@pytest.mark.parametrize("case", CARD_CASES)
def test_a_meters_page_builds_its_card_from_the_history_as_cards_of_does(
    app, data, account_id, water, case
):
    """The meter's page reads its card's readings from its history's query (when the history
    ends with the current month); each zone a case of its own would do, one zone each keeps
    the cases apart. Times of arrival included: they are what the card shows of them."""
    meter_id = data.meter(account_id, water)
    for month_of, value, source, state in CARD_CASES[case]:
        exported = source == PORTAL and state != Reading.ACCEPTED
        reason = "Не сходится" if state == Reading.REJECTED else None
        data.reading(
            meter_id, month_of, value, source=source, state=state, reason=reason, exported=exported
        )

    with app.app_context():
        meter = db.session.get(Meter, meter_id)
        _, from_history = meter_page(meter, TODAY)
        (from_cards,) = cards_of([meter], TODAY)

    assert card_readings(from_history) == card_readings(from_cards)


def test_a_meters_page_reads_its_card_with_its_history_unless_it_shows_earlier_months(
    app, data, account_id, meter_id
):
    data.monthly_readings(meter_id, month(1, 2024), list(range(100, 3600, 100)))  # to November

    with app.app_context():
        meter = account_meter([account_id], meter_id)  # as the view has it: all read at once
        with QueryCounter(db.engine) as current:
            history, card = meter_page(meter, TODAY)
        with QueryCounter(db.engine) as earlier:
            older, same_card = meter_page(meter, TODAY, latest=month(12, 2024))

    assert (current.count, earlier.count) == (1, 2)
    assert history.lines[0].value == 3500
    assert older.lines[0].value == 1200
    assert card_readings(card) == card_readings(same_card)
    assert (card.current[1].value, card.accepted[1].value) == (3500, 3400)


# --- an account's meter --------------------------------------------------------------------------


def test_account_meter_finds_a_meter_of_the_given_accounts_only(app, data, accounts, water):
    first, second = accounts["1080000001"].id, accounts["1080000002"].id
    mine = data.meter(first, water)
    also_mine = data.meter(second, water)
    theirs = data.meter(accounts["1080000003"].id, water)

    with app.app_context():
        found = account_meter([first, second], mine)
        assert found.id == mine
        assert found.service.name == "Холодное водоснабжение"
        assert account_meter([first, second], also_mine).id == also_mine
        assert account_meter([first, second], theirs) is None
        assert account_meter([first, second], theirs + 1000) is None
        assert account_meter([], mine) is None
