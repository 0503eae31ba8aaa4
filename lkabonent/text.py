"""Russian text helpers for templates."""

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from flask import current_app


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """The form of a Russian noun that goes with the number ``n``: ``one`` for 1, 21, 101…
    («1 минуту»), ``few`` for 2–4, 22–24… («2 минуты»), ``many`` for 0, 5–20, 11–14, 25…
    («5 минут»). Only the word is returned; the template writes the number itself."""
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def days_left_ru(count: int) -> str:
    """What is left of a reading window: «остался 1 день», «осталось 3 дня», «осталось 5 дней»."""
    verb = plural_ru(count, "остался", "осталось", "осталось")
    return f"{verb} {count} {plural_ru(count, 'день', 'дня', 'дней')}"


_DURATION_UNITS = (
    (86400, ("день", "дня", "дней")),
    (3600, ("час", "часа", "часов")),
    (60, ("минуту", "минуты", "минут")),
)


def duration_ru(seconds: int) -> str:
    """A length of time in whole minutes, as a sentence takes it after «действует» or «через»:
    «30 минут», «1 час 30 минут», «12 часов»."""
    parts = []
    left = seconds // 60 * 60
    for size, forms in _DURATION_UNITS:
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count} {plural_ru(count, *forms)}")
    return " ".join(parts) or "меньше минуты"


def password_lifetime() -> str:
    """How long an emailed password lasts, as pages and mails say it: «30 минут»."""
    return duration_ru(current_app.config["REGISTRATION_PASSWORD_TTL"])


def moment_ru(value: datetime) -> str:
    """A moment in the settlement centre's time zone, as «27 ноября 2026, 13:05»: what Babel's
    format_datetime(value, "d MMMM y, HH:mm", locale="ru") writes, from the cached date."""
    if value.tzinfo is None:  # a naive moment is UTC, as Babel reads it
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(_zone(current_app.config["TIME_ZONE"]))
    return f"{date_ru(local.date())}, {local:%H:%M}"


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


# Pages write dozens of dates and months, from a few hundred distinct ones; Babel takes tens of
# microseconds for each.
@lru_cache(maxsize=4096)
def date_ru(value: date) -> str:
    """A date as «27 ноября 2026»."""
    return format_date(value, "d MMMM y", locale="ru")


@lru_cache(maxsize=1024)
def month_ru(value: date) -> str:
    """A month as «ноябрь 2026»."""
    return format_date(value, "LLLL y", locale="ru")


@lru_cache(maxsize=1024)
def month_genitive_ru(value: date) -> str:
    """A month as «ноября 2026», after «с»."""
    return format_date(value, "MMMM y", locale="ru")


@cache
def _money_format() -> tuple[str, str, str]:
    """Babel's Russian group and decimal separators and the pattern around the number."""
    locale = Locale.parse("ru")
    symbols = locale.number_symbols["latn"]
    pattern = locale.currency_formats["standard"].pattern  # '#,##0.00 ¤'
    template = pattern.replace("#,##0.00", "{}").replace("¤", locale.currency_symbols["RUB"])
    return symbols["group"], symbols["decimal"], template


@lru_cache(maxsize=16384)
def money_ru(value: Decimal) -> str:
    """Roubles as «1 234,56 ₽», as babel.numbers.format_currency(value, "RUB", locale="ru")
    writes them, several times faster: pages show dozens of sums."""
    group, decimal, template = _money_format()
    number = f"{abs(value):,.2f}".translate({ord(","): group, ord("."): decimal})
    return ("-" if value < 0 else "") + template.format(number)


@lru_cache(maxsize=16384)
def number_ru(value: Decimal | int, places: int = 3) -> str:
    """A quantity as «1 234,568»: Russian separators, up to ``places`` decimals, rounded half
    to even, as babel.numbers.format_decimal(value, "#,##0.###", locale="ru") writes it (with
    as many # after the point as places)."""
    group, decimal, _ = _money_format()
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN).normalize()
    number = f"{abs(rounded):,f}".translate({ord(","): group, ord("."): decimal})
    # Unlike Babel, no sign on a value that rounds to zero (Babel writes -0,0001 as «-0»); the
    # cache could not tell it anyway, as -0 equals 0.
    return ("-" if rounded < 0 else "") + number
