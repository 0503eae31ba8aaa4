"""Russian text helpers for templates."""

from datetime import datetime

from babel.dates import format_datetime
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


def password_lifetime() -> str:
    """How long an emailed password lasts, as pages and mails say it: «30 минут»."""
    minutes = current_app.config["REGISTRATION_PASSWORD_TTL"] // 60
    return f"{minutes} {plural_ru(minutes, 'минуту', 'минуты', 'минут')}"


def moment_ru(value: datetime) -> str:
    """A moment in the settlement centre's time zone, as «27 ноября 2026, 13:05»."""
    return format_datetime(
        value, "d MMMM y, HH:mm", tzinfo=current_app.config["TIME_ZONE"], locale="ru"
    )
