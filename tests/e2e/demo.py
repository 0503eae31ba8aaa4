"""The demo data of `flask demo seed` in the browser tests: seeded for a test, and read and
adjusted the way the tests need it."""

import re
from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import delete, func, select, update

from lkabonent.billing.services import local_today
from lkabonent.cabinet.finance import debts
from lkabonent.demo import seed
from lkabonent.extensions import db
from lkabonent.models import Account, BillingImport, Charge, Meter, Payment, Reading, Service

FIRST, SECOND = "1080000001", "1080000002"
# A sum of roubles as the cabinet writes it: «3 655,00 ₽» (the spaces are non-breaking).
MONEY = re.compile(r"^-?\d{1,3}(\s\d{3})*,\d{2}\s₽$")
# The accounting system's latest file came in at 06:30 Simferopol time on the 1st of the month.
RECEIVED_AT = "06:30"


class Demo:
    """The demo data as the tests read and adjust it; each call in an application context of
    its own, committed (see tests/conftest.py on why no context stays pushed)."""

    def __init__(self, app):
        self.app = app
        self.today = self.run(local_today)

    def run(self, work, *args):
        with self.app.app_context():
            result = work(*args)
            db.session.commit()
            return result

    def execute(self, statement) -> None:
        self.run(db.session.execute, statement)

    def account_id(self, number: str) -> int:
        return self.run(db.session.scalar, select(Account.id).where(Account.number == number))

    def debt(self, number: str):
        """The account's debt as Задолженность computes it."""
        return self.run(
            lambda: debts([db.session.scalar(select(Account).where(Account.number == number))])[0]
        )

    def latest_month(self, number: str) -> date:
        return self.run(
            db.session.scalar,
            select(func.max(Charge.month)).where(Charge.account_id == self.account_id(number)),
        )

    def to_pay(self, number: str, month: date):
        """The sum of the month's closing balances: what its bill asks to pay."""
        return self.run(
            db.session.scalar,
            select(func.sum(Charge.closing_balance)).where(
                Charge.account_id == self.account_id(number), Charge.month == month
            ),
        )

    def charge_lines(self, number: str, month: date) -> int:
        return self.run(
            db.session.scalar,
            select(func.count(Charge.id)).where(
                Charge.account_id == self.account_id(number), Charge.month == month
            ),
        )

    def payments(self, *numbers: str, year: int | None = None) -> list[tuple]:
        """(amount, paid_on) of the accounts' payments, latest first, as the portal orders them."""
        query = (
            select(Payment.amount, Payment.paid_on)
            .join(Account, Account.id == Payment.account_id)
            .where(Account.number.in_(numbers))
            .order_by(Payment.paid_on.desc(), Payment.id.desc())
        )
        if year is not None:
            query = query.where(Payment.paid_on.between(date(year, 1, 1), date(year, 12, 31)))
        return [tuple(row) for row in self.run(lambda: db.session.execute(query).all())]

    def charted_services(self, number: str) -> list[tuple[str, str]]:
        """(name, unit) of the services whose volume changed from month to month (by area or
        residents it does not: no chart), by name."""
        query = (
            select(Service.name, Service.unit)
            .join(Charge, Charge.service_id == Service.id)
            .where(
                Charge.account_id == self.account_id(number),
                Charge.volume.is_not(None),
                Service.is_penalty.is_(False),
            )
            .group_by(Service.name, Service.unit)
            .having(func.count(Charge.volume.distinct()) > 1)
            .order_by(Service.name)
        )
        return [tuple(row) for row in self.run(lambda: db.session.execute(query).all())]

    def volume(self, number: str, code: str, month: date):
        return self.run(
            db.session.scalar,
            select(Charge.volume)
            .join(Service, Service.id == Charge.service_id)
            .where(
                Charge.account_id == self.account_id(number),
                Service.code == code,
                Charge.month == month,
            ),
        )

    def meters(self, number: str) -> list:
        """The account's meters in the order of Приборы учета, with their service."""
        query = (
            select(
                Meter.id,
                Meter.serial_number.label("serial"),
                Meter.place,
                Meter.zones,
                Meter.digits,
                Meter.is_remote_read,
                Meter.next_verification_on,
                Service.code,
                Service.name.label("service"),
                Service.unit,
            )
            .join(Service, Service.id == Meter.service_id)
            .where(Meter.account_id == self.account_id(number))
            .order_by(Service.id, Meter.serial_number)
        )
        return self.run(lambda: db.session.execute(query).all())

    def verify_meters(self, number: str) -> None:
        """Move the verification of all the account's meters three years ahead."""
        self.execute(
            update(Meter)
            .where(Meter.account_id == self.account_id(number))
            .values(next_verification_on=self.today + timedelta(days=3 * 365))
        )

    def readings(self, meter_id: int, zone: int = 1) -> list[tuple[date, int]]:
        """(month, value) of the meter's readings of a zone, latest first."""
        query = (
            select(Reading.month, Reading.value)
            .where(Reading.meter_id == meter_id, Reading.zone == zone)
            .order_by(Reading.month.desc())
        )
        return [tuple(row) for row in self.run(lambda: db.session.execute(query).all())]


def seed_demo(app) -> Demo:
    """The demo data: 8 accounts, 24 months up to the last one; reading windows open all month;
    the accounting system's latest file came in at 06:30 on the 1st of this month."""
    with app.app_context():
        seed(accounts=8, months=24)
        db.session.execute(update(Service).values(reading_window_start=1, reading_window_end=31))
        first = local_today().replace(day=1)
        received = datetime(first.year, first.month, 1, 3, 30, tzinfo=UTC)  # UTC+3
        db.session.execute(delete(BillingImport))  # the seed's own, if it records one
        db.session.add(
            BillingImport(
                file_name="charges.csv",
                kind="charges",
                started_at=received,
                finished_at=received,
                rows=10,
                inserted=10,
                result=BillingImport.DONE,
            )
        )
        db.session.commit()
    return Demo(app)


def money_of(locator) -> None:
    """Every sum in ``locator`` is written the Russian way, with the rouble sign."""
    for amount in locator.all():
        expect(amount).to_have_text(MONEY)
