"""Database models: users and their sessions, emailed passwords, accounts, links and mail,
and the accounting system's data: services, charges, payments, meters and readings."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import ClassVar

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from .clock import utcnow
from .extensions import db


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every database; SQLite would otherwise drop the zone."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Fixed(TypeDecorator):
    """A Decimal with a fixed number of places, stored as a scaled integer (kopecks for money):
    SQLite keeps Numeric as a float, which cannot hold 0.10 exactly. Bulk SQL (billing/importer.py,
    demo.py) writes the scaled integers directly."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int):
        super().__init__()
        self.places = places

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("a float given to a Fixed column: pass a Decimal or an int")
        scaled = Decimal(value).scaleb(self.places)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.places} decimal places")
        return int(scaled)

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value).scaleb(-self.places)


MONEY_PLACES = 2
Money = Fixed(MONEY_PLACES)  # roubles with kopecks
AREA_PLACES = 2  # m²
VOLUME_PLACES = 4  # kWh, m³, Gcal
TARIFF_PLACES = 4  # roubles per unit


class User(UserMixin, db.Model):
    """A subscriber's cabinet; the login is an email address, stored normalised."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses to log in a disabled cabinet."""
        return self.is_enabled


class EmailedPassword(db.Model):
    """A random password sent by mail to register or to recover access; only its hash is kept."""

    __tablename__ = "emailed_passwords"
    __table_args__ = (Index(None, "email", "purpose"),)

    REGISTER = "register"
    RESET = "reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    purpose: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    client_ip: Mapped[str | None] = mapped_column(String(45))


class Consent(db.Model):
    """Consent to the processing of personal data (152-ФЗ): when, from where, which text."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    policy_version: Mapped[str] = mapped_column(String(32))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    client_ip: Mapped[str | None] = mapped_column(String(45))


class UserSession(db.Model):
    """A server-side session record: logout and password changes end it for good, and it
    expires by itself when idle too long or too old (auth/sessions.py)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last request seen, to the minute: «Последняя активность» on the sessions page.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The idle limit after last_seen_at, capped by the absolute limit after created_at.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client_ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship()


class Account(db.Model):
    """A billing account (лицевой счет) as the accounting system knows it."""

    __tablename__ = "accounts"

    ACTIVE = "active"
    CLOSED = "closed"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(10), unique=True)
    address: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    owner_surname: Mapped[str] = mapped_column(String(100))
    # The payer as the receipt prints them, e.g. «Иванов Иван Иванович».
    owner_name: Mapped[str | None] = mapped_column(String(200))
    total_area: Mapped[Decimal | None] = mapped_column(Fixed(AREA_PLACES))
    residents: Mapped[int | None] = mapped_column(Integer)

    @property
    def status_label(self) -> str:
        """The status as the accounts table shows it."""
        return "Действующий" if self.status == self.ACTIVE else "Закрыт"


