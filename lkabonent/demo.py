"""Demo data for `make run` and for measurements at scale: the accounts README.md lists and more
of the same kind, each with its meters, monthly readings, charges and payments.

Conventions, which the billing screens and tests/test_demo.py rely on:

* Months are stored as their first days. The data ends with ``end_month`` (by default the month
  before the current one in the settlement centre's zone, setting TIME_ZONE: the last month billed,
  so no date lies ahead and the current month's readings are the subscribers' to submit) and
  covers ``months`` billing months. Readings start one month earlier than the charges, so that
  the first billed month's consumption is a difference of two readings as well.
* Payments received during month X (``paid_on`` in X) pay the bill of month X − 1
  (``Payment.month`` is X − 1) and are the ``paid`` of the charges of month X: for each account,
  the payments with ``paid_on`` in X add up to the ``paid`` of its charges of X. A month's
  payments are spread over the services in proportion to their positive opening balances (the
  kopecks left by rounding go to the largest); what exceeds the debt is an advance, booked to
  electricity. The first month has no payments. A closed account's last payment is made in its
  last billed month and pays that month's bill too (``Payment.month`` is that month).
* ``closing_balance = opening_balance + accrued + recalculation − benefit − paid``, where the
  opening balance is the previous month's closing balance of the same service (0 in the first
  month or when the service had no row then); the closing balances of a month add up to what is
  to be paid. A service has a row in every month it is billed, and in any other month in which
  its opening balance is not zero (heating after the season, penalties).
* Volumes of metered services are the month's consumption, the difference of the cumulative
  readings summed over the service's meters and zones; sewerage is cold plus hot water. A meter
  is not read after its verification date (a reading of a month is taken by the end of the
  default reading window): in its place the charge counts its mean monthly consumption. Heating
  (October to April only) is billed on the area times the norm, waste per resident and the
  capital repair contribution per m². For all of these ``accrued = round(volume × tariff, 2)``,
  half up. A multi-zone electricity meter has a tariff per zone: its charge has the total volume,
  no tariff (NULL), and ``accrued`` is the sum of each zone's consumption times its tariff, each
  rounded to kopecks.
* Tariffs rise every July. Penalties (пени) are charged on the debt left unpaid for more than a
  month, at 1/300 of a 9.5 % key rate per day: plausible, not the letter of the law.
* The same ``seed`` and ``end_month`` give the same rows. Each account draws from a generator of
  its own, seeded by the seed and the account's index, so its data does not depend on chunks.

Speed: rows are written with bulk.copy_rows (COPY on PostgreSQL), a chunk of accounts at a time,
while a worker thread generates the next chunk; the database works on another core meanwhile (the
PostgreSQL server, or SQLite, which releases the interpreter while it writes). Everything goes in
one transaction: a seed that fails leaves the database as it was, and memory stays bounded by
the chunks in flight (about 200 MB at 1000 accounts a chunk). On SQLite the write-ahead log grows
to the size of the data until the commit. On PostgreSQL the foreign keys of the big tables are
dropped for the load and added back, which checks them all at once.
"""

import calendar
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Connection, ForeignKeyConstraint, func, insert, select, text
from sqlalchemy.schema import AddConstraint, DropConstraint

from .billing.services import local_today
from .bulk import copy_rows
from .clock import utcnow
from .extensions import db
from .models import (
    AREA_PLACES,
    DEFAULT_READING_WINDOW,
    MONEY_PLACES,
    TARIFF_PLACES,
    VOLUME_PLACES,
    Account,
    AccountContact,
    BillingImport,
    Charge,
    Meter,
    Payment,
    Reading,
    Service,
)

DEMO_EMAIL = "demo@lkabonent.test"
# A contact of many accounts at once (a landlord), to show the paged table.
LANDLORD_EMAIL = "arenda@lkabonent.test"

KNOWN_ACCOUNTS = [
    ("1080000001", "Иванов", Account.ACTIVE, "г. Симферополь, ул. Киевская, д. 12, кв. 45"),
    ("1080000002", "Петрова", Account.ACTIVE, "г. Симферополь, пр. Победы, д. 87, кв. 3"),
    ("1080000003", "Семёнов", Account.ACTIVE, "г. Ялта, ул. Пушкинская, д. 5, кв. 17"),
    ("1080000004", "Кузнецов", Account.CLOSED, "г. Керчь, ул. Ленина, д. 30, кв. 8"),
]
MORE_ACCOUNTS = 30
DEFAULT_ACCOUNTS = len(KNOWN_ACCOUNTS) + MORE_ACCOUNTS
MAX_ACCOUNTS = 9_999_999  # numbers 108NNNNNNN
DEFAULT_MONTHS = 24
MAX_MONTHS = 60  # within the water meters' verification interval
DEFAULT_SEED = 2026
LANDLORD_ACCOUNTS = 12  # the accounts right after the known ones

# code; name; unit; first and last day of the readings window; whether it is a penalty.
SERVICES = [
    ("electricity", "Электроснабжение", "кВт·ч", 15, 25, False),
    ("cold_water", "Холодное водоснабжение", "м³", 15, 25, False),
    ("hot_water", "Горячее водоснабжение", "м³", 15, 25, False),
    ("sewerage", "Водоотведение", "м³", 15, 25, False),
    ("heating", "Отопление", "Гкал", 15, 25, False),
    ("waste", "Обращение с ТКО", "чел.", 15, 25, False),
    ("capital_repair", "Взнос на капитальный ремонт", "м²", 15, 25, False),
    ("penalty", "Пени", "руб.", 15, 25, True),
]
# Positions in SERVICES, which is also the order of a bill's lines.
ELECTRICITY, COLD, HOT, SEWERAGE, HEATING, WASTE, CAPITAL_REPAIR, PENALTY = range(len(SERVICES))

