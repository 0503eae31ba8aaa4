"""Database models: users and their sessions, emailed passwords, accounts, links and mail."""

from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
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
    """A server-side session record: logout and password changes end it for good."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
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


def render_item(type_, obj, autogen_context):
    """Alembic autogenerate: write UTCDateTime as the plain DateTime it is stored as."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False
