"""Housekeeping, `flask maintenance purge` (run daily by a timer): what the portal keeps only for
a while is deleted once its retention, a setting in days, has passed. Rows still in use are
never touched: live sessions, emailed passwords until they expire, mail not sent yet.

Consents keep the address they were given from, as the proof of consent that 152-ФЗ asks for;
the addresses in sessions, emailed passwords and failed «Привязать» go with their rows."""

from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import delete

from .extensions import db
from .models import EmailedPassword, LinkFailure, OutgoingMail, UserSession


class Retention(NamedTuple):
    """Rows of a kind older than a number of days (setting) by one of their moments."""

    setting: str
    moment: object  # the column whose value must be older than the retention
    label: str  # what the command reports, in Russian


RETENTIONS = (
    Retention("ENDED_SESSION_RETENTION_DAYS", UserSession.ended_at, "завершенных сеансов"),
    Retention("EMAILED_PASSWORD_RETENTION_DAYS", EmailedPassword.expires_at, "высланных паролей"),
    Retention("SENT_MAIL_RETENTION_DAYS", OutgoingMail.sent_at, "отправленных писем"),
    Retention("LINK_FAILURE_RETENTION_DAYS", LinkFailure.created_at, "неудачных попыток привязки"),
)


def purge(now: datetime) -> dict[str, int]:
    """Delete the rows past their retention (settings, checked at start-up), in one
    transaction; how many of each kind, by label."""
    deleted = {}
    for retention in RETENTIONS:
        cutoff = now - timedelta(days=current_app.config[retention.setting])
        table = retention.moment.class_
        result = db.session.execute(delete(table).where(retention.moment < cutoff))
        deleted[retention.label] = result.rowcount
    db.session.commit()
    return deleted