# --- who lives where ---------------------------------------------------------------------------

TOWNS = [
    "г. Симферополь",
    "г. Керчь",
    "г. Евпатория",
    "г. Феодосия",
    "г. Ялта",
    "г. Джанкой",
    "г. Алушта",
    "г. Саки",
    "г. Бахчисарай",
    "г. Судак",
    "г. Старый Крым",
    "г. Армянск",
    "г. Красноперекопск",
    "пгт Черноморское",
    "пгт Гурзуф",
]
STREETS = [
    "ул. Гагарина",
    "ул. Кирова",
    "ул. Севастопольская",
    "ул. Набережная",
    "ул. Садовая",
    "ул. Лермонтова",
    "ул. Крымская",
    "ул. Морская",
    "ул. Чехова",
    "пр. Кирова",
    "ул. Горького",
    "ул. Толстого",
    "ул. Айвазовского",
    "ул. Шевченко",
    "бул. Франко",
]
# (his surname, her surname)
SURNAMES = [
    ("Смирнов", "Смирнова"),
    ("Попов", "Попова"),
    ("Васильев", "Васильева"),
    ("Соколов", "Соколова"),
    ("Михайлов", "Михайлова"),
    ("Новиков", "Новикова"),
    ("Фёдоров", "Фёдорова"),
    ("Морозов", "Морозова"),
    ("Волков", "Волкова"),
    ("Алексеев", "Алексеева"),
    ("Лебедев", "Лебедева"),
    ("Козлов", "Козлова"),
    ("Егоров", "Егорова"),
    ("Павлов", "Павлова"),
    ("Степанов", "Степанова"),
    ("Николаев", "Николаева"),
    ("Орлов", "Орлова"),
    ("Андреев", "Андреева"),
    ("Макаров", "Макарова"),
    ("Захаров", "Захарова"),
    ("Зайцев", "Зайцева"),
    ("Соловьёв", "Соловьёва"),
    ("Борисов", "Борисова"),
    ("Яковлев", "Яковлева"),
    ("Григорьев", "Григорьева"),
    ("Романов", "Романова"),
    ("Воробьёв", "Воробьёва"),
    ("Куликов", "Куликова"),
    ("Бондаренко", "Бондаренко"),
    ("Ткаченко", "Ткаченко"),
    ("Шевчук", "Шевчук"),
    ("Коваленко", "Коваленко"),
    ("Абдуллаев", "Абдуллаева"),
    ("Аблаев", "Аблаева"),
    ("Муратов", "Муратова"),
]
MALE_NAMES = [
    "Александр",
    "Сергей",
    "Андрей",
    "Дмитрий",
    "Алексей",
    "Владимир",
    "Николай",
    "Олег",
    "Виктор",
    "Игорь",
    "Эрнест",
    "Рустем",
]
FEMALE_NAMES = [
    "Елена",
    "Ольга",
    "Татьяна",
    "Наталья",
    "Ирина",
    "Светлана",
    "Анна",
    "Марина",
    "Людмила",
    "Екатерина",
    "Эльмира",
    "Зарема",
]
# (his patronymic, her patronymic)
PATRONYMICS = [
    ("Александрович", "Александровна"),
    ("Сергеевич", "Сергеевна"),
    ("Иванович", "Ивановна"),
    ("Николаевич", "Николаевна"),
    ("Викторович", "Викторовна"),
    ("Петрович", "Петровна"),
    ("Владимирович", "Владимировна"),
    ("Юрьевич", "Юрьевна"),
    ("Михайлович", "Михайловна"),
    ("Рустемович", "Рустемовна"),
    ("Энверович", "Энверовна"),
]

# --- tariffs (roubles per unit, from July 2024) ------------------------------------------------

TARIFF_BASE_YEAR = 2024
TARIFFS = {
    COLD: "55.00",
    HOT: "230.00",
    SEWERAGE: "45.00",
    HEATING: "2800.00",
    WASTE: "120.00",
    CAPITAL_REPAIR: "8.00",
}
# Electricity by the meter's number of zones: single rate; day and night; peak, half-peak, night.
ELECTRICITY_TARIFFS = {1: ("5.50",), 2: ("6.05", "3.30"), 3: ("6.60", "5.50", "3.30")}
# The July increase of each year, percent; other years rise by the default.
INDEXATION = {2023: 9.0, 2024: 9.8, 2025: 11.9, 2026: 9.9}
DEFAULT_INDEXATION = 9.0
HEATING_NORM = 160  # Gcal per m² a month, in units of 0.0001 (0.016 Gcal/m²)
HEATING_MONTHS = {10, 11, 12, 1, 2, 3, 4}
# Electricity use through the year (January first): heaters in winter, air conditioners in summer.
ELECTRICITY_SEASON = (1.30, 1.25, 1.10, 0.95, 0.85, 0.95, 1.10, 1.10, 0.90, 0.95, 1.10, 1.30)
# How a multi-zone meter's consumption divides between its zones.
ZONE_SHARES = {1: (1.0,), 2: (0.68, 0.32), 3: (0.27, 0.46, 0.27)}
# Penalty per day of the overdue debt: 1/300 of the key rate of 9.5 %.
PENALTY_NUMERATOR, PENALTY_DENOMINATOR = 95, 300_000
# Stored units (models.Fixed): a whole unit of volume; m² of area as volume; volume × tariff as
# kopecks.
VOLUME_UNIT = 10**VOLUME_PLACES
AREA_TO_VOLUME = 10 ** (VOLUME_PLACES - AREA_PLACES)
PRODUCT_TO_MONEY = 10 ** (VOLUME_PLACES + TARIFF_PLACES - MONEY_PLACES)

