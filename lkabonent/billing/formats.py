"""The exchange format with the accounting system (docs/exchange-format.md): the kinds of file,
their columns, and how a cell's text becomes a stored value.

Every parser takes the cell's text, stripped, and returns the value as the database stores it
(scaled integers for Fixed columns, dates, codes), or raises ValueError with the reason in
Russian; its ``stored`` attribute is the column type of the import's staging table (text unless
set). An empty cell is None before it reaches a parser: a required column refuses it.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Integer, Text

from ..cabinet.services import normalize_account_number
from ..mail import normalize_email
from ..models import (
    AREA_PLACES,
    DEFAULT_READING_WINDOW,
    MONEY_PLACES,
    TARIFF_PLACES,
    VOLUME_PLACES,
    Account,
    Meter,
    Payment,
    Reading,
)

# --- cells -------------------------------------------------------------------------------------

# Digit counts are capped: int() refuses very long strings with an English message.
DECIMAL_NUMBER = re.compile(r"(?P<sign>[-+]?)(?P<whole>\d{0,20})(?:[.,](?P<fraction>\d{0,20}))?$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
NUMBER_SPACES = re.compile(r"[\s\u00a0\u202f']")
ACCOUNT_NUMBER = re.compile(r"^[0-9A-Z]{10}$")
MONTH_FORMATS = (
    re.compile(r"^(?P<month>\d{1,2})\.(?P<year>\d{4})$"),
    re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})$"),
    re.compile(r"^0?1\.(?P<month>\d{1,2})\.(?P<year>\d{4})$"),
    re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})-0?1$"),
)
DATE_FORMATS = (
    re.compile(r"^(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})$"),
    re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})$"),
)
DATETIME_FORMAT = re.compile(
    r"^(?P<date>[\d.\-]+)[ T](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?$"
)
YES = {"да", "1", "true", "yes", "д", "y"}
NO = {"нет", "0", "false", "no", "н", "n"}
MAX_INTEGER = 10**15  # far beyond any meter, and inside a BigInteger even with 4 places


def text(max_length: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        value = " ".join(value.split())
        if CONTROL_CHARACTERS.search(value):
            raise ValueError("в тексте управляющий символ (например, нулевой байт)")
        if len(value) > max_length:
            raise ValueError(f"длиннее {max_length} символов")
        return value

    return parse


def account_number(value: str) -> str:
    number = normalize_account_number(value)
    if not ACCOUNT_NUMBER.match(number):
        raise ValueError(f"номер лицевого счета «{value}» — нужно 10 цифр или латинских букв")
    return number


def email(value: str) -> str:
    try:
        return normalize_email(value)
    except ValueError as error:
        raise ValueError(f"адрес «{value}» не разобран: {error}") from None


def fixed(places: int, negative: bool = False) -> Callable[[str], int]:
    """A decimal number with a comma or a point, spaces between thousands allowed; stored
    multiplied by 10**places. Read without Decimal: most of an import's time goes to these."""

    def parse(value: str) -> int:
        number = DECIMAL_NUMBER.match(NUMBER_SPACES.sub("", value))
        if not number or not (number["whole"] or number["fraction"]):
            raise ValueError(f"«{value}» — не число")
        fraction = number["fraction"] or ""
        if len(fraction) > places:
            raise ValueError(f"«{value}» — больше {places} знаков после запятой")
        scaled = int((number["whole"] or "0") + fraction.ljust(places, "0"))
        if number["sign"] == "-" and scaled and not negative:
            raise ValueError(f"«{value}» — не может быть отрицательным")
        if scaled >= MAX_INTEGER:
            raise ValueError(f"«{value}» — слишком большое число")
        return -scaled if number["sign"] == "-" else scaled

    parse.stored = BigInteger
    return parse


