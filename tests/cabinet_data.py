"""Rows of the accounting system's data for tests of the cabinet's sections: services, charges,
payments, meters and readings, written in an application context of their own (see
tests/conftest.py on why) and handed back as plain ids.

    ids = CabinetData(app)
    service = ids.service("cold_water", "Холодное водоснабжение", "м³")
    ids.charge(account.id, date(2026, 10, 1), service, accrued="100.00", closing="100.00")
"""

from datetime import UTC, date, datetime
from decimal import Decimal

from conftest import LOGIN, make_user
from lkabonent.extensions import db
from lkabonent.models import (
    AccountLink,
    Charge,
    Meter,
    Payment,
    Reading,
    ReadingExport,
    Service,
)

RECEIVED = datetime(2026, 10, 20, 7, 0, tzinfo=UTC)
OCTOBER, SEPTEMBER = date(2026, 10, 1), date(2026, 9, 1)


class CabinetData:
    """Writes rows one call at a time; every call commits."""

    def __init__(self, app):
        self.app = app
        self._serial = 0

    def _add(self, row) -> int:
        with self.app.app_context():
            db.session.add(row)
            db.session.commit()
            return row.id

    def _next(self) -> int:
        self._serial += 1
        return self._serial

    def service(
        self,
        code: str = "cold_water",
        name: str = "Холодное водоснабжение",
        unit: str = "м³",
        window: tuple[int, int] = (15, 25),
        is_penalty: bool = False,
    ) -> int:
        return self._add(
            Service(
                code=code,
                name=name,
                unit=unit,
                reading_window_start=window[0],
                reading_window_end=window[1],
                is_penalty=is_penalty,
            )
        )

    def charge(
        self,
        account_id: int,
        month: date,
        service_id: int,
        *,
        volume: str | None = None,
        tariff: str | None = None,
        accrued: str = "0",
        recalculation: str = "0",
        reason: str | None = None,
        benefit: str = "0",
        paid: str = "0",
        opening: str = "0",
        closing: str | None = None,
    ) -> int:
        """A line of a bill; ``closing`` defaults to what the others add up to."""
        values = {
            name: Decimal(value)
            for name, value in dict(
                accrued=accrued, recalculation=recalculation, benefit=benefit, paid=paid
            ).items()
        }
        if closing is None:
            closing = str(
                Decimal(opening)
                + values["accrued"]
                + values["recalculation"]
                - values["benefit"]
                - values["paid"]
            )
        return self._add(
            Charge(
                account_id=account_id,
                month=month,
                service_id=service_id,
                volume=None if volume is None else Decimal(volume),
                tariff=None if tariff is None else Decimal(tariff),
                recalculation_reason=reason,
                opening_balance=Decimal(opening),
                closing_balance=Decimal(closing),
                **values,
            )
        )

    def bill_services(self) -> dict[str, int]:
        """The services of two_bills(); their ids, by code."""
        return {
            "cold_water": self.service("cold_water", "Холодное водоснабжение", "м³"),
            "electricity": self.service("electricity", "Электроснабжение", "кВт·ч"),
            "penalty": self.service("penalty", "Пени", "руб.", is_penalty=True),
        }

    def two_bills(self, account_id: int, services: dict[str, int], benefit: str = "0") -> None:
        """September's and October's bills of an account: cold water both months (October's
        recalculated), electricity (less ``benefit``) and пени in October. September asks
        225,62; October 363,80 + 771,60 − benefit + 12,34."""
        water = services["cold_water"]
        self.charge(
            account_id,
            SEPTEMBER,
            water,
            volume="5",
            tariff="45.1234",
            accrued="225.62",
            opening="1000",
            paid="1000",
        )
        self.charge(
            account_id,
            OCTOBER,
            water,
            volume="5.5",
            tariff="45.1234",
            accrued="248.18",
            recalculation="-10.00",
            reason="Перерасчет по показаниям",
            opening="225.62",
            paid="100",
        )
        self.charge(
            account_id,
            OCTOBER,
            services["electricity"],
            volume="120",
            tariff="6.43",
            accrued="771.60",
            benefit=benefit,
        )
        self.charge(account_id, OCTOBER, services["penalty"], accrued="12.34")

    def payment(
        self,
        account_id: int,
        paid_on: date,
        amount: str,
        channel: str = "bank",
        month: date | None = None,
    ) -> int:
        return self._add(
            Payment(
                external_id=f"P{self._next()}",
                account_id=account_id,
                paid_on=paid_on,
                amount=Decimal(amount),
                channel=channel,
                month=month,
            )
        )

    def meter(
        self,
        account_id: int,
        service_id: int,
        *,
        serial: str | None = None,
        zones: int = 1,
        digits: int = 5,
        verification: date | None = date(2030, 1, 1),
        remote: bool = False,
        status: str = Meter.ACTIVE,
        place: str = "Кухня",
    ) -> int:
        serial_number = serial or f"SN-{self._next():05d}"
        return self._add(
            Meter(
                external_id=f"M-{serial_number}",
                account_id=account_id,
                service_id=service_id,
                serial_number=serial_number,
                place=place,
                zones=zones,
                digits=digits,
                decimals=3,
                next_verification_on=verification,
                is_remote_read=remote,
                status=status,
            )
        )

    def reading(
        self,
        meter_id: int,
        month: date,
        value: int,
        *,
        zone: int = 1,
        source: str = Reading.BILLING,
        state: str = Reading.ACCEPTED,
        reason: str | None = None,
        exported: bool = False,
    ) -> int:
        """A reading; ``exported`` puts a portal one in an export batch of its own."""
        batch_id = self._add(ReadingExport(readings=1)) if exported else None
        return self._add(
            Reading(
                meter_id=meter_id,
                zone=zone,
                month=month,
                value=value,
                source=source,
                state=state,
                rejection_reason=reason,
                received_at=RECEIVED,
                export_batch_id=batch_id,
                exported_at=RECEIVED if exported else None,
            )
        )

    def monthly_readings(
        self, meter_id: int, first: date, values: list[int], zone: int = 1
    ) -> list[int]:
        """Accepted readings of consecutive months from ``first``, one per value."""
        ids = []
        for index, value in enumerate(values):
            serial = first.year * 12 + first.month - 1 + index
            month = date(serial // 12, serial % 12 + 1, 1)
            ids.append(self.reading(meter_id, month, value, zone=zone))
        return ids

    def subscriber(self, *account_ids: int, email: str = LOGIN) -> int:
        """A cabinet with these accounts linked; its id."""
        user_id = make_user(self.app, email)
        for account_id in account_ids:
            self._add(
                AccountLink(user_id=user_id, account_id=account_id, source=AccountLink.BY_OWNER)
            )
        return user_id