# --- meters ------------------------------------------------------------------------------------

VERIFICATION_YEARS = {ELECTRICITY: 16, COLD: 6, HOT: 6}
OVERDUE_MONTHS = 5  # the longest a meter's verification is overdue at the end month
WATER_PLACES = {1: ("Санузел",), 2: ("Кухня", "Санузел")}
WATER_SHARES = {1: (1.0,), 2: (0.4, 0.6)}  # of the water a household uses, per meter
HOUSE_WATER_PLACE = "Водомерный узел"
FLAT_ELECTRICITY_PLACE = "Лестничная клетка"
HOUSE_ELECTRICITY_PLACE = "Фасад дома"

# --- payers ------------------------------------------------------------------------------------

FULL, PARTIAL, DEBTOR = "full", "partial", "debtor"
CHANNELS = list(Payment.CHANNELS)
CHANNEL_WEIGHTS = [35, 10, 40, 10, 5]  # in the order of Payment.CHANNELS
# Why a service is recalculated, and whether that may raise the charge as well as lower it.
BY_METER = ("Перерасчет по показаниям прибора учета", True)
POOR_QUALITY = ("Перерасчет за ненадлежащее качество услуги", False)
RECALCULATIONS = {
    ELECTRICITY: BY_METER,
    COLD: BY_METER,
    HOT: POOR_QUALITY,
    HEATING: POOR_QUALITY,
    WASTE: ("Перерасчет за период временного отсутствия", False),
}
RECALCULATION_CHANCE = 0.015  # per account and month

# The demo subscriber's accounts are made to show what the cabinet can show, whatever the seed:
# Иванов has a three-zone meter, two water meters of each kind, debts with penalties and a
# recalculation in the last month; Петрова has a remote-read meter, a cold-water meter past its
# verification date and a benefit; Кузнецов's account closed some months ago.
KNOWN_HOUSEHOLDS = {
    "1080000001": {
        "owner_name": "Иванов Иван Иванович",
        "area": 5430,
        "residents": 3,
        "is_house": False,
        "zones": 3,
        "remote_read": False,
        "cold_meters": 2,
        "hot_meters": 2,
        "has_heating": True,
        "payer": DEBTOR,
        "unpaid_last_months": 3,
        "meters_verified": True,
        "recalculated_last_month": True,
        "benefits": (),
    },
    "1080000002": {
        "owner_name": "Петрова Анна Сергеевна",
        "area": 3860,
        "residents": 1,
        "is_house": False,
        "zones": 2,
        "remote_read": True,
        "cold_meters": 1,
        "hot_meters": 1,
        "has_heating": True,
        "payer": FULL,
        "overdue_cold_meter": True,
        "benefits": ((CAPITAL_REPAIR, 50),),
    },
    "1080000003": {"owner_name": "Семёнов Олег Викторович"},
    "1080000004": {"owner_name": "Кузнецов Николай Петрович", "closed_months_ago": 4},
}

CHUNK_ACCOUNTS = 1000  # accounts generated and written at a time

ACCOUNT_COLUMNS = [
    "id",
    "number",
    "address",
    "status",
    "owner_surname",
    "owner_name",
    "total_area",
    "residents",
]
CONTACT_COLUMNS = ["account_id", "email"]
METER_COLUMNS = [
    "id",
    "external_id",
    "account_id",
    "service_id",
    "serial_number",
    "place",
    "zones",
    "digits",
    "decimals",
    "installed_on",
    "next_verification_on",
    "is_remote_read",
    "status",
]
READING_COLUMNS = ["meter_id", "zone", "month", "value", "source", "state", "received_at"]
CHARGE_COLUMNS = [
    "account_id",
    "month",
    "service_id",
    "volume",
    "tariff",
    "accrued",
    "recalculation",
    "recalculation_reason",
    "benefit",
    "paid",
    "opening_balance",
    "closing_balance",
]
PAYMENT_COLUMNS = ["external_id", "account_id", "paid_on", "amount", "channel", "month"]
# What the seed reports, in the order it writes the tables.
TABLES = [
    ("accounts", Account, ACCOUNT_COLUMNS),
    ("contacts", AccountContact, CONTACT_COLUMNS),
    ("meters", Meter, METER_COLUMNS),
    ("readings", Reading, READING_COLUMNS),
    ("charges", Charge, CHARGE_COLUMNS),
    ("payments", Payment, PAYMENT_COLUMNS),
]


# --- the calendar of a seed --------------------------------------------------------------------


def last_billed_month() -> date:
    """The first day of the month before the current one in the settlement centre's time zone:
    the latest month an accounting system has billed. The current month is left to subscribers,
    who submit its readings in the portal."""
    return (local_today().replace(day=1) - timedelta(days=1)).replace(day=1)