def integer(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        cleaned = NUMBER_SPACES.sub("", value)
        if not re.fullmatch(r"-?\d{1,20}", cleaned):
            raise ValueError(f"«{value}» — нужно целое число")
        number = int(cleaned)
        if not low <= number <= high:
            raise ValueError(f"«{value}» — нужно число от {low} до {high}")
        return number

    parse.stored = BigInteger
    return parse


def zone(value: str) -> int:
    """A tariff zone: 1–3, also written T1–T3 (Latin or Cyrillic T)."""
    try:
        return integer(1, 3)(re.sub(r"^[TtТт]", "", value))
    except ValueError:
        raise ValueError(f"«{value}» — нужна зона 1, 2 или 3 (T1, T2, T3)") from None


zone.stored = Integer


def month(value: str) -> date:
    for pattern in MONTH_FORMATS:
        found = pattern.match(value)
        if found:
            try:
                return date(int(found["year"]), int(found["month"]), 1)
            except ValueError:
                break
    raise ValueError(f"«{value}» — нужен месяц в виде ММ.ГГГГ или ГГГГ-ММ")


month.stored = Date


def day(value: str) -> date:
    for pattern in DATE_FORMATS:
        found = pattern.match(value)
        if found:
            try:
                return date(int(found["year"]), int(found["month"]), int(found["day"]))
            except ValueError:
                break
    raise ValueError(f"«{value}» — нужна дата в виде ДД.ММ.ГГГГ или ГГГГ-ММ-ДД")


day.stored = Date


def moment(zone_name: str) -> Callable[[str], datetime]:
    """A date, or a date and time, in the settlement centre's time zone; stored as naive UTC,
    as UTCDateTime columns keep it."""
    local = ZoneInfo(zone_name)

    def parse(value: str) -> datetime:
        found = DATETIME_FORMAT.match(value)
        try:
            if found:
                moment = datetime.combine(
                    day(found["date"]),
                    datetime.min.time().replace(
                        hour=int(found["hour"]),
                        minute=int(found["minute"]),
                        second=int(found["second"] or 0),
                    ),
                )
            else:
                moment = datetime.combine(day(value), datetime.min.time())
        except ValueError:
            raise ValueError(f"«{value}» — нужны дата и время в виде ДД.ММ.ГГГГ ЧЧ:ММ") from None
        return moment.replace(tzinfo=local).astimezone(UTC).replace(tzinfo=None)

    parse.stored = DateTime
    return parse


def boolean(value: str) -> bool:
    lowered = value.casefold()
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    raise ValueError(f"«{value}» — нужно «да» или «нет»")


boolean.stored = Boolean


def choice(codes: dict[str, str]) -> Callable[[str], str]:
    """One of ``codes`` (code → Russian word), written as the code or the word."""
    accepted = {code: code for code in codes} | {word: code for code, word in codes.items()}
    accepted = {key.casefold().replace("ё", "е"): code for key, code in accepted.items()}

    def parse(value: str) -> str:
        code = accepted.get(" ".join(value.split()).casefold().replace("ё", "е"))
        if code is None:
            allowed = ", ".join(f"«{word}»" for word in codes.values())
            raise ValueError(f"«{value}» — нужно одно из значений: {allowed}")
        return code

    return parse


# --- kinds -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], object]
    required: bool = True  # False: the cell may be empty
    reference: str | None = None  # a natural key of another kind: "accounts", "services"…

    @property
    def stored(self):
        """The column's type in the import's staging table."""
        return getattr(self.parse, "stored", Text)


@dataclass(frozen=True)
class Kind:
    name: str  # as in the import log and the summary line
    label: str  # in Russian, for the office
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the natural key: a second row with the same key rejects the file
    # The rules between the cells of a row: values by column name → errors (column, reason).
    rule: Callable[[dict], list[tuple[str, str]]] | None = None

    @property
    def column_names(self) -> frozenset[str]:
        return frozenset(column.name for column in self.columns)

    @property
    def column_names_in_order(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def window_rule(values: dict) -> list[tuple[str, str]]:
    """The window must not end before it starts, an empty cell taking its default."""
    first, last = DEFAULT_READING_WINDOW
    start = first if values["window_start"] is None else values["window_start"]
    end = last if values["window_end"] is None else values["window_end"]
    if start > end:
        reason = f"окно подачи показаний заканчивается ({end}) раньше, чем начинается ({start})"
        return [("window_end", reason)]
    return []


def portal_id_rule(values: dict) -> list[tuple[str, str]]:
    if values["source"] == Reading.PORTAL and values["portal_id"] is None:
        return [("portal_id", "для показания с портала нужен его номер в портале")]
    if values["source"] == Reading.BILLING and values["portal_id"] is not None:
        return [("portal_id", "номер в портале указывают только для показаний с портала")]
    return []


ACCOUNT_STATUSES = {Account.ACTIVE: "действующий", Account.CLOSED: "закрыт"}
METER_STATUSES = {Meter.ACTIVE: "действующий", Meter.REMOVED: "снят"}


def kinds(time_zone: str) -> tuple[Kind, ...]:
    """Every kind of file, in the order a run imports them: a file may refer to rows of the
    kinds before it."""
    return (
        Kind(
            "services",
            "услуги",
            (
                Column("code", text(32)),
                Column("name", text(100)),
                Column("unit", text(20)),
                Column("window_start", integer(1, 31), required=False),
                Column("window_end", integer(1, 31), required=False),
                Column("penalty", boolean, required=False),
            ),
            ("code",),
            window_rule,
        ),
        Kind(
            "accounts",
            "лицевые счета",
            (
                Column("number", account_number),
                Column("address", text(300)),
                Column("owner_surname", text(100)),
                Column("owner_name", text(200), required=False),
                Column("status", choice(ACCOUNT_STATUSES)),
                Column("area", fixed(AREA_PLACES), required=False),
                Column("residents", integer(0, 999), required=False),
            ),
            ("number",),
        ),
        Kind(
            "contacts",
            "контакты",
            (
                Column("account", account_number, reference="accounts"),
                Column("email", email),
            ),
            ("account", "email"),
        ),
        Kind(
            "meters",
            "приборы учета",
            (
                Column("id", text(64)),
                Column("account", account_number, reference="accounts"),
                Column("service", text(32), reference="services"),
                Column("serial_number", text(64)),
                Column("place", text(100), required=False),
                Column("zones", integer(1, 3)),
                Column("digits", integer(1, 12)),
                Column("decimals", integer(0, 4), required=False),
                Column("installed_on", day, required=False),
                Column("next_verification", day, required=False),
                Column("remote_read", boolean, required=False),
                Column("status", choice(METER_STATUSES), required=False),
            ),
            ("id",),
        ),
        Kind(
            "charges",
            "начисления",
            (
                Column("account", account_number, reference="accounts"),
                Column("month", month),
                Column("service", text(32), reference="services"),
                Column("volume", fixed(VOLUME_PLACES), required=False),
                Column("tariff", fixed(TARIFF_PLACES), required=False),
                Column("accrued", fixed(MONEY_PLACES, negative=True)),
                Column("recalculation", fixed(MONEY_PLACES, negative=True), required=False),
                Column("recalculation_reason", text(300), required=False),
                Column("benefit", fixed(MONEY_PLACES, negative=True), required=False),
                Column("paid", fixed(MONEY_PLACES, negative=True), required=False),
                Column("opening_balance", fixed(MONEY_PLACES, negative=True)),
                Column("closing_balance", fixed(MONEY_PLACES, negative=True)),
            ),
            ("account", "month", "service"),
        ),
        Kind(
            "payments",
            "платежи",
            (
                Column("id", text(64)),
                Column("account", account_number, reference="accounts"),
                Column("date", day),
                Column("amount", fixed(MONEY_PLACES, negative=True)),
                Column("channel", choice(Payment.CHANNELS)),
                Column("month", month, required=False),
            ),
            ("id",),
        ),
        Kind(
            "readings",
            "показания",
            (
                Column("meter", text(64), reference="meters"),
                Column("zone", zone),
                Column("month", month),
                Column("value", integer(0, MAX_INTEGER - 1)),
                Column("source", choice(Reading.FILE_SOURCES)),
                Column("state", choice(Reading.STATES)),
                Column("reason", text(300), required=False),
                Column("portal_id", integer(1, 2**62), required=False),
                Column("received_at", moment(time_zone), required=False),
            ),
            ("meter", "zone", "month", "source"),
            portal_id_rule,
        ),
    )


# A column the importer writes into its file of rejected rows; importing that file again after
# the rows are fixed ignores it.
ERROR_COLUMN = "error"


def recognise(kinds_: tuple[Kind, ...], header: list[str]) -> Kind | None:
    """The kind whose columns are exactly the header's (in any order, any case)."""
    names = frozenset(header) - {ERROR_COLUMN}
    return next((kind for kind in kinds_ if kind.column_names == names), None)
