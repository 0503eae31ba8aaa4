"""`flask maintenance purge`: ended or expired sessions, expired emailed passwords, sent mail,
failed «Привязать» attempts and failed logins are deleted once their retention has passed, and
nothing still in use."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from conftest import NOW, make_user
from lkabonent.extensions import db
from lkabonent.models import EmailedPassword, LinkFailure, LoginFailure, OutgoingMail, UserSession

DAY = timedelta(days=1)


def ago(days: float):
    return NOW - days * DAY


@pytest.fixture
def rows(app):
    """Rows on both sides of each default retention (30, 7, 30, 30 and 30 days), by name."""
    user_id = make_user(app, "old@example.ru")

    def session(name, seen, expires, ended=None):
        return UserSession(
            token_hash=name.ljust(64, "0"),
            user_id=user_id,
            created_at=seen - timedelta(hours=1),
            last_seen_at=seen,
            expires_at=expires,
            ended_at=ended,
        )

    def password(name, expires):
        return EmailedPassword(
            email=f"{name}@example.ru",
            purpose=EmailedPassword.REGISTER,
            password_hash="x",
            created_at=expires - timedelta(minutes=30),
            expires_at=expires,
        )

    def mail(name, created, sent=None):
        return OutgoingMail(
            recipient=f"{name}@example.ru",
            subject=name,
            body_text="",
            body_html="",
            created_at=created,
            sent_at=sent,
        )

    def failure(name, created):
        return LinkFailure(user_id=user_id, account_number=name, created_at=created)

    def login_failure(name, created):
        return LoginFailure(login=f"{name}@example.ru", created_at=created)

    half_hour = timedelta(minutes=30)
    written = {
        "ended long ago": session("a", ago(31), ago(31) + half_hour, ended=ago(31)),
        "ended lately": session("b", ago(29), ago(29) + half_hour, ended=ago(29)),
        "session expired long ago": session("c", ago(31) - half_hour, ago(31)),
        "session expired lately": session("d", ago(29) - half_hour, ago(29)),
        "live": session("e", NOW, NOW + half_hour),
        "expired long ago": password("gone", ago(8)),
        "expired lately": password("kept", ago(6)),
        "sent long ago": mail("gone", ago(31), ago(31)),
        "sent lately": mail("kept", ago(2), ago(1)),
        "never sent": mail("queued", ago(400)),
        "failed long ago": failure("gone", ago(31)),
        "failed lately": failure("kept", ago(1)),
        "login failed long ago": login_failure("gone", ago(31)),
        "login failed lately": login_failure("kept", ago(1)),
    }
    with app.app_context():
        db.session.add_all(written.values())
        db.session.commit()
        return {name: (type(row), row.id) for name, row in written.items()}


def left(app, rows) -> set[str]:
    with app.app_context():
        return {
            name
            for name, (model, row_id) in rows.items()
            if db.session.scalar(select(model.id).where(model.id == row_id)) is not None
        }


def purge(app):
    with time_machine.travel(NOW, tick=False):
        return app.test_cli_runner().invoke(args=["maintenance", "purge"])


def test_purge_deletes_what_its_retention_has_passed_and_nothing_in_use(app, rows):
    result = purge(app)
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Удалено: завершенных сеансов — 2, высланных паролей — 1, отправленных писем — 1, "
        "неудачных попыток привязки — 1, неудачных входов — 1.\n"
    )
    assert left(app, rows) == {
        "ended lately",
        "session expired lately",
        "live",
        "expired lately",
        "sent lately",
        "never sent",
        "failed lately",
        "login failed lately",
    }
    again = purge(app)
    assert again.output == (
        "Удалено: завершенных сеансов — 0, высланных паролей — 0, отправленных писем — 0, "
        "неудачных попыток привязки — 0, неудачных входов — 0.\n"
    )


def test_the_retentions_are_settings(make_app, rows):
    app = make_app(
        ENDED_SESSION_RETENTION_DAYS=0,
        EMAILED_PASSWORD_RETENTION_DAYS=0,
        SENT_MAIL_RETENTION_DAYS=0,
        LINK_FAILURE_RETENTION_DAYS=0,
        LOGIN_FAILURE_RETENTION_DAYS=0,
    )
    assert purge(app).exit_code == 0
    assert left(app, rows) == {"live", "never sent"}
