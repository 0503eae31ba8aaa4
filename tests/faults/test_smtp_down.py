"""The SMTP server goes down while a subscriber asks for a password: step two says the mail is
late, the mail stays in the outbox, and `flask mail send-pending` (cron's job) delivers it once
the server is back, and never twice. The portal runs under gunicorn, the command as a process
of its own, as in production."""

import pytest

from conftest import MAIL_FAILED, emailed_password, outbox

from .servers import Browser, Gunicorn, SmtpServer, flask_command, portal_environment

pytestmark = pytest.mark.faults


@pytest.fixture
def smtp():
    """This test's own SMTP server, running."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def portal(postgres, smtp, tmp_path):
    env = portal_environment(postgres.url(), MAIL_PORT=smtp.port)
    server = Gunicorn(env, tmp_path / "gunicorn.log")
    server.start()
    yield server
    server.stop()


def send_pending(portal) -> tuple[int, str]:
    """`flask mail send-pending` with the portal's settings: its exit code and output."""
    result = flask_command(portal.env, "mail", "send-pending")
    return result.returncode, result.stdout + result.stderr


def test_mail_waits_in_the_outbox_while_smtp_is_down_and_goes_out_once(app, portal, smtp):
    browser = Browser()
    assert browser.post(portal.url("/register"), {"email": "first@example.ru"}).status == 200
    assert [message["To"] for message in smtp.messages] == ["first@example.ru"]

    smtp.stop()
    response = browser.post(portal.url("/register"), {"email": "later@example.ru"})

    assert response.status == 200
    assert MAIL_FAILED in response.body
    assert "Зарегистрироваться" in response.body  # step two, to type the password once it comes
    [late] = [row for row in outbox(app) if row.sent_at is None]
    assert late.recipient == "later@example.ru" and late.attempts == 1 and late.last_error
    code, output = send_pending(portal)  # the server is still down: the mail stays queued
    assert code == 1, output
    assert "Отправлено писем: 0; не удалось отправить: 1." in output

    smtp.start()
    code, output = send_pending(portal)
    assert code == 0, output
    assert "Отправлено писем: 1; не удалось отправить: 0." in output
    code, output = send_pending(portal)
    assert code == 0, output
    assert "Отправлено писем: 0; не удалось отправить: 0." in output

    assert [message["To"] for message in smtp.messages] == [
        "first@example.ru",
        "later@example.ru",
    ]
    assert all(row.sent_at is not None for row in outbox(app))
    confirm = browser.post(
        portal.url("/register/confirm"),
        {
            "email": "later@example.ru",
            "password": emailed_password(smtp.messages[-1]),
            "consent": "y",
        },
    )
    assert confirm.status == 303
    assert confirm.headers["Location"] == "/cabinet/"