def _month(serial: int) -> date:
    """The first day of a month counted as year * 12 + month - 1."""
    return date(serial // 12, serial % 12 + 1, 1)


def _tariff(roubles: str, year: int) -> int:
    """A tariff of TARIFF_BASE_YEAR's July, indexed to ``year``'s July, in stored units."""
    kopecks = int(roubles.replace(".", ""))
    for later in range(TARIFF_BASE_YEAR + 1, year + 1):
        kopecks = round(kopecks * (100 + INDEXATION.get(later, DEFAULT_INDEXATION)) / 100)
    for earlier in range(year + 1, TARIFF_BASE_YEAR + 1):
        kopecks = round(kopecks * 100 / (100 + INDEXATION.get(earlier, DEFAULT_INDEXATION)))
    return kopecks * 100  # four places


@dataclass
class Plan:
    """What every account of a seed shares: its months, their tariffs, dates and services."""

    seed: int
    accounts: int
    service_ids: list[int]
    end_month: date
    time_zone: str
    months: int
    first_serial: int = 0  # the first charged month, as year * 12 + month - 1
    reading_months: list[date] = field(default_factory=list)
    charge_months: list[date] = field(default_factory=list)
    tariffs: list[list[int]] = field(default_factory=list)  # per month, per service
    zone_tariffs: list[dict[int, tuple[int, ...]]] = field(default_factory=list)
    season: list[float] = field(default_factory=list)
    heating: list[bool] = field(default_factory=list)
    days: list[int] = field(default_factory=list)
    paid_on: list[list[date]] = field(default_factory=list)  # per month, days 1–28
    month_codes: list[str] = field(default_factory=list)  # per month, YYYYMM
    received_at: list[list[datetime]] = field(default_factory=list)  # per reading month

    def __post_init__(self):
        end_serial = self.end_month.year * 12 + self.end_month.month - 1
        self.first_serial = end_serial - self.months + 1
        local = ZoneInfo(self.time_zone)
        for serial in range(self.first_serial - 1, end_serial + 1):
            month = _month(serial)
            self.reading_months.append(month)
            # Readings arrive on the 20th to 25th, in the daytime of the settlement centre.
            self.received_at.append(
                [
                    datetime(month.year, month.month, day, hour, minute, tzinfo=local)
                    .astimezone(UTC)
                    .replace(tzinfo=None)
                    for day in range(20, 26)
                    for hour, minute in ((8, 12), (10, 47), (13, 5), (17, 38), (20, 21))
                ]
            )
        for month in self.reading_months[1:]:
            year = month.year if month.month >= 7 else month.year - 1
            self.charge_months.append(month)
            self.month_codes.append(f"{month:%Y%m}")
            self.tariffs.append(
                [
                    _tariff(TARIFFS[index], year) if index in TARIFFS else 0
                    for index, _ in enumerate(SERVICES)
                ]
            )
            self.zone_tariffs.append(
                {
                    zones: tuple(_tariff(price, year) for price in prices)
                    for zones, prices in ELECTRICITY_TARIFFS.items()
                }
            )
            self.season.append(ELECTRICITY_SEASON[month.month - 1])
            self.heating.append(month.month in HEATING_MONTHS)
            self.days.append(calendar.monthrange(month.year, month.month)[1])
            self.paid_on.append([month.replace(day=day) for day in range(1, 29)])

    def date_in_months(self, months_from_end: int, day: int) -> date:
        """A day of the month ``months_from_end`` months before the end month (negative: after)."""
        serial = self.first_serial + self.months - 1 - months_from_end
        return _month(serial).replace(day=day)


# --- an account's household --------------------------------------------------------------------


@dataclass
class Household:
    """An account's traits, drawn once: who lives there, what they use and how they pay."""

    index: int
    number: str
    address: str
    status: str
    owner_surname: str
    owner_name: str
    area: int  # m², two places
    residents: int
    is_house: bool
    zones: int
    remote_read: bool
    cold_meters: int
    hot_meters: int
    has_heating: bool
    electricity: float  # kWh a month before the season's factor
    cold: float  # m³ a month
    hot: float
    payer: str
    pay_day: int
    rounds_up: bool
    channel: str
    benefits: tuple[tuple[int, int], ...]  # (service, percent)
    closed_months_ago: int = 0
    unpaid_last_months: int = 0
    recalculated_last_month: bool = False
    overdue_cold_meter: bool = False
    meters_verified: bool = False  # no meter is overdue for verification


def _household(plan: Plan, index: int, rng: random.Random) -> Household:
    """Draw the traits of account ``index``; the known accounts get theirs from KNOWN_*."""
    surname, owner_name = _owner(rng)
    is_house = rng.random() < 0.2
    address = f"{rng.choice(TOWNS)}, {rng.choice(STREETS)}, д. {rng.randint(1, 150)}"
    if not is_house:
        address += f", кв. {rng.randint(1, 120)}"
    residents = rng.choices((1, 2, 3, 4, 5), (22, 33, 25, 14, 6))[0]
    water_points = 2 if not is_house and rng.random() < 0.25 else 1  # kitchen and bathroom
    closed = rng.random() < 0.1
    household = Household(
        index=index,
        number=f"108{index + 1:07d}",
        address=address,
        status=Account.CLOSED if closed else Account.ACTIVE,
        owner_surname=surname,
        owner_name=owner_name,
        area=rng.randint(6000, 12000) if is_house else rng.randint(2500, 9000),
        residents=residents,
        is_house=is_house,
        zones=rng.choices((1, 2, 3), (55, 35, 10))[0],
        remote_read=rng.random() < 0.15,
        cold_meters=water_points,
        # Houses and some flats heat their water themselves.
        hot_meters=0 if is_house or rng.random() < 0.1 else water_points,
        has_heating=not is_house and rng.random() < 0.9,
        electricity=(100 + 230 * rng.random()) * (1.2 if is_house else 1.0),
        cold=min(6.0, 1.2 + 1.1 * residents * (0.7 + 0.6 * rng.random())),
        hot=min(4.0, 0.6 + 0.7 * residents * (0.6 + 0.6 * rng.random())),
        payer=rng.choices((FULL, PARTIAL, DEBTOR), (75, 15, 10))[0],
        pay_day=rng.randint(1, 10),
        rounds_up=rng.random() < 0.2,
        channel=rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0],
        benefits=_benefits(rng),
        closed_months_ago=rng.randint(1, max(1, plan.months - 2)) if closed else 0,
    )
    if index < len(KNOWN_ACCOUNTS):
        number, surname, status, address = KNOWN_ACCOUNTS[index]
        household = replace(
            household,
            number=number,
            owner_surname=surname,
            status=status,
            address=address,
            **{"closed_months_ago": 0, **KNOWN_HOUSEHOLDS[number]},
        )
    # A closed account was billed for at least its last month.
    household.closed_months_ago = min(household.closed_months_ago, plan.months - 1)
    return household


