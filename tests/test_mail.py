"""The outbox: mails survive a dead SMTP server, are retried by `flask mail send-pending`, are
encrypted at rest, and in debug mode without a mail server go to the terminal and /dev/mail."""

import asyncio
import re
import socket
import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from cryptography.fernet import InvalidToken
from sqlalchemy import select

from conftest import (
    EMAILED_PASSWORD,
    LOGIN,
    MAIL_FAILED,
    NOW,
    PASSWORD,
    MailSink,
    emailed_password,
    free_port,
    logged_in,
    make_user,
    outbox,
    text_of,
)
from lkabonent.extensions import db
from lkabonent.mail import CLAIM_TIME, queue_mail, seal, unseal
from lkabonent.models import OutgoingMail, User

SUBJECT = "Пароль для регистрации в личном кабинете"
UNLIMITED = "1000 per minute"
NEW_PASSWORD = {
    "current_password": PASSWORD,
    "new_password": "Новый пароль 2026",
    "new_password_again": "Новый пароль 2026",
}


def send_pending(app):
    return app.test_cli_runner().invoke(args=["mail", "send-pending"])


@pytest.fixture
def dead_smtp_app(make_app):
    """An application whose SMTP server does not answer (nothing listens on the port)."""
    return make_app(MAIL_PORT=free_port())


@pytest.fixture
def live_smtp_app(dead_smtp_app, make_app):
    """The same database with the real test SMTP server."""
    return make_app()


def test_dead_smtp_server_still_shows_step_two_with_a_warning(dead_smtp_app, make_client, mailbox):
    client = make_client(dead_smtp_app)
    response = client.request_password("down@example.ru")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert MAIL_FAILED in body
    assert "Зарегистрироваться" in body  # step two, so the password can be typed once it comes
    assert mailbox == []
    [row] = outbox(dead_smtp_app)
    assert row.recipient == "down@example.ru"
    assert row.sent_at is None and row.claimed_until is None
    assert row.attempts == 1
    assert row.last_error and "Connection" in row.last_error


def test_a_delivered_mail_shows_no_warning(client, mailbox):
    response = client.request_password("up@example.ru")
    assert MAIL_FAILED not in response.get_data(as_text=True)
    assert len(mailbox) == 1


@pytest.fixture
def stalled_smtp_port():
    """A port where connections are accepted by the kernel and then nothing is ever said, as by
    a hung mail server. A watchdog closes the socket, which resets the waiting connection,
    should the application not time out by itself: the test then fails instead of hanging."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        watchdog = threading.Timer(10, listener.close)
        watchdog.start()
        yield listener.getsockname()[1]
        watchdog.cancel()


def test_a_stalled_smtp_server_times_out_and_the_mail_stays_queued(
    make_app, make_client, mailbox, stalled_smtp_port
):
    app = make_app(MAIL_PORT=stalled_smtp_port, MAIL_TIMEOUT=1)
    response = make_client(app).request_password("stalled@example.ru")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert MAIL_FAILED in body and "Зарегистрироваться" in body
    [row] = outbox(app)
    assert row.sent_at is None and row.claimed_until is None and row.attempts == 1
    assert "timed out" in row.last_error
    assert mailbox == []


class AwkwardServer(MailSink):
    """A mail server that misbehaves at one step: it stalls after EHLO, or hangs up on QUIT
    without answering (the mail already accepted)."""

    def __init__(self, stall_at_ehlo=False):
        super().__init__()
        self.stall_at_ehlo = stall_at_ehlo

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        if self.stall_at_ehlo:
            await asyncio.Event().wait()  # never set: the client must give up by itself
        session.host_name = hostname
        return responses

    async def handle_QUIT(self, server, session, envelope):
        server.transport.abort()
        return "221 never sent"


@pytest.fixture
def awkward_smtp():
    """Start an AwkwardServer on a free port; yields a function taking its settings."""
    controllers = []

    def start(**behaviour):
        sink = AwkwardServer(**behaviour)
        controller = Controller(sink, hostname="127.0.0.1", port=free_port())
        controller.start()
        controllers.append(controller)
        return controller.port, sink

    yield start
    for controller in controllers:
        controller.stop()


def test_a_server_hanging_up_on_quit_does_not_fail_a_delivered_mail(
    make_app, make_client, awkward_smtp
):
    port, sink = awkward_smtp()
    app = make_app(MAIL_PORT=port)
    response = make_client(app).request_password("quit@example.ru")
    assert response.status_code == 200
    assert MAIL_FAILED not in response.get_data(as_text=True)
    assert len(sink.messages) == 1
    [row] = outbox(app)
    assert row.sent_at is not None and row.last_error is None


def test_a_server_stalling_after_ehlo_times_out_with_its_own_error(
    make_app, make_client, awkward_smtp
):
    port, sink = awkward_smtp(stall_at_ehlo=True)
    app = make_app(MAIL_PORT=port, MAIL_TIMEOUT=1)
    response = make_client(app).request_password("ehlo@example.ru")
    assert MAIL_FAILED in response.get_data(as_text=True)
    [row] = outbox(app)
    assert row.sent_at is None
    assert "timed out" in row.last_error  # the cause, not a later error from closing
    assert sink.messages == []


def test_password_change_with_the_smtp_server_down_says_the_notice_is_late(
    dead_smtp_app, make_client, mailbox
):
    make_user(dead_smtp_app, LOGIN)
    client = logged_in(make_client(dead_smtp_app))
    response = client.post("/password/change", NEW_PASSWORD)
    assert response.status_code == 303
    body = client.get("/cabinet/").get_data(as_text=True)
    assert "Пароль изменен. Другие сеансы входа завершены." in body
    assert "Уведомление о смене пароля не удалось отправить сразу; мы повторим отправку." in body
    assert make_client(dead_smtp_app).login(LOGIN, "Новый пароль 2026").status_code == 303
    [row] = outbox(dead_smtp_app)
    assert row.recipient == LOGIN and row.subject == "Пароль личного кабинета изменен"
    assert row.sent_at is None and row.last_error
    assert mailbox == []


def mail_links(message) -> list[str]:
    """Every absolute link of the text and the HTML part."""
    markup = message.get_body(preferencelist=("html",)).get_content()
    return re.findall(r"https?://[^\s\"<>]+", text_of(message) + "\n" + markup)


def every_kind_of_mail(app, make_client, mailbox, host) -> list:
    """Each template's mail, asked for by browsers that send the Host header ``host``."""

    def browser():
        return make_client(app, headers={"Host": host})

    make_user(app, LOGIN)
    for address, flow in [
        ("new@example.ru", "register"),
        (LOGIN, "register"),
        (LOGIN, "recover"),
        ("nobody@example.ru", "recover"),
    ]:
        assert browser().request_password(address, flow).status_code == 200
    assert logged_in(browser()).post("/password/change", NEW_PASSWORD).status_code == 303
    assert len(mailbox) == 5
    return list(mailbox)