class AccountContact(db.Model):
    """An email the accounting system holds as a contact of an account."""

    __tablename__ = "account_contacts"
    __table_args__ = (UniqueConstraint("account_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254), index=True)

    @validates("email")
    def _lower(self, key, value: str) -> str:
        """Logins are stored in lower case; a contact must match them whatever its case."""
        return value.strip().lower()


class AccountLink(db.Model):
    """An account shown in a cabinet. An unlinked one keeps its row so it is not linked back."""

    __tablename__ = "account_links"
    __table_args__ = (UniqueConstraint("user_id", "account_id"),)

    BY_CONTACT = "contact"
    BY_OWNER = "owner"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unlinked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the subscriber last chose this account in the cabinet's selector: the latest one is
    # shown until they choose another, from any browser.
    selected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship()


class LinkFailure(db.Model):
    """A failed «Привязать» attempt; the limits per user and per account number count these."""

    __tablename__ = "link_failures"
    __table_args__ = (
        Index(None, "user_id", "created_at"),
        Index(None, "account_number", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    account_number: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    client_ip: Mapped[str | None] = mapped_column(String(45))


class LoginFailure(db.Model):
    """A refused «Войти», by the login as typed (normalised), whether a cabinet has it or not:
    the limit per account counts these, in the database, across all workers and clients."""

    __tablename__ = "login_failures"
    __table_args__ = (Index(None, "login", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    client_ip: Mapped[str | None] = mapped_column(String(45))


class OutgoingMail(db.Model):
    """The outbox. Bodies are encrypted: they may carry an emailed password."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (Index(None, "sent_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


# The days of the month readings are taken on, unless a service says otherwise.
DEFAULT_READING_WINDOW = (15, 25)


class Service(db.Model):
    """A service of the accounting system (electricity, cold water, пени…) and the days of the
    month its meter readings are taken."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(20))
    reading_window_start: Mapped[int] = mapped_column(Integer, default=DEFAULT_READING_WINDOW[0])
    reading_window_end: Mapped[int] = mapped_column(Integer, default=DEFAULT_READING_WINDOW[1])
    is_penalty: Mapped[bool] = mapped_column(default=False)


class Charge(db.Model):
    """One line of a month's bill: an account's charges for one service in one month."""

    __tablename__ = "charges"
    __table_args__ = (UniqueConstraint("account_id", "month", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    month: Mapped[date]  # the first day of the month
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    volume: Mapped[Decimal | None] = mapped_column(Fixed(VOLUME_PLACES))
    tariff: Mapped[Decimal | None] = mapped_column(Fixed(TARIFF_PLACES))
    accrued: Mapped[Decimal] = mapped_column(Money)
    recalculation: Mapped[Decimal] = mapped_column(Money)
    recalculation_reason: Mapped[str | None] = mapped_column(String(300))
    benefit: Mapped[Decimal] = mapped_column(Money)
    paid: Mapped[Decimal] = mapped_column(Money)
    opening_balance: Mapped[Decimal] = mapped_column(Money)
    # What is to be paid for the month: the accounting system's closing balance.
    closing_balance: Mapped[Decimal] = mapped_column(Money)

    service: Mapped[Service] = relationship()


class Payment(db.Model):
    """A payment the accounting system received for an account."""

    __tablename__ = "payments"
    __table_args__ = (Index(None, "account_id", "paid_on"),)

    CHANNELS: ClassVar[dict[str, str]] = {
        "bank": "Банк",
        "cash": "Касса",
        "online": "Онлайн",
        "post": "Почта",
        "other": "Прочее",
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    paid_on: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Money)
    channel: Mapped[str] = mapped_column(String(16))
    month: Mapped[date | None]  # the month paid for, when the payer named one


class Meter(db.Model):
    """A meter (прибор учета) installed for an account's service."""

    __tablename__ = "meters"
    __table_args__ = (CheckConstraint("zones BETWEEN 1 AND 3", name="zones"),)

    ACTIVE = "active"
    REMOVED = "removed"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    serial_number: Mapped[str] = mapped_column(String(64))
    place: Mapped[str | None] = mapped_column(String(100))
    zones: Mapped[int] = mapped_column(Integer, default=1)
    digits: Mapped[int] = mapped_column(Integer)  # before the decimal point
    decimals: Mapped[int] = mapped_column(Integer, default=0)  # after it
    installed_on: Mapped[date | None]
    next_verification_on: Mapped[date | None]
    is_remote_read: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)

    account: Mapped[Account] = relationship()
    service: Mapped[Service] = relationship()


class ReadingExport(db.Model):
    """One run of `flask billing export-readings`: the readings it handed over."""

    __tablename__ = "reading_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    readings: Mapped[int] = mapped_column(Integer, default=0)


class Reading(db.Model):
    """A meter reading for one zone and month, from the accounting system or the portal.

    A portal reading is «принято» when submitted, «передано в расчет» once exported, and gets the
    accounting system's verdict when a readings file names its id (portal_id)."""

    __tablename__ = "readings"
    __table_args__ = (
        UniqueConstraint("meter_id", "zone", "month", "source"),
        Index(None, "export_batch_id"),
        # What the next export takes: portal readings without a batch, few among many.
        Index(
            "ix_readings_unexported",
            "id",
            postgresql_where=text("source = 'portal' AND export_batch_id IS NULL"),
            sqlite_where=text("source = 'portal' AND export_batch_id IS NULL"),
        ),
        CheckConstraint("zone BETWEEN 1 AND 3", name="zone"),
    )

    BILLING = "billing"
    PORTAL = "portal"
    SOURCES: ClassVar[dict[str, str]] = {BILLING: "система учета", PORTAL: "портал"}
    # The same, as readings files spell them (docs/exchange-format.md).
    FILE_SOURCES: ClassVar[dict[str, str]] = {BILLING: "учет", PORTAL: "портал"}

    ACCEPTED = "accepted"
    EXPORTED = "exported"
    REJECTED = "rejected"
    STATES: ClassVar[dict[str, str]] = {
        ACCEPTED: "принято",
        EXPORTED: "передано в расчет",
        REJECTED: "отклонено",
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id", ondelete="CASCADE"))
    zone: Mapped[int] = mapped_column(Integer, default=1)
    month: Mapped[date]  # the first day of the month
    value: Mapped[int] = mapped_column(BigInteger)  # whole units
    source: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=ACCEPTED)
    rejection_reason: Mapped[str | None] = mapped_column(String(300))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    export_batch_id: Mapped[int | None] = mapped_column(ForeignKey("reading_exports.id"))

    meter: Mapped[Meter] = relationship()

    @property
    def state_label(self) -> str:
        return self.STATES[self.state]


class BillingImport(db.Model):
    """One file `flask billing import` read: what it held and what became of it."""

    __tablename__ = "billing_imports"
    __table_args__ = (Index(None, "result", "finished_at"),)

    DONE = "done"  # every row written
    PARTIAL = "partial"  # --skip-invalid: the valid rows written, the others set aside
    REJECTED = "rejected"  # nothing written

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(String(500))


def render_item(type_, obj, autogen_context):
    """Alembic autogenerate: write the stored type of UTCDateTime and Fixed columns."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    if type_ == "type" and isinstance(obj, Fixed):
        return "sa.BigInteger()"
    return False