def _owner(rng: random.Random) -> tuple[str, str]:
    """A surname, and the full name it begins."""
    male = rng.random() < 0.5
    surname = rng.choice(SURNAMES)[0 if male else 1]
    first_name = rng.choice(MALE_NAMES if male else FEMALE_NAMES)
    patronymic = rng.choice(PATRONYMICS)[0 if male else 1]
    return surname, f"{surname} {first_name} {patronymic}"


def _benefits(rng: random.Random) -> tuple[tuple[int, int], ...]:
    """The household's benefits as (service, percent): few have any. Pensioners over 70 and 80
    pay half or none of the capital repair contribution; veterans half of the utilities."""
    chance = rng.random()
    if chance < 0.05:
        return ((CAPITAL_REPAIR, 50),)
    if chance < 0.07:
        return ((CAPITAL_REPAIR, 100),)
    if chance < 0.12:
        return tuple((service, 50) for service in (ELECTRICITY, COLD, HOT, SEWERAGE, HEATING))
    return ()


@dataclass
class MeterPlan:
    """A meter of a household: its id, the service it measures and its cumulative readings."""

    id: int
    service: int
    values: list[int]  # the current reading of each zone
    monthly: float  # mean consumption a month (electricity: before the season's factor)
    verified_until: date  # its next verification: no reading is taken after it

    def is_read_in(self, month: date) -> bool:
        """Whether the meter's reading of ``month`` is taken: it is, by the last day of the
        default reading window, unless the meter's verification has expired by then."""
        return month.replace(day=DEFAULT_READING_WINDOW[1]) <= self.verified_until


def _meters(
    plan: Plan, household: Household, rng: random.Random, first_id: int, rows: list
) -> list[MeterPlan]:
    """The household's meters, electricity's first, numbered from ``first_id``; their rows are
    appended to ``rows``."""
    meters = []
    status = Meter.REMOVED if household.status == Account.CLOSED else Meter.ACTIVE
    for service, count in (
        (ELECTRICITY, 1),
        (COLD, household.cold_meters),
        (HOT, household.hot_meters),
    ):
        for ordinal in range(count):
            if service == ELECTRICITY:
                zones = household.zones
                place = HOUSE_ELECTRICITY_PLACE if household.is_house else FLAT_ELECTRICITY_PLACE
                digits, decimals = rng.choice((5, 6, 6, 6, 7)), rng.choice((1, 1, 2))
                serial = f"{rng.randrange(10**7, 10**8):08d}"
                start = [rng.randint(500, 20000) for _ in range(zones)]
                monthly = household.electricity
            else:
                zones = 1
                place = HOUSE_WATER_PLACE if household.is_house else WATER_PLACES[count][ordinal]
                digits, decimals = rng.choice((5, 5, 5, 8)), 3
                serial = f"{rng.randint(10, 25)}-{rng.randrange(10**6):06d}"
                start = [rng.randint(5, 900)]
                base = household.cold if service == COLD else household.hot
                monthly = base * WATER_SHARES[count][ordinal]
            next_verification = _next_verification(
                plan, service, rng, not household.meters_verified
            )
            if household.overdue_cold_meter and service == COLD and ordinal == 0:
                next_verification = plan.date_in_months(2, 14)
            years = VERIFICATION_YEARS[service]
            meter_id = first_id + len(meters)
            rows.append(
                (
                    meter_id,
                    f"M{household.number}-{len(meters) + 1}",
                    household.index + 1,
                    plan.service_ids[service],
                    serial,
                    place,
                    zones,
                    digits,
                    decimals,
                    next_verification.replace(year=next_verification.year - years),
                    next_verification,
                    service == ELECTRICITY and household.remote_read,
                    status,
                )
            )
            meters.append(MeterPlan(meter_id, service, start, monthly, next_verification))
    return meters


def _next_verification(plan: Plan, service: int, rng: random.Random, may_be_overdue: bool) -> date:
    """When the meter's next verification is due: one interval after its installation, which
    was before the period. Of those that may be, about one in ten (water) or thirty
    (electricity) is overdue by the end month."""
    span = VERIFICATION_YEARS[service] * 12 - plan.months
    latest = OVERDUE_MONTHS if may_be_overdue else -1  # months before the end month
    months_before_end = latest - rng.randrange(max(1, span + latest))
    return plan.date_in_months(months_before_end, rng.randint(1, 28))


