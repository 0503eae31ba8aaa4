"""Приборы учета: an account's meters with their latest readings, a meter's history, and
«Подать показания» with the rules of readings (DOMAIN.md, Правила 354)."""

import enum
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from itertools import pairwise
from typing import NamedTuple

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import (
    CompoundSelect,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from ..billing.readings import AlreadyExported, store_portal_reading
from ..billing.services import ReadingWindow, reading_window
from ..cabinet.finance import MONTHS_SHOWN, add_months, months_between
from ..extensions import db, read
from ..models import Account, Meter, Reading, Service
from ..text import date_ru, month_ru, number_ru, plural_ru

# A meter's verification date is announced this many days ahead.
VERIFICATION_NOTICE = timedelta(days=60)
# The confirmation step: consumption above this many times the usual monthly mean…
HIGH_CONSUMPTION_FACTOR = 3
# …of the accepted readings of up to this many months before.
MEAN_MONTHS = 6
ZONE_NAMES = {1: "T1", 2: "T2", 3: "T3"}


class ServiceView(NamedTuple):
    """What the cards show and compute of a meter's service."""

    name: str
    unit: str
    reading_window_start: int
    reading_window_end: int


class AccountView(NamedTuple):
    number: str
    status: str


class MeterView(NamedTuple):
    """A meter as the pages read it (models.Meter's columns, its service and account):
    read-only, from one Core query, as loading the entities costs a page four times more."""

    id: int
    service_id: int
    serial_number: str
    place: str | None
    zones: int
    digits: int
    next_verification_on: date | None
    is_remote_read: bool
    status: str
    service: ServiceView
    account: AccountView


# The rules read a meter's columns alike from a view and from the entity (as the tests pass).
MeterLike = Meter | MeterView


# The records of the pages are named tuples: a page builds dozens, and a tuple is built several
# times faster than a frozen dataclass.
class LastReading(NamedTuple):
    """A zone's latest reading: its value, month, state and when it arrived."""

    value: int
    month: date
    state: str
    source: str
    received_at: datetime
    rejection_reason: str | None = None

    @property
    def state_label(self) -> str:
        return Reading.STATES[self.state]


@dataclass
class MeterCard:
    """A meter as Приборы учета shows it: the meter, its service's window, the last accepted
    reading of each zone, and what was submitted for the current month."""

    meter: MeterLike
    window: ReadingWindow
    today: date
    accepted: dict[int, LastReading] = field(default_factory=dict)
    current: dict[int, LastReading] = field(default_factory=dict)

    @property
    def zones(self) -> list[int]:
        return list(range(1, self.meter.zones + 1))

    def take(self, zone: int, reading: LastReading, current: bool) -> None:
        """Keep a reading of the zone: of this month (``current``), or of the latest month
        before it with one accepted (the caller passes those not rejected). Of two of a month,
        the accounting system's stays, whichever comes first."""
        kept = self.current if current else self.accepted
        if reading.source == Reading.BILLING or zone not in kept:
            kept[zone] = reading

    @property
    def last_readings(self) -> list[tuple[int, LastReading | None]]:
        """Each zone with its last accepted reading: this month's unless rejected, else the
        one before (None without any)."""
        shown = []
        for zone in self.zones:
            current = self.current.get(zone)
            if current is None or current.state == Reading.REJECTED:
                current = self.accepted.get(zone)
            shown.append((zone, current))
        return shown

    @property
    def verification_overdue(self) -> bool:
        due = self.meter.next_verification_on
        return due is not None and due < self.today

    @property
    def verification_soon(self) -> bool:
        due = self.meter.next_verification_on
        return due is not None and self.today <= due <= self.today + VERIFICATION_NOTICE

    @cached_property
    def accepts_readings(self) -> bool:
        """The meter takes readings in the portal on the days of its window."""
        return refusal(self.meter, replace(self.window, is_open=True), self.today) is None

    @cached_property
    def refusal(self) -> str | None:
        """Why this meter takes no readings in the portal now, or None."""
        problem = refusal(self.meter, self.window, self.today)
        if problem is None and all(
            zone in self.current and self.current[zone].state != Reading.ACCEPTED
            for zone in self.zones
        ):
            return sent_already(reading_month(self.today), list(self.current.values()))
        return problem

    @cached_property
    def waiting(self) -> bool:
        """Readings are open for it and some zone has none for the current month."""
        return self.refusal is None and any(zone not in self.current for zone in self.zones)

    @property
    def days_left(self) -> int:
        return self.window.days_left(self.today)


def reading_month(today: date) -> date:
    """The month a reading submitted today counts for."""
    return today.replace(day=1)


def refusal(meter: MeterLike, window: ReadingWindow, today: date) -> str | None:
    """Why the portal takes no readings of ``meter`` today, in plain Russian, or None."""
    if meter.account.status != Account.ACTIVE:
        return "Лицевой счет закрыт: показания по нему не принимаются."
    if meter.status != Meter.ACTIVE:
        return "Прибор учета снят: показания по нему не принимаются."
    if meter.is_remote_read:
        return (
            "Показания этого прибора передаются автоматически (дистанционно) — вводить их не нужно."
        )
    due = meter.next_verification_on
    if due is not None and due < today:
        return (
            f"Срок поверки прибора истек {date_ru(due)}. Показания такого прибора не "
            "принимаются: закажите поверку или замену прибора и сообщите о ней в абонентскую "
            "службу. До тех пор начисления ведутся по среднему потреблению, затем по нормативу."
        )
    if not window.is_open:
        return (
            f"Показания по услуге «{meter.service.name}» принимаются с "
            f"{window_days(window)}. Ближайший прием: с {date_ru(window.first_day)} "
            f"по {date_ru(window.last_day)}."
        )
    return None


def window_days(window: ReadingWindow) -> str:
    """«15-го по 25-е число месяца»."""
    return f"{window.first_day.day}-го по {window.last_day.day}-е число месяца"


# The statements of the cards are built once: building a select costs more than running it on
# a page that makes several (bound values: account_id, meter_id, account_ids, meter_ids,
# month). _READING_COLUMNS: a reading's meter and zone, then its LastReading.
_READING_COLUMNS = (
    Reading.meter_id,
    Reading.zone,
    Reading.value,
    Reading.month,
    Reading.state,
    Reading.source,
    Reading.received_at,
    Reading.rejection_reason,
)
_METER_VIEW = (
    select(
        Meter.id,
        Meter.service_id,
        Meter.serial_number,
        Meter.place,
        Meter.zones,
        Meter.digits,
        Meter.next_verification_on,
        Meter.is_remote_read,
        Meter.status,
        Service.name,
        Service.unit,
        Service.reading_window_start,
        Service.reading_window_end,
        Account.number,
        Account.status,
    )
    .join_from(Meter, Service, Meter.service_id == Service.id)
    .join(Account, Meter.account_id == Account.id)
)
_METERS_OF_ACCOUNT = _METER_VIEW.where(
    Meter.account_id == bindparam("account_id"), Meter.status == Meter.ACTIVE
).order_by(Service.id, Meter.serial_number)
_ACCOUNT_METER = _METER_VIEW.where(
    Meter.id == bindparam("meter_id"),
    Meter.account_id.in_(bindparam("account_ids", expanding=True)),
)


def _meter_view(row) -> MeterView:
    return MeterView(*row[:9], ServiceView(*row[9:13]), AccountView(*row[13:]))


# The readings of the latest month before the given one with a reading that was not rejected,
# per meter and zone: of two in that month, the caller takes the accounting system's. Each of
# the meter's zones looks its month up by itself (a max() over an index range), instead of a
# GROUP BY over every reading of the meters: the cards' statement took SQLite 2.6 times longer.
_EARLIER = aliased(Reading)
_ZONES = union_all(*(select(literal(zone).label("zone")) for zone in ZONE_NAMES)).subquery()


def _latest_month(*conditions) -> ScalarSelect:
    """The latest month before ``month`` with a reading of the zone that meets the conditions."""
    return (
        select(func.max(_EARLIER.month))
        .where(
            _EARLIER.meter_id == Meter.id,
            _EARLIER.zone == _ZONES.c.zone,
            _EARLIER.month < bindparam("month"),
            *conditions,
        )
        .scalar_subquery()
    )


_LATEST_MONTH = _latest_month(_EARLIER.state != Reading.REJECTED)


def _readings_before(meters, *columns, any_state: bool = False) -> Select:
    """These columns of the readings of _LATEST_MONTH, per zone of the ``meters`` (a condition
    on Meter.id), not rejected. With ``any_state``, also those of the latest month before
    ``month`` with a reading in any state, and those of both months in any state: the caller
    tells them apart (the two months in one IN keep to the index; the conditions apart, OR-ed,
    cost SQLite about 60 % more)."""
    if any_state:
        month = Reading.month.in_([_LATEST_MONTH, _latest_month()])
    else:
        month = and_(Reading.month == _LATEST_MONTH, Reading.state != Reading.REJECTED)
    return (
        select(*columns)
        .select_from(Meter)
        .join(_ZONES, _ZONES.c.zone <= Meter.zones)
        .join(Reading, and_(Reading.meter_id == Meter.id, Reading.zone == _ZONES.c.zone, month))
        .where(meters)
    )


_LATEST_ACCEPTED = _readings_before(
    Meter.id.in_(bindparam("meter_ids", expanding=True)),
    literal(0).label("current"),
    *_READING_COLUMNS,
)
_OF_MONTH = select(literal(1).label("current"), *_READING_COLUMNS).where(
    Reading.meter_id.in_(bindparam("meter_ids", expanding=True)),
    Reading.month == bindparam("month"),
)
# A card's readings: this month's (current = 1) and, for the cards that show them, the latest
# accepted ones before it (current = 0), in one query (MeterCard.take chooses of two a month).
_CARD_READINGS = {False: _OF_MONTH, True: union_all(_OF_MONTH, _LATEST_ACCEPTED)}


def meter_cards(account_id: int, today: date, accepted: bool = True) -> list[MeterCard]:
    """The account's meters in service, by service and serial number, as cards: two queries for
    any number of meters. ``accepted=False`` leaves out the last accepted readings, which only
    the cards' text shows, not whether a meter waits for readings."""
    meters = [_meter_view(row) for row in read(_METERS_OF_ACCOUNT, {"account_id": account_id})]
    return cards_of(meters, today, accepted)


def cards_of(meters: list[MeterLike], today: date, accepted: bool = True) -> list[MeterCard]:
    """Cards of these meters: each with this month's readings and, if ``accepted``, its last
    accepted reading per zone; one query."""
    windows = {}  # a service's window, for its meters
    cards = {}
    for meter in meters:
        if meter.service_id not in windows:
            windows[meter.service_id] = reading_window(meter.service, today)
        cards[meter.id] = MeterCard(meter, windows[meter.service_id], today)
    if not cards:
        return []
    params = {"meter_ids": list(cards), "month": reading_month(today)}
    for current, meter_id, zone, *last in read(_CARD_READINGS[accepted], params):
        cards[meter_id].take(zone, LastReading(*last), current)
    return list(cards.values())


def account_meter(account_ids: list[int], meter_id: int) -> MeterView | None:
    """The meter with this id if it belongs to one of these accounts; else None, as a missing
    one."""
    row = read(_ACCOUNT_METER, {"meter_id": meter_id, "account_ids": account_ids}).first()
    return None if row is None else _meter_view(row)


class HistoryLine(NamedTuple):
    """A month of a meter's history: the reading of each zone, its consumption since the
    month before (None without one), source and state."""

    month: date
    zone: int
    value: int
    consumption: int | None
    source: str
    state: str
    rejection_reason: str | None

    @property
    def state_label(self) -> str:
        return Reading.STATES[self.state]

    @property
    def source_label(self) -> str:
        return Reading.SOURCES[self.source]


# HistoryLine's columns but consumption, by zone and month, of the months shown (from ``month``
# to ``latest``) and, before them, each zone's latest accepted reading, the base of the first
# one's consumption, and its latest reading of any state, where the earlier months end: a
# meter's page reads the same rows however old the meter is. Of two readings of a month, the
# accounting system's comes first ("billing" before "portal": the order of the unique index,
# which spares SQLite a sort).
_HISTORY_COLUMNS = (
    Reading.month,
    Reading.zone,
    Reading.value,
    Reading.source,
    Reading.state,
    Reading.rejection_reason,
)


def _history(received: bool) -> CompoundSelect:
    """The history's query; with ``received``, a last column of when each reading arrived,
    which only a card shows (aware datetimes of a meter's 75 rows add some 40 % to the time
    the query takes), else None."""
    columns = (*_HISTORY_COLUMNS, Reading.received_at if received else null())
    return union_all(
        select(*columns).where(
            Reading.meter_id == bindparam("meter_id"),
            Reading.month.between(bindparam("month"), bindparam("latest")),
        ),
        _readings_before(Meter.id == bindparam("meter_id"), *columns, any_state=True),
    ).order_by(literal_column("zone"), literal_column("month"), literal_column("source"))


_HISTORY = {received: _history(received) for received in (False, True)}


class History(NamedTuple):
    """A meter's history of the months from ``first`` to ``latest``, latest first, and the
    latest month with readings before them (None: none), which the earlier months end with."""

    lines: list[HistoryLine]
    first: date
    latest: date
    earlier: date | None

    @property
    def period(self) -> tuple[date, date]:
        """The first and the last month that the history shows: of its lines, which may start
        and end inside the two years (a meter installed since, this month not read yet); the
        two years themselves when it has none."""
        if self.lines:
            return self.lines[-1].month, self.lines[0].month
        return self.first, self.latest


def meter_history(meter: MeterLike, latest: date, card: MeterCard | None = None) -> History:
    """The meter's readings of the MONTHS_SHOWN months up to ``latest``. A month's consumption
    counts from the month before's accepted reading (the accounting system's, of two), across a
    rollover; a rejected reading has none. A ``card`` of the meter, when ``latest`` is its
    current month, takes its readings from the same rows: those of ``latest``, and the accepted
    ones of the latest month before it with any (as cards_of, without a query of its own)."""
    first_shown = add_months(latest, 1 - MONTHS_SHOWN)
    params = {"meter_id": meter.id, "month": first_shown, "latest": latest}
    capacity = 10**meter.digits
    lines = []
    earlier = None
    # One pass over the rows (by zone, month, the accounting system's first): per zone, the
    # accepted reading of the latest month before the one at hand (``base``), this month's
    # first accepted one, which becomes the base of the next month, and for the card the
    # latest one before ``latest`` (``prior``).
    zone_at = month_at = base = accepted = None
    prior = {}
    for row in read(_HISTORY[card is not None], params).all():
        month, zone, value, source, state, reason, _ = row
        if zone != zone_at:
            zone_at, month_at, base, accepted = zone, None, None, None
        if month != month_at:
            if accepted is not None:
                base = accepted
            month_at, accepted = month, None
        rejected = state == Reading.REJECTED
        if month >= first_shown:
            used = None if rejected or base is None else _used(capacity, base.value, value)
            lines.append(HistoryLine(month, zone, value, used, source, state, reason))
        elif earlier is None or month > earlier:
            earlier = month
        if not rejected and accepted is None:
            accepted = row
            if month < latest:
                prior[zone] = row
        if card is not None and month == latest:
            card.take(zone, _last_reading(row), current=True)
    if card is not None:
        for zone, row in prior.items():
            card.take(zone, _last_reading(row), current=False)
    lines.sort(key=lambda line: (line.month, -line.zone), reverse=True)
    return History(lines, first_shown, latest, earlier)


def _last_reading(row) -> LastReading:
    month, _, value, source, state, reason, received_at = row
    return LastReading(value, month, state, source, received_at, reason)


def meter_page(
    meter: MeterLike, today: date, latest: date | None = None, card: bool = True
) -> tuple[History, MeterCard | None]:
    """A meter's page: its history up to ``latest`` (the current month without) and, if
    ``card``, its card; one query on the page of the current months, two on an earlier one."""
    current = reading_month(today)
    latest = latest or current
    if not card:
        return meter_history(meter, latest), None
    if latest != current:
        (shown,) = cards_of([meter], today)
        return meter_history(meter, latest), shown
    shown = MeterCard(meter, reading_window(meter.service, today), today)
    return meter_history(meter, latest, shown), shown


def history_rows(lines: list[HistoryLine], zoned: bool, unit: str) -> Markup:
    """The history's rows for its table (with a zone column for a meter of several zones),
    the cells that a bare value would not explain with their column's name for a narrow
    screen (`table--stack`; ``unit`` is the meter's, in the consumption's): written here, as
    a template loop over a meter's 72 lines costs a third of its page."""
    used_label = f' data-label="Расход, {escape(unit)}"'
    rows = []
    for line in lines:
        zone = f'<td class="history__zone" data-label="Зона">T{line.zone}</td>' if zoned else ""
        used = "—" if line.consumption is None else number_ru(line.consumption)
        reason = f": {escape(line.rejection_reason)}" if line.rejection_reason else ""
        rows.append(
            f"<tr><td>{month_ru(line.month)}</td>{zone}"
            f'<td data-label="Показание" class="number">{line.value}</td>'
            f'<td{used_label} class="number">{used}</td>'
            f"<td>{line.source_label}</td><td>"
            f'<span class="state state--{line.state}">{line.state_label}</span>{reason}</td></tr>'
        )
    # Escaped: the accounting system's reason and the unit. Not escaped: numbers, months
    # (text.py) and the portal's own labels and state names, which hold no markup characters.
    return Markup("".join(rows))  # noqa: S704


def _used(capacity: int, before: int, value: int) -> int:
    """Consumption from ``before`` to ``value``, across a rollover past ``capacity`` (10 to
    the power of the meter's digits)."""
    return value - before if value >= before else value + capacity - before


class Outcome(enum.Enum):
    """What «Передать показания» came to."""

    STORED = "stored"
    INVALID = "invalid"  # a value is not a reading of this meter: field errors
    CONFIRM = "confirm"  # below the last one or unusually high: asks to confirm
    REFUSED = "refused"  # not today, not this meter, or exported already


@dataclass
class Submission:
    """The values typed per zone, and the verdict: field errors, confirmations asked, or a
    refusal of the whole submission."""

    values: dict[int, str]
    outcome: Outcome | None = None
    errors: dict[int, str] = field(default_factory=dict)
    rollover: dict[int, str] = field(default_factory=dict)  # zones below the last reading
    high: dict[int, str] = field(default_factory=dict)  # zones with unusual consumption
    message: str | None = None
    replaced: bool = False
    rollover_confirmed: bool = False

    @property
    def confirmation(self) -> str:
        """What a confirmation of these values sends back (see ``confirmation``)."""
        return confirmation(self.values)

    @property
    def first_problem(self) -> int | None:
        """The first zone with an error or a question, where the form puts the focus."""
        return min((*self.errors, *self.rollover, *self.high), default=None)


def confirmation(values: dict[int, str | None]) -> str:
    """The values of every zone as one string: a confirmation holds for exactly the values
    it was asked about, not for whatever is typed after ticking the box."""
    return "|".join((values[zone] or "").strip() for zone in sorted(values))


def submit_readings(
    meter: MeterLike,
    values: dict[int, str],
    user_id: int,
    today: date,
    rollover_confirmed: bool = False,
    high_confirmed: bool = False,
) -> Submission:
    """Check the values typed for each zone of ``meter`` and store them as this month's
    readings, replacing an unexported earlier submission. The caller commits on STORED and
    rolls back otherwise (a refusal may come after some zones were stored)."""
    submission = Submission(
        {zone: (values.get(zone) or "").strip() for zone in range(1, meter.zones + 1)},
        rollover_confirmed=rollover_confirmed,
    )
    problem = refusal(meter, reading_window(meter.service, today), today)
    if problem:
        return _verdict(submission, Outcome.REFUSED, problem)
    parsed = {}
    for zone, raw in submission.values.items():
        value, error = parse_value(raw, meter.digits)
        if error:
            submission.errors[zone] = error
        else:
            parsed[zone] = value
    if submission.errors:
        return _verdict(submission, Outcome.INVALID)

    month = reading_month(today)
    history = _accepted_before(meter, month)
    for zone, value in parsed.items():
        past = history.get(zone, [])
        if not past:
            continue  # nothing to compare with: a new meter takes any reading
        last_month, last = past[-1]
        used = _used(10**meter.digits, last, value)
        if value < last and not rollover_confirmed:
            # The consumption it would mean shows a typo for what it is.
            submission.rollover[zone] = (
                f"Показание меньше последнего принятого: {last} за {month_ru(last_month)}. "
                f"Так бывает, только если счетчик перешел через ноль (после "
                f"{'9' * meter.digits} снова с нуля), и тогда расход составит "
                f"{number_ru(used)} {meter.service.unit}; иначе проверьте цифры."
            )
            continue
        mean = _monthly_mean(meter, past)
        months = months_between(last_month, month)
        if (
            mean is not None
            and used > HIGH_CONSUMPTION_FACTOR * mean * months
            and not high_confirmed
        ):
            submission.high[zone] = (
                f"Расход после показания за {month_ru(last_month)} — {number_ru(used)} "
                f"{meter.service.unit}, более чем втрое больше обычного (в среднем "
                f"{number_ru(mean, 1)} {meter.service.unit} в месяц). Проверьте показание: не "
                "перепутаны ли счетчики или разряды."
            )
    if submission.rollover or submission.high:
        return _verdict(submission, Outcome.CONFIRM)

    try:
        for zone, value in parsed.items():
            submission.replaced |= store_portal_reading(meter.id, zone, month, value, user_id)
    except AlreadyExported:
        sent = db.session.scalars(
            select(Reading).where(
                Reading.meter_id == meter.id,
                Reading.month == month,
                Reading.source == Reading.PORTAL,
            )
        ).all()
        return _verdict(submission, Outcome.REFUSED, sent_already(month, sent))
    return _verdict(submission, Outcome.STORED)


def sent_already(month: date, readings: list) -> str:
    """Why this month's readings can no longer be changed in the portal: exported, or
    rejected by the accounting system (with its reasons)."""
    contacts = current_app.config["SUBSCRIBER_SERVICE_CONTACTS"]
    reasons = sorted(
        {
            reading.rejection_reason or "причина не указана"
            for reading in readings
            if reading.state == Reading.REJECTED
        }
    )
    if reasons:
        return (
            f"Показания за {month_ru(month)} отклонены системой учета: {'; '.join(reasons)}. "
            f"Подать их заново через портал нельзя — обратитесь в абонентскую службу: {contacts}."
        )
    return (
        f"Показания за {month_ru(month)} уже переданы в расчет, изменить их через портал "
        f"нельзя. Если в них ошибка, обратитесь в абонентскую службу: {contacts}."
    )


def _verdict(submission: Submission, outcome: Outcome, message: str | None = None) -> Submission:
    submission.outcome, submission.message = outcome, message
    return submission


def parse_value(raw: str, digits: int) -> tuple[int | None, str | None]:
    """A reading typed by a subscriber, in whole units: (value, None) or (None, the reason)."""
    if not raw:
        return None, "Введите показание."
    compact = raw.replace(" ", "").replace("\u00a0", "")
    if any(separator in compact for separator in ",."):
        return None, (
            "Введите показание целым числом — только цифры до запятой, без дробной части "
            "(красных цифр)."
        )
    if not (compact.isascii() and compact.isdigit()):
        return None, "Показание — это число: введите только цифры."
    compact = compact.lstrip("0") or "0"  # int() refuses over 4300 digits, zeros included
    if len(compact) > digits:
        places = plural_ru(digits, "разряд", "разряда", "разрядов")
        return None, (
            f"У этого счетчика {digits} {places} до запятой: показание не может быть больше "
            f"{'9' * digits}. Проверьте, не введены ли лишние цифры."
        )
    return int(compact), None


def _accepted_before(meter: MeterLike, month: date) -> dict[int, list[tuple[date, int]]]:
    """Per zone, the accepted readings of the last MEAN_MONTHS + 1 months with one before
    ``month``, oldest first; of two in one month, the accounting system's."""
    latest_first = (
        select(
            Reading.zone,
            Reading.month,
            Reading.value,
            Reading.source,
            func.row_number()
            .over(partition_by=Reading.zone, order_by=(Reading.month.desc(), Reading.source))
            .label("rank"),
        )
        .where(
            Reading.meter_id == meter.id,
            Reading.month < month,
            Reading.state != Reading.REJECTED,
        )
        .subquery()
    )
    rows = db.session.execute(
        # Two sources at most per month: twice as many rows hold as many months.
        select(latest_first.c.zone, latest_first.c.month, latest_first.c.value)
        .where(latest_first.c.rank <= 2 * (MEAN_MONTHS + 1))
        .order_by(latest_first.c.zone, latest_first.c.month, latest_first.c.source.desc())
    ).all()
    by_zone: dict[int, dict[date, int]] = defaultdict(dict)
    for zone, month_of, value in rows:
        by_zone[zone][month_of] = value  # "billing" comes last and stays
    return {zone: sorted(months.items())[-(MEAN_MONTHS + 1) :] for zone, months in by_zone.items()}


def _monthly_mean(meter: MeterLike, past: list[tuple[date, int]]) -> Decimal | None:
    """The mean monthly consumption over the accepted readings, or None with fewer than two."""
    if len(past) < 2:
        return None
    used = sum(_used(10**meter.digits, before, after) for (_, before), (_, after) in pairwise(past))
    (first, _), (last, _) = past[0], past[-1]
    months = months_between(first, last)
    return Decimal(used) / months
