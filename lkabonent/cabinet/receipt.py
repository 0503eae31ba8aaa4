"""«Печать квитанции»: the monthly receipt (ЕПД) of an account and its payment QR code
(ГОСТ Р 56042-2014, lkabonent/payment_qr.py)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, select

from .. import payment_qr
from ..extensions import read
from ..models import Account
from .finance import ZERO, Statement, add_months, statement

# The payee's requisites (settings, PAYEE) and the fields of the payment code that carry them;
# the portal does not start with requisites these fields cannot hold (lkabonent/__init__.py).
PAYEE_FIELDS = {
    "name": "Name",
    "account": "PersonalAcc",
    "bank": "BankName",
    "bic": "BIC",
    "correspondent_account": "CorrespAcc",
    "inn": "PayeeINN",
    "kpp": "KPP",
}
# The standard sets no length for PayerAddress. The portal cuts it at 160 characters, as long
# as Name: a full Russian address (region, town, street, house, flat) takes 60–120, and each
# character more makes the code denser for a phone's camera to read off paper.
PAYER_ADDRESS_LENGTH = 160
# Nor for LastName: the accounting system's surname column holds 100.
LAST_NAME_LENGTH = 100
# TechCode 02: housing and utility services.
HOUSING_AND_UTILITIES = "02"


@dataclass(frozen=True)
class Receipt:
    """A month's receipt: the payer (account row with number, address, owner), the payee's
    requisites, the month's statement per service and the day it is due."""

    payer: object
    payee: dict
    statement: Statement
    due_on: date

    @property
    def month(self) -> date:
        return self.statement.month

    @property
    def charged(self) -> Decimal:
        """The month's charges: accrued, recalculated, less benefits."""
        totals = self.statement.totals
        return totals.accrued + totals.recalculation - totals.benefit

    @property
    def to_pay(self) -> Decimal:
        """What the receipt asks to pay: the accounting system's closing balance (negative when
        paid in advance)."""
        return self.statement.totals.to_pay

    @property
    def owed(self) -> Decimal:
        """What is to be paid by the receipt: the total to pay, or 0 when it was paid in
        advance."""
        return max(self.to_pay, ZERO)

    @property
    def purpose(self) -> str:
        """The payment's purpose, as the bank shows it: short, as every character makes the code
        denser."""
        return f"Оплата ЖКУ за {self.month:%m.%Y}, лицевой счет {self.payer.number}"

    def payment_code(self) -> str:
        """The string of the payment QR code. Sum is what the receipt asks to pay, in kopecks,
        and is left out when nothing is owed; the payer's free text is made to fit."""
        fields = {field: self.payee[key] for key, field in PAYEE_FIELDS.items()}
        if self.owed:
            fields["Sum"] = str(int(self.owed.scaleb(2)))
        optional = {
            "Purpose": payment_qr.fit(self.purpose, payment_qr.FIELDS["Purpose"].max_length),
            "PersAcc": self.payer.number,
            "LastName": payment_qr.fit(self.payer.owner_surname, LAST_NAME_LENGTH),
            "PayerAddress": payment_qr.fit(self.payer.address, PAYER_ADDRESS_LENGTH),
            "PaymPeriod": f"{self.month:%m.%Y}",
            "TechCode": HOUSING_AND_UTILITIES,
        }
        fields.update((name, value) for name, value in optional.items() if value)
        return payment_qr.build(fields)


_PAYER = select(
    Account.number,
    Account.address,
    Account.owner_surname,
    Account.owner_name,
    Account.total_area,
    Account.residents,
).where(Account.id == bindparam("account_id"))


def due_date(month: date, due_day: int) -> date:
    """The day a month's bill is due: ``due_day`` of the next month."""
    return add_months(month, 1).replace(day=due_day)


def receipt(account_id: int, month: date, payee: dict, due_day: int) -> Receipt:
    """The receipt of the account for ``month`` (a month with charges): two queries."""
    payer = read(_PAYER, {"account_id": account_id}).one()
    return Receipt(payer, payee, statement(account_id, month), due_date(month, due_day))