# --- an account's months -----------------------------------------------------------------------


@dataclass
class Chunk:
    """The rows of a run of accounts, table by table (the names of TABLES)."""

    accounts: list = field(default_factory=list)
    contacts: list = field(default_factory=list)
    meters: list = field(default_factory=list)
    readings: list = field(default_factory=list)
    charges: list = field(default_factory=list)
    payments: list = field(default_factory=list)
    next_meter_id: int = 1


@dataclass
class Bill:
    """An account's charges of one month while they are made, each a list in SERVICES order."""

    volumes: list  # stored units, None where the service has no volume this month
    prices: list  # stored units, None where no single tariff applies
    accrued: list[int]
    recalculations: list[int] = field(default_factory=lambda: [0] * len(SERVICES))
    reasons: list = field(default_factory=lambda: [None] * len(SERVICES))
    benefits: list[int] = field(default_factory=lambda: [0] * len(SERVICES))


def generate_chunk(plan: Plan, start: int, stop: int, first_meter_id: int) -> Chunk:
    """The rows of accounts ``start`` to ``stop`` - 1, their meters numbered from
    ``first_meter_id``."""
    chunk = Chunk(next_meter_id=first_meter_id)
    for index in range(start, stop):
        rng = random.Random((plan.seed << 32) + index)
        household = _household(plan, index, rng)
        account_id = index + 1
        chunk.accounts.append(
            (
                account_id,
                household.number,
                household.address,
                household.status,
                household.owner_surname,
                household.owner_name,
                household.area,
                household.residents,
            )
        )
        if index < 2:
            chunk.contacts.append((account_id, DEMO_EMAIL))
        elif len(KNOWN_ACCOUNTS) <= index < len(KNOWN_ACCOUNTS) + LANDLORD_ACCOUNTS:
            chunk.contacts.append((account_id, LANDLORD_EMAIL))
        meters = _meters(plan, household, rng, chunk.next_meter_id, chunk.meters)
        chunk.next_meter_id += len(meters)
        _history(plan, household, meters, rng, chunk)
    return chunk


def _history(plan: Plan, household: Household, meters: list[MeterPlan], rng, chunk: Chunk):
    """The household's readings, charges and payments, month by month."""
    draw = rng.random
    stamps = plan.received_at[0]
    stamp = stamps[int(draw() * len(stamps))]
    for meter in meters:
        if not meter.is_read_in(plan.reading_months[0]):
            continue
        for zone, value in enumerate(meter.values, 1):
            chunk.readings.append(
                (meter.id, zone, plan.reading_months[0], value, *BILLING_READING, stamp)
            )
    percents = [0] * len(SERVICES)
    for service, percent in household.benefits:
        percents[service] = percent
    last = plan.months - 1 - household.closed_months_ago
    balances = [0] * len(SERVICES)
    overdue = 0
    for month_index in range(last + 1):
        used = _read(plan, meters, month_index, draw, chunk.readings)
        bill = _accrue(plan, household, month_index, used)
        if overdue:
            bill.accrued[PENALTY] = _penalty(overdue, plan.days[month_index])
        bill.benefits = [
            (amount * percent + 50) // 100
            for amount, percent in zip(bill.accrued, percents, strict=True)
        ]
        final = month_index == plan.months - 1
        if draw() < RECALCULATION_CHANCE or (household.recalculated_last_month and final):
            _recalculate(bill, draw)
        if household.status == Account.CLOSED and month_index == last:
            # The account closes: its last payment settles this month's bill too.
            debts = [
                opening + accrued + recalculation - benefit
                for opening, accrued, recalculation, benefit in zip(
                    balances, bill.accrued, bill.recalculations, bill.benefits, strict=True
                )
            ]
            amount = sum(debt for debt in debts if debt > 0)
            paid_for = plan.charge_months[month_index]
        else:
            debts = balances
            unpaid = plan.months - month_index <= household.unpaid_last_months
            amount = 0 if unpaid else _payment_amount(household, sum(balances), draw)
            paid_for = plan.reading_months[month_index]
        paid = _allocate(amount, debts)
        if amount:
            _pay(plan, household, month_index, amount, paid_for, draw, chunk.payments)
        overdue = max(0, sum(balances[:PENALTY]) - sum(paid[:PENALTY]))
        balances = _add_charges(plan, household, month_index, bill, balances, paid, chunk.charges)


BILLING_READING = (Reading.BILLING, Reading.ACCEPTED)


def _read(plan: Plan, meters: list[MeterPlan], month_index: int, draw, rows: list):
    """Advance the meters by a month's consumption and append their readings to ``rows``; the
    consumption per service and zone (whole units), summed over the service's meters. A meter
    past its verification is not read: its mean monthly consumption is charged instead, as the
    average is (Правила 354, п. 59)."""
    stamps = plan.received_at[month_index + 1]
    stamp = stamps[int(draw() * len(stamps))]
    month = plan.charge_months[month_index]
    used: dict[int, list[int]] = {}
    for meter in meters:
        if meter.service == ELECTRICITY:
            shares = ZONE_SHARES[len(meter.values)]
            mean = meter.monthly * plan.season[month_index] * (0.85 + 0.3 * draw())
        else:
            shares = (1.0,)
            mean = meter.monthly * (0.7 + 0.6 * draw())
        totals = used.setdefault(meter.service, [0] * len(shares))
        read = meter.is_read_in(month)
        for zone, share in enumerate(shares):
            if not read:
                totals[zone] += round(meter.monthly * share)
                continue
            consumption = int(mean * share + draw())
            meter.values[zone] += consumption
            rows.append((meter.id, zone + 1, month, meter.values[zone], *BILLING_READING, stamp))
            totals[zone] += consumption
    return used