def test_mail_links_use_public_url_never_the_host_header(make_app, make_client, mailbox):
    app = make_app(PUBLIC_URL="https://lk.example.ru", PASSWORD_REQUEST_LIMIT_PER_EMAIL=UNLIMITED)
    for message in every_kind_of_mail(app, make_client, mailbox, "evil.example"):
        links = mail_links(message)
        assert len(links) >= 2, message["Subject"]  # one in the text, one in the HTML
        assert all(link.startswith("https://lk.example.ru/") for link in links), links
        assert "evil.example" not in message.as_string()


def test_without_public_url_mail_links_use_the_request_address(make_app, make_client, mailbox):
    """Testing and debug have no PUBLIC_URL: the address the browser used stands in."""
    app = make_app(PUBLIC_URL="", PASSWORD_REQUEST_LIMIT_PER_EMAIL=UNLIMITED)
    for message in every_kind_of_mail(app, make_client, mailbox, "portal.test"):
        links = mail_links(message)
        assert len(links) >= 2, message["Subject"]
        assert all(link.startswith("http://portal.test/") for link in links), links


def test_asking_again_after_a_failure_works(
    dead_smtp_app, live_smtp_app, make_client, mailbox, time_machine
):
    time_machine.move_to(NOW, tick=False)
    assert make_client(dead_smtp_app).request_password("retry@example.ru").status_code == 200
    time_machine.move_to(NOW + timedelta(minutes=2), tick=False)  # past the per-address limit
    client = make_client(live_smtp_app)
    response = client.request_password("retry@example.ru")
    assert response.status_code == 200
    assert MAIL_FAILED not in response.get_data(as_text=True)
    assert len(mailbox) == 1
    password = emailed_password(mailbox[0])
    response = client.post(
        "/register/confirm", {"email": "retry@example.ru", "password": password, "consent": "y"}
    )
    assert response.status_code == 303
    with live_smtp_app.app_context():
        assert db.session.scalar(select(User.email)) == "retry@example.ru"


def test_a_mail_claimed_by_another_sender_waits_for_the_claim_to_expire(
    app, client, mailbox, time_machine
):
    time_machine.move_to(NOW, tick=False)
    with app.app_context():
        db.session.add(
            OutgoingMail(
                recipient="claimed@example.ru",
                subject="Проверка",
                body_text=seal("Текст"),
                body_html=seal("<p>Текст</p>"),
                claimed_until=NOW + CLAIM_TIME,
            )
        )
        db.session.commit()
    busy = send_pending(app)
    assert "Отправлено писем: 0" in busy.output
    assert mailbox == []
    time_machine.move_to(NOW + CLAIM_TIME + timedelta(seconds=1), tick=False)
    result = send_pending(app)
    assert result.exit_code == 0
    assert "Отправлено писем: 1" in result.output
    assert [message["To"] for message in mailbox] == ["claimed@example.ru"]


