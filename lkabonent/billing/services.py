"""What the cabinet reads of the accounting system's data."""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from ..clock import utcnow
from ..extensions import read
from ..models import BillingImport, Service

_LAST_RECEIVED = select(func.max(BillingImport.finished_at)).where(
    BillingImport.result.in_([BillingImport.DONE, BillingImport.PARTIAL]),
    BillingImport.rows > BillingImport.rejected,
)


def last_received() -> datetime | None:
    """When data last came from the accounting system: the end of the latest import that took
    some rows in, or None."""
    return read(_LAST_RECEIVED).scalar()


@dataclass(frozen=True)
class ReadingWindow:
    """The days of a month on which readings of a service are accepted."""

    first_day: date
    last_day: date
    is_open: bool  # today, or always when READING_WINDOW_ALWAYS_OPEN is set (development)

    def days_left(self, today: date) -> int:
        """Days the window stays open, today included; 0 outside it."""
        if not self.first_day <= today <= self.last_day:
            return 0
        return (self.last_day - today).days + 1


def local_today() -> date:
    """Today in the settlement centre's time zone."""
    return utcnow().astimezone(ZoneInfo(current_app.config["TIME_ZONE"])).date()


def reading_window(service: Service, today: date) -> ReadingWindow:
    """The service's window that is open today, or else the next one. Days past the end of a
    short month (a window up to the 31st in February) fall on its last day."""
    first, last = _window_in(service, today.year, today.month)
    if today > last:
        following = today.replace(day=1) + timedelta(days=32)
        first, last = _window_in(service, following.year, following.month)
    always = current_app.config["READING_WINDOW_ALWAYS_OPEN"]
    return ReadingWindow(first, last, always or first <= today <= last)


def _window_in(service: Service, year: int, month: int) -> tuple[date, date]:
    days = calendar.monthrange(year, month)[1]
    return (
        date(year, month, min(service.reading_window_start, days)),
        date(year, month, min(service.reading_window_end, days)),
    )