def _accrue(plan: Plan, household: Household, month_index: int, used: dict[int, list[int]]):
    """The month's bill before payments: volumes, tariffs and amounts accrued."""
    bill = Bill([None] * len(SERVICES), [None] * len(SERVICES), [0] * len(SERVICES))
    volumes, prices, accrued = bill.volumes, bill.prices, bill.accrued
    zone_tariffs = plan.zone_tariffs[month_index][household.zones]
    kwh = used[ELECTRICITY]
    volumes[ELECTRICITY] = sum(kwh) * VOLUME_UNIT
    accrued[ELECTRICITY] = sum(
        _times(amount * VOLUME_UNIT, tariff)
        for amount, tariff in zip(kwh, zone_tariffs, strict=True)
    )
    if len(zone_tariffs) == 1:
        prices[ELECTRICITY] = zone_tariffs[0]
    for service in (COLD, HOT):
        if service in used:
            volumes[service] = used[service][0] * VOLUME_UNIT
    if COLD in used or HOT in used:
        volumes[SEWERAGE] = (volumes[COLD] or 0) + (volumes[HOT] or 0)
    if household.has_heating and plan.heating[month_index]:
        volumes[HEATING] = (household.area * HEATING_NORM + 50) // 100
    volumes[WASTE] = household.residents * VOLUME_UNIT
    volumes[CAPITAL_REPAIR] = household.area * AREA_TO_VOLUME
    tariffs = plan.tariffs[month_index]
    for service in (COLD, HOT, SEWERAGE, HEATING, WASTE, CAPITAL_REPAIR):
        if volumes[service] is not None:
            prices[service] = tariffs[service]
            accrued[service] = _times(volumes[service], tariffs[service])
    return bill


