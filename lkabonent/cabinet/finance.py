"""What a subscriber owes and paid: a month's charges, the consumption chart, the debt and the
payments. Each function answers from a constant number of queries, whatever the rows."""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
from operator import itemgetter

from sqlalchemy import BigInteger, Integer, and_, bindparam, func, select, type_coerce
from sqlalchemy.orm import aliased

from ..extensions import read
from ..models import VOLUME_PLACES, Account, Charge, Payment, Service
from .services import Page

ZERO = Decimal(0)

# How far back Расчеты and its chart go.
MONTHS_SHOWN = 24


def add_months(month: date, count: int) -> date:
    """The first day of the month ``count`` months after ``month`` (before, when negative)."""
    serial = month.year * 12 + month.month - 1 + count
    return date(serial // 12, serial % 12 + 1, 1)


def months_between(earlier: date, later: date) -> int:
    """How many months ``later`` is after ``earlier`` (days ignored)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


@lru_cache(maxsize=1024)
def month_param(month: date) -> str:
    """A month as the pages' ``?month=`` takes it: «2026-11»."""
    return month.strftime("%Y-%m")


def month_from_text(value: str) -> date:
    """The first day of the month written as YYYY-MM (as month_param writes it); ValueError in
    Russian otherwise."""
    try:
        parsed = datetime.strptime(value.strip(), "%Y-%m")
    except ValueError:
        raise ValueError(f"месяц «{value}» — нужен вид ГГГГ-ММ, например 2026-11") from None
    return parsed.date()


def month_end(month: date) -> date:
    """The last day of ``month``."""
    return add_months(month, 1) - timedelta(days=1)


# The statements of the pages are built once (bound values: account_id, month, ids…):
# building a select costs more than running it.
_CHARGE_MONTHS = (
    select(Charge.month)
    .distinct()
    .where(Charge.account_id == bindparam("account_id"))
    .order_by(Charge.month.desc())
)
_RECENT_CHARGE_MONTHS = _CHARGE_MONTHS.limit(MONTHS_SHOWN)


_LATEST_CHARGE_MONTH = select(func.max(Charge.month)).where(
    Charge.account_id == bindparam("account_id")
)


def latest_charge_month(account_id: int) -> date | None:
    """The month of the account's latest charges, if it has any."""
    return read(_LATEST_CHARGE_MONTH, {"account_id": account_id}).scalar()


def charge_months(account_id: int, every: bool = False) -> list[date]:
    """The months with charges, latest first: up to MONTHS_SHOWN, or ``every`` one."""
    query = _CHARGE_MONTHS if every else _RECENT_CHARGE_MONTHS
    return read(query, {"account_id": account_id}).scalars().all()


@dataclass
class ChargeTotals:
    """The sums of a month's lines; ``to_pay`` is the accounting system's closing balance."""

    accrued: Decimal = ZERO
    recalculation: Decimal = ZERO
    benefit: Decimal = ZERO
    paid: Decimal = ZERO
    opening: Decimal = ZERO
    to_pay: Decimal = ZERO

    def add(self, line) -> None:
        self.accrued += line.accrued
        self.recalculation += line.recalculation
        self.benefit += line.benefit
        self.paid += line.paid
        self.opening += line.opening_balance
        self.to_pay += line.closing_balance


@dataclass(frozen=True)
class Statement:
    """A month of Расчеты: one line per service (пени last) and the totals."""

    month: date
    lines: list
    totals: ChargeTotals


_STATEMENT = (
    select(
        Service.name,
        Service.unit,
        Service.is_penalty,
        Charge.volume,
        Charge.tariff,
        Charge.accrued,
        Charge.recalculation,
        Charge.recalculation_reason,
        Charge.benefit,
        Charge.paid,
        Charge.opening_balance,
        Charge.closing_balance,
    )
    .join(Service, Service.id == Charge.service_id)
    .where(Charge.account_id == bindparam("account_id"), Charge.month == bindparam("month"))
    .order_by(Service.is_penalty, Service.id)
)


def statement(account_id: int, month: date) -> Statement:
    """The account's charges in ``month``, per service, with unit, volume and tariff."""
    lines = read(_STATEMENT, {"account_id": account_id, "month": month}).all()
    totals = ChargeTotals()
    for line in lines:
        totals.add(line)
    return Statement(month, lines, totals)


@dataclass(frozen=True)
class Consumption:
    """A service's metered or charged volume by month, oldest first, for the chart."""

    name: str
    unit: str
    months: list  # [(month, volume or None)] over the whole span, gaps as None

    @property
    def peak(self) -> Decimal:
        return max((volume for _, volume in self.months if volume is not None), default=ZERO)


# Volumes come as the scaled integers the column stores (models.Fixed) and become Decimals
# only once the series is known to vary: most services' volume is the same every month. The
# services' names come apart: joined, they would cost each of the rows.
_CONSUMPTION = (
    select(Charge.service_id, Charge.month, type_coerce(Charge.volume, BigInteger))
    .where(
        Charge.account_id == bindparam("account_id"),
        Charge.month.between(bindparam("first"), bindparam("latest")),
        Charge.volume.is_not(None),
    )
    .order_by(Charge.service_id)
)
_METERED_SERVICES = (
    select(Service.id, Service.name, Service.unit)
    .where(Service.id.in_(bindparam("ids", expanding=True)), Service.is_penalty.is_(False))
    .order_by(Service.id)
)


def consumption(account_id: int, latest: date) -> list[Consumption]:
    """The volume of each service whose volume varies, in the MONTHS_SHOWN months up to
    ``latest``: a chart of a constant (a fee by area or by residents) would say nothing, and
    services without any volume (пени, fixed fees) have none to show. Two queries."""
    first = add_months(latest, 1 - MONTHS_SHOWN)
    rows = read(_CONSUMPTION, {"account_id": account_id, "first": first, "latest": latest}).all()
    varying = {}
    for service_id, of_service in groupby(rows, key=itemgetter(0)):
        scaled = {month: volume for _, month, volume in of_service}
        if len(set(scaled.values())) > 1:
            varying[service_id] = scaled
    span = [add_months(first, index) for index in range(MONTHS_SHOWN)]
    return [
        Consumption(
            name, unit, [(month, _volume(varying[service_id].get(month))) for month in span]
        )
        for service_id, name, unit in read(_METERED_SERVICES, {"ids": list(varying)})
    ]


def _volume(scaled: int | None) -> Decimal | None:
    return None if scaled is None else Decimal(scaled).scaleb(-VOLUME_PLACES)


@dataclass
class Debt:
    """An account's debt by its latest bill, and what was paid after that bill.

    ``opening``, ``charged`` and ``paid`` are the bill month's, пени apart; ``paid_since`` is
    what came after the month's end. ``services`` owed = their closing balance − paid_since."""

    number: str
    month: date | None = None
    opening: Decimal = ZERO
    charged: Decimal = ZERO
    paid: Decimal = ZERO
    closing: Decimal = ZERO
    penalties: Decimal = ZERO
    paid_since: Decimal = ZERO

    @property
    def services(self) -> Decimal:
        """The debt for services now; negative when paid in advance."""
        return self.closing - self.paid_since

    @property
    def total(self) -> Decimal:
        """What is owed now, пени included; negative when paid in advance."""
        return self.services + self.penalties

    @property
    def paid_in_all(self) -> Decimal:
        """Paid for services in the bill's month and since."""
        return self.paid + self.paid_since


# An account's latest bill month, looked up once per account by a max() over its index range: a
# GROUP BY over the accounts' charges cost SQLite 2.5 times more.
_BILLED = aliased(Charge)
_LATEST_BILL_MONTH = (
    select(func.max(_BILLED.month)).where(_BILLED.account_id == Account.id).scalar_subquery()
)
# Built once, like every statement a page runs more than once: building costs more than running.
_BILL_SUMS = (
    select(
        Charge.account_id,
        Charge.month,
        Service.is_penalty,
        func.sum(Charge.opening_balance),
        func.sum(Charge.accrued),
        func.sum(Charge.recalculation),
        func.sum(Charge.benefit),
        func.sum(Charge.paid),
        func.sum(Charge.closing_balance),
    )
    .select_from(Account)
    .join(Charge, and_(Charge.account_id == Account.id, Charge.month == _LATEST_BILL_MONTH))
    .join(Service, Service.id == Charge.service_id)
    .where(Account.id.in_(bindparam("ids", expanding=True)))
    .group_by(Charge.account_id, Charge.month, Service.is_penalty)
)
_PAID_AFTER = select(Payment.account_id, Payment.paid_on, Payment.amount).where(
    Payment.account_id.in_(bindparam("ids", expanding=True)),
    Payment.paid_on > bindparam("after"),
)


def debts(accounts: list) -> list[Debt]:
    """The debt of each account (rows with id and number), in their order: two queries."""
    result = {account.id: Debt(account.number) for account in accounts}
    if not result:
        return []
    ids = {"ids": list(result)}
    for (
        account_id,
        month,
        penalty,
        opening,
        accrued,
        recalculation,
        benefit,
        paid,
        closing,
    ) in read(_BILL_SUMS, ids):
        debt = result[account_id]
        debt.month = month
        if penalty:
            debt.penalties = closing
        else:
            debt.opening, debt.charged = opening, accrued + recalculation - benefit
            debt.paid, debt.closing = paid, closing
    ends = {account_id: month_end(debt.month) for account_id, debt in result.items() if debt.month}
    if ends:
        # Payments the accounting system received after each account's latest bill: those after
        # the earliest bill's end, counted where they come after their own account's.
        after = {"ids": list(ends), "after": min(ends.values())}
        for account_id, paid_on, amount in read(_PAID_AFTER, after):
            if paid_on > ends[account_id]:
                result[account_id].paid_since += amount
    return [result[account.id] for account in accounts]


@dataclass(frozen=True)
class PaymentFilter:
    """Which payments the history shows: of one account (id) or all, of one year or all."""

    account_ids: list[int]
    year: int | None = None


@dataclass(frozen=True)
class PaymentHistory:
    """A page of payments and the years the filter offers, latest first."""

    page: Page
    years: list[int] = field(default_factory=list)


_OF_ACCOUNTS = Payment.account_id.in_(bindparam("ids", expanding=True))
_IN_DATES = Payment.paid_on.between(bindparam("first"), bindparam("last"))
_PAYMENT_SPAN = select(func.min(Payment.paid_on), func.max(Payment.paid_on)).where(_OF_ACCOUNTS)
_PAYMENT_COUNT = select(func.count(Payment.id)).where(_OF_ACCOUNTS, _IN_DATES)
_PAYMENT_PAGE = (
    select(Payment.account_id, Payment.paid_on, Payment.amount, Payment.channel, Payment.month)
    .where(_OF_ACCOUNTS, _IN_DATES)
    .order_by(Payment.paid_on.desc(), Payment.id.desc())
    .limit(bindparam("limit", type_=Integer))
    .offset(bindparam("offset", type_=Integer))
)


def payment_history(wanted: PaymentFilter, page: int, per_page: int) -> PaymentHistory:
    """One page of payments, latest first (account_id, paid_on, amount, channel, month);
    out-of-range pages clamp."""
    params = {"ids": wanted.account_ids, "first": date.min, "last": date.max}
    first, last = read(_PAYMENT_SPAN, params).one()
    years = list(range(last.year, first.year - 1, -1)) if first else []
    if wanted.year is not None:
        params.update(first=date(wanted.year, 1, 1), last=date(wanted.year, 12, 31))
    total = read(_PAYMENT_COUNT, params).scalar_one()
    pages = max(1, math.ceil(total / per_page))
    number = min(max(page, 1), pages)
    params.update(limit=per_page, offset=(number - 1) * per_page)
    rows = read(_PAYMENT_PAGE, params).all()
    return PaymentHistory(Page(rows, number, pages), years)


_LATEST_PAYMENTS = (
    select(Payment.paid_on, Payment.amount, Payment.channel)
    .where(Payment.account_id == bindparam("account_id"))
    .order_by(Payment.paid_on.desc(), Payment.id.desc())
    .limit(bindparam("count", type_=Integer))
)


def latest_payments(account_id: int, count: int) -> list:
    """The account's ``count`` latest payments, latest first: date, amount, channel."""
    return read(_LATEST_PAYMENTS, {"account_id": account_id, "count": count}).all()
