"""Housekeeping, `flask maintenance purge` (run daily by a timer): what the portal keeps only for
a while is deleted once its retention, a setting in days, has passed. Rows still in use are
never touched: live sessions, emailed passwords until they expire, mail not sent yet.

Consents keep the address they were given from, as the proof of consent that 152-ФЗ asks for;
the addresses in sessions, emailed passwords, failed «Привязать» and failed logins go with their
rows."""

from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import delete, func

from .extensions import db
from .models import EmailedPassword, LinkFailure, LoginFailure, OutgoingMail, UserSession


class Retention(NamedTuple):
    """Rows of a kind older than a number of days (setting) by one of their moments."""

    setting: str
    model: type
    moment: object  # the SQL expression whose value must be older than the retention
    label: str  # what the command reports, in Russian


RETENTIONS = (
    Retention(
        "ENDED_SESSION_RETENTION_DAYS",
        UserSession,
        # Ended by «Выйти» or a password change, or else expired (it never ends after that).
        func.coalesce(UserSession.ended_at, UserSession.expires_at),
        "завершенных сеансов",
    ),
    Retention(
        "EMAILED_PASSWORD_RETENTION_DAYS",
        EmailedPassword,
        EmailedPassword.expires_at,
        "высланных паролей",
    ),
    Retention("SENT_MAIL_RETENTION_DAYS", OutgoingMail, OutgoingMail.sent_at, "отправленных писем"),
    Retention(
        "LINK_FAILURE_RETENTION_DAYS",
        LinkFailure,
        LinkFailure.created_at,
        "неудачных попыток привязки",
    ),
    Retention(
        "LOGIN_FAILURE_RETENTION_DAYS", LoginFailure, LoginFailure.created_at, "неудачных входов"
    ),
)


def purge(now: datetime) -> dict[str, int]:
    """Delete the rows past their retention (settings, checked at start-up), in one
    transaction; how many of each kind, by label."""
    deleted = {}
    for retention in RETENTIONS:
        cutoff = now - timedelta(days=current_app.config[retention.setting])
        result = db.session.execute(delete(retention.model).where(retention.moment < cutoff))
        deleted[retention.label] = result.rowcount
    db.session.commit()
    return deleted