def _times(volume: int, tariff: int) -> int:
    """round(volume × tariff, 2), half up, in stored units; both are not negative."""
    return (volume * tariff + PRODUCT_TO_MONEY // 2) // PRODUCT_TO_MONEY


def _penalty(overdue: int, days: int) -> int:
    """A month's penalty on ``overdue`` kopecks."""
    return (overdue * PENALTY_NUMERATOR * days + PENALTY_DENOMINATOR // 2) // PENALTY_DENOMINATOR


def _recalculate(bill: Bill, draw) -> None:
    """A recalculation of one of the month's services: down, or now and then up where the
    reason allows."""
    candidates = [service for service in RECALCULATIONS if bill.accrued[service] > 0]
    if not candidates:
        return
    service = candidates[int(draw() * len(candidates))]
    reason, may_increase = RECALCULATIONS[service]
    part = int(bill.accrued[service] * (0.05 + 0.25 * draw()))
    bill.recalculations[service] = part if may_increase and draw() < 0.3 else -part
    bill.reasons[service] = reason


def _payment_amount(household: Household, due: int, draw) -> int:
    """What the household pays in a month on ``due`` kopecks owed at its start."""
    if due <= 0:
        return 0
    if household.payer == FULL or (household.payer == PARTIAL and draw() < 0.3):
        if household.rounds_up:
            return -(-due // 10000) * 10000  # up to whole hundreds of roubles
        return due
    if household.payer == PARTIAL:
        return due * (50 + int(45 * draw())) // 10000 * 100
    chance = draw()
    if chance < 0.45:
        return 0
    if chance < 0.53:
        return due
    return due * (20 + int(60 * draw())) // 10000 * 100


def _allocate(amount: int, debts: list[int]) -> list[int]:
    """Spread a month's payments over the services in proportion to their positive debts (the
    kopecks left by rounding to the largest debt); what exceeds them goes to electricity."""
    positive = [debt if debt > 0 else 0 for debt in debts]
    total = sum(positive)
    if amount >= total:
        positive[ELECTRICITY] += amount - total
        return positive
    paid = [amount * debt // total for debt in positive]
    paid[positive.index(max(positive))] += amount - sum(paid)
    return paid


def _pay(plan: Plan, household: Household, month_index: int, amount: int, paid_for, draw, rows):
    """The payment rows of a month: one, or now and then two by different channels."""
    if household.payer == FULL:
        day = min(28, household.pay_day + int(3 * draw()))
    else:
        day = 1 + int(28 * draw())
    if paid_for == plan.charge_months[month_index]:
        day = max(day, 20)  # a closing account pays its last bill late in the month
    parts = [amount]
    if amount > 20000 and draw() < 0.08:
        first = amount * (20 + int(50 * draw())) // 10000 * 100
        parts = [first, amount - first]
    code = plan.month_codes[month_index]
    for ordinal, part in enumerate(parts, 1):
        channel = household.channel if draw() < 0.85 else CHANNELS[int(draw() * len(CHANNELS))]
        paid_on = plan.paid_on[month_index][min(27, day - 1 + (ordinal - 1) * 3)]
        rows.append(
            (
                f"P{household.number}{code}{ordinal}",
                household.index + 1,
                paid_on,
                part,
                channel,
                paid_for,
            )
        )


def _add_charges(
    plan: Plan,
    household: Household,
    month_index: int,
    bill: Bill,
    openings: list[int],
    paid: list[int],
    rows: list,
) -> list[int]:
    """Append the month's charge rows to ``rows``: the services billed this month, and any other
    whose balance is not zero. The closing balances of all services."""
    month = plan.charge_months[month_index]
    closings = []
    for service, opening in enumerate(openings):
        accrued = bill.accrued[service]
        closing = (
            opening
            + accrued
            + bill.recalculations[service]
            - bill.benefits[service]
            - paid[service]
        )
        closings.append(closing)
        volume = bill.volumes[service]
        if volume is not None or opening or closing or accrued or paid[service]:
            rows.append(
                (
                    household.index + 1,
                    month,
                    plan.service_ids[service],
                    volume,
                    bill.prices[service],
                    accrued,
                    bill.recalculations[service],
                    bill.reasons[service],
                    bill.benefits[service],
                    paid[service],
                    opening,
                    closing,
                )
            )
    return closings


# --- writing -----------------------------------------------------------------------------------


@dataclass
class SeedReport:
    """What a seed wrote: rows per table (the names of TABLES, and services), the months the
    charges cover, and how long it took."""

    rows: dict[str, int]
    first_month: date
    end_month: date
    seconds: float


def seed(
    seed_value: int = DEFAULT_SEED,
    accounts: int = DEFAULT_ACCOUNTS,
    months: int = DEFAULT_MONTHS,
    end_month: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedReport | None:
    """Fill a database without accounts with ``accounts`` demo accounts and ``months`` months of
    their data up to ``end_month`` (the first day of a month; by default the month before the
    current one);
    return None, writing nothing, if the database has accounts already. ``progress`` is called
    with the number of accounts written after each chunk."""
    started, started_at = time.monotonic(), utcnow()
    end_month = end_month or last_billed_month()
    with db.engine.begin() as connection:
        if connection.scalar(select(func.count(Account.id))):
            return None
        service_ids, added_services = _services(connection)
        plan = Plan(
            seed_value, accounts, service_ids, end_month, current_app.config["TIME_ZONE"], months
        )
        foreign_keys = _drop_foreign_keys(connection)
        rows = {"services": added_services} | _write(connection, plan, progress)
        for foreign_key in foreign_keys:
            connection.execute(AddConstraint(foreign_key))
        _finish(connection)
        # The cabinet says when data last came from the accounting system: this is when.
        written = sum(rows.values())
        connection.execute(
            insert(BillingImport).values(
                file_name="flask demo seed",
                started_at=started_at,
                finished_at=utcnow(),
                rows=written,
                inserted=written,
                result=BillingImport.DONE,
                message="Демонстрационные данные",
            )
        )
    return SeedReport(rows, plan.charge_months[0], end_month, time.monotonic() - started)


def _write(connection: Connection, plan: Plan, progress) -> dict[str, int]:
    """Generate the accounts chunk by chunk in a worker thread, writing each chunk while the
    next is generated; the rows written per table."""
    rows = {name: 0 for name, _, _ in TABLES}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-seed") as pool:
        stop = min(CHUNK_ACCOUNTS, plan.accounts)
        pending = pool.submit(generate_chunk, plan, 0, stop, 1)
        while pending:
            chunk = pending.result()
            start, stop = stop, min(stop + CHUNK_ACCOUNTS, plan.accounts)
            pending = None
            if start < stop:
                pending = pool.submit(generate_chunk, plan, start, stop, chunk.next_meter_id)
            for name, model, columns in TABLES:
                rows[name] += copy_rows(connection, model.__table__, columns, getattr(chunk, name))
            if progress:
                progress(len(chunk.accounts))
            del chunk
    return rows


def _drop_foreign_keys(connection: Connection) -> list[ForeignKeyConstraint]:
    """On PostgreSQL, drop the foreign keys of the big tables, to be added back after the load:
    checking each row as it comes more than doubles the time, while adding a key checks all rows
    at once. This happens inside the seed's transaction, so the keys are back if it fails."""
    if connection.dialect.name != "postgresql":
        return []
    foreign_keys = sorted(
        (
            foreign_key
            for model in (Meter, Reading, Charge, Payment)
            for foreign_key in model.__table__.foreign_key_constraints
        ),
        key=lambda foreign_key: foreign_key.name,
    )
    for foreign_key in foreign_keys:
        connection.execute(DropConstraint(foreign_key))
    return foreign_keys


def _services(connection: Connection) -> tuple[list[int], int]:
    """The ids of the services of SERVICES in its order, adding those the database lacks; and
    how many were added."""
    existing = dict(connection.execute(select(Service.code, Service.id)).all())
    missing = [
        {
            "code": code,
            "name": name,
            "unit": unit,
            "reading_window_start": window_start,
            "reading_window_end": window_end,
            "is_penalty": is_penalty,
        }
        for code, name, unit, window_start, window_end, is_penalty in SERVICES
        if code not in existing
    ]
    if missing:
        connection.execute(insert(Service), missing)
        existing = dict(connection.execute(select(Service.code, Service.id)).all())
    return [existing[code] for code, *_ in SERVICES], len(missing)


def _finish(connection: Connection) -> None:
    """On PostgreSQL: move the id sequences past the ids written explicitly, and gather the
    planner's statistics of the tables just filled."""
    if connection.dialect.name != "postgresql":
        return
    for model in (Account, Meter):
        table = model.__table__
        connection.execute(
            select(
                func.setval(
                    func.pg_get_serial_sequence(table.name, "id"),
                    select(func.max(table.c.id)).scalar_subquery(),
                )
            )
        )
    for _, model, _ in TABLES:
        connection.execute(text(f"ANALYZE {model.__tablename__}"))