def test_bodies_are_encrypted_at_rest(app, client, mailbox):
    client.request_password("secret@example.ru")
    password = emailed_password(mailbox[0])
    [row] = outbox(app)
    assert password not in row.body_text and password not in row.body_html
    assert "Здравствуйте" not in row.body_text
    with app.app_context():
        assert password in unseal(row.body_text)
        assert password in unseal(row.body_html)
        assert unseal(row.body_text).strip() == text_of(mailbox[0]).replace("\r\n", "\n").strip()


def test_another_secret_key_cannot_read_the_outbox(dead_smtp_app, make_app, make_client, mailbox):
    make_client(dead_smtp_app).request_password("key@example.ru")
    [row] = outbox(dead_smtp_app)
    stranger = make_app(SECRET_KEY="another secret key")
    with stranger.app_context(), pytest.raises(InvalidToken):
        unseal(row.body_text)
    # Its sender keeps the mail queued instead of crashing or sending garbage.
    result = send_pending(stranger)
    assert result.exit_code == 1
    assert mailbox == []
    [row] = outbox(stranger)
    assert row.sent_at is None and "InvalidToken" in row.last_error


def test_cyrillic_subject_and_body_arrive_intact(app, client, mailbox):
    client.request_password("abonent@example.ru")
    [message] = mailbox
    assert message["Subject"] == SUBJECT
    assert "Личный кабинет абонента" in message["From"]
    assert message.is_multipart()
    text = text_of(message)
    markup = message.get_body(preferencelist=("html",)).get_content()
    organization = app.config["ORGANIZATION_NAME"]
    password = emailed_password(message)
    for part in (text, markup):
        assert "Здравствуйте!" in part
        assert organization in part
        assert "Зарегистрироваться" in part
        assert password in part
    assert "<p>" in markup and "<p>" not in text


SUBJECTS = [
    "Пароль для регистрации в личном кабинете",
    "Пароль для входа в личный кабинет",
    "Личный кабинет с этим адресом уже есть",
    "Личный кабинет с этим адресом не найден",
    "Пароль личного кабинета изменен",
    "Ёлка 🎄 и «кавычки» — тире, ЕИРЦ: 100% готово",
    "Оченьдлинноесловобезединогопробеладлявсейстрокитемыписьма и хвост",
] + [
    # A space at every place where a long subject may be split into encoded words.
    "ж" * shift + " Пароль для регистрации в личном кабинете абонента ГУП РК «КР ЕИРЦ»"
    for shift in range(20)
]


def test_long_cyrillic_subjects_keep_their_spaces(app, mailbox):
    with app.test_request_context():
        for subject in SUBJECTS:
            queue_mail("subject@example.ru", subject, "no_cabinet")
        db.session.commit()
    assert send_pending(app).exit_code == 0
    assert [message["Subject"] for message in mailbox] == SUBJECTS


def test_a_unicode_domain_is_delivered_in_punycode(client, mailbox):
    response = client.request_password("Abonent@Почта.рф")
    assert response.status_code == 200
    assert MAIL_FAILED not in response.get_data(as_text=True)
    [message] = mailbox
    assert message["To"] == "abonent@xn--80a1acny.xn--p1ai"


def test_an_undeliverable_address_does_not_block_the_queue(dead_smtp_app, live_smtp_app, mailbox):
    """SMTP without SMTPUTF8 cannot carry a non-ASCII local part; the mails after it still go."""
    with dead_smtp_app.test_request_context():
        for recipient in ("кириллица@example.ru", "next@example.ru"):
            queue_mail(recipient, "Проверка", "no_cabinet")
        db.session.commit()
    result = send_pending(live_smtp_app)
    assert result.exit_code == 1
    assert "Отправлено писем: 1; не удалось отправить: 1." in result.output
    assert [message["To"] for message in mailbox] == ["next@example.ru"]
    stuck, sent = outbox(live_smtp_app)
    assert stuck.sent_at is None and stuck.claimed_until is None
    assert "UnicodeEncodeError" in stuck.last_error
    assert sent.sent_at is not None


def test_debug_mode_without_mail_server_prints_the_mail(make_app, make_client, capsys):
    app = make_app(DEBUG=True, MAIL_SERVER="")
    client = make_client(app)
    response = client.request_password("dev@example.ru")
    assert response.status_code == 200
    assert MAIL_FAILED not in response.get_data(as_text=True)
    printed = capsys.readouterr().err
    assert f"Письмо для dev@example.ru: {SUBJECT}" in printed
    [row] = outbox(app)
    assert row.sent_at is not None
    with app.app_context():
        password = EMAILED_PASSWORD.search(unseal(row.body_text)).group(1)
    assert password in printed

    page = client.get("/dev/mail")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert SUBJECT in body and "dev@example.ru" in body
    assert password in body and "отправлено" in body


def test_dev_mail_page_is_absent_outside_debug(app, client):
    response = client.get("/dev/mail")
    assert response.status_code == 404
    assert "Страница не найдена" in response.get_data(as_text=True)
