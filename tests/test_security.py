"""The points of /work/shared/design/SECURITY.md, proved through HTTP on the real database and a
real SMTP server. Each test names the point it proves; what test_registration.py proves already
(expiry, single use, burning, cancelling older passwords) is not repeated here."""

import logging
import math
import re
import time
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import quote, urlencode

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from cabinet_data import CabinetData
from flask import session
from flask_mail import Connection
from flask_wtf.csrf import generate_csrf
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from conftest import (
    CSRF_TOKEN,
    NOW,
    PASSWORD,
    count,
    emailed_password,
    logged_in,
    make_user,
    masked,
    text_of,
)
from lkabonent import config as defaults
from lkabonent.auth.views import WRONG_EMAILED_PASSWORD, WRONG_LOGIN
from lkabonent.cabinet.services import LinkOutcome
from lkabonent.cabinet.views import LINK_MESSAGES
from lkabonent.errors import CSRF_MESSAGE
from lkabonent.extensions import db
from lkabonent.forms import csrf_token
from lkabonent.mail import unseal
from lkabonent.models import (
    AccountLink,
    EmailedPassword,
    LinkFailure,
    LoginFailure,
    OutgoingMail,
    User,
    UserSession,
)
from lkabonent.passwords import hash_password, verify_password

LIMITED = "Слишком много попыток"
REFUSED = LINK_MESSAGES[LinkOutcome.REFUSED]
TOO_MANY_LINKS = LINK_MESSAGES[LinkOutcome.TOO_MANY]
NUMBER_LOCKED = LINK_MESSAGES[LinkOutcome.NUMBER_LOCKED]


# --- helpers ------------------------------------------------------------------------------------


def password_works(app, email_address, password) -> bool:
    """Whether the stored hash of the cabinet verifies this password."""
    with app.app_context():
        return verify_password(user_row(app, email_address).password_hash, password)


def user_row(app, email_address) -> User:
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email_address))


def table_rows(app) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, as text, for comparing before and after or searching."""
    with app.app_context(), db.engine.connect() as connection:
        return {
            table.name: sorted(
                tuple(str(value) for value in row) for row in connection.execute(table.select())
            )
            for table in db.metadata.sorted_tables
        }


def cookie_names(response) -> list[str]:
    return sorted(header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie"))


def is_logged_in(client) -> bool:
    response = client.get("/cabinet/")
    assert response.status_code in (200, 303), response.status_code
    return response.status_code == 200


class Calls:
    """Counts the calls of a method and calls through to it: counting, not mocking."""

    def __init__(self, monkeypatch, owner, name):
        original = getattr(owner, name)
        self.count = 0

        def counting(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counting)


def assert_limited(response, htmx, shortest, longest):
    """429 with Retry-After in the range (a second of rounding allowed) and the form again,
    with a Russian message."""
    body = response.get_data(as_text=True)
    assert response.status_code == 429, body
    wait = int(response.headers["Retry-After"])
    assert shortest <= wait <= longest + 1
    assert f"{LIMITED}. Повторите через {math.ceil(wait / 60)} мин." in body
    assert "<form" in body
    assert ("<html" in body) is not htmx


def change_password(client, current, new, again=None, htmx=False, **extra):
    data = {"current_password": current, "new_password": new, "new_password_again": again or new}
    return client.post("/password/change", {**data, **extra}, htmx=htmx)


def link(client, number, surname, **extra):
    return client.post("/cabinet/accounts/link", {"number": number, "surname": surname, **extra})


# --- registration and the emailed password ------------------------------------------------------


@pytest.mark.parametrize("flow", ["register", "recover"])
def test_request_password_answers_and_costs_the_same_for_known_and_unknown(
    app, make_client, mailbox, monkeypatch, flow
):
    """Points 1 and 2: same status, body and cookies; one mail, one hash, one send each."""
    make_user(app, "known@example.ru")
    hashes = Calls(monkeypatch, PasswordHasher, "hash")
    verifies = Calls(monkeypatch, PasswordHasher, "verify")
    sends = Calls(monkeypatch, Connection, "send")
    seen = {}
    for address in ("known@example.ru", "unknown@example.ru"):
        client = make_client(app)
        client.csrf_token()  # the session cookie exists before, as in a browser
        before = (hashes.count, verifies.count, sends.count, len(mailbox), count(app, OutgoingMail))
        response = client.request_password(address, flow=flow)
        after = (hashes.count, verifies.count, sends.count, len(mailbox), count(app, OutgoingMail))
        seen[address] = (response, [b - a for a, b in zip(before, after, strict=True)])
        assert mailbox[-1]["To"] == address
    (known, known_calls), (unknown, unknown_calls) = seen.values()
    assert known.status_code == unknown.status_code == 200
    assert "Location" not in known.headers and "Location" not in unknown.headers
    assert masked(known, "known@example.ru") == masked(unknown, "unknown@example.ru")
    assert cookie_names(known) == cookie_names(unknown)
    # hashes, verifies, SMTP sends, mails received, outbox rows
    assert known_calls == unknown_calls == [1, 0, 1, 1, 1]


def test_emailed_password_never_reaches_the_database_or_the_log(
    app, make_app, make_client, mailbox, caplog
):
    """Point 3: the plain emailed password is in no column of any table and in no log line."""
    caplog.set_level(logging.DEBUG)
    make_user(app, "known@example.ru")
    client = make_client(app)
    client.request_password("new@example.ru")
    registered = emailed_password(mailbox[-1])
    client.post(
        "/register/confirm",
        {"email": "new@example.ru", "password": registered, "consent": "y"},
    )
    other = make_client(app)
    other.request_password("known@example.ru", flow="recover")
    recovered = emailed_password(mailbox[-1])
    assert (
        other.post(
            "/password/forgot/confirm", {"email": "known@example.ru", "password": recovered}
        ).status_code
        == 303
    )
    # A mail that cannot be sent stays in the outbox and its failure is logged.
    offline = make_client(make_app(MAIL_PORT=1))
    offline.request_password("offline@example.ru")
    with app.app_context():
        waiting = db.session.scalar(
            select(OutgoingMail).where(OutgoingMail.recipient == "offline@example.ru")
        )
        queued = emailed_password_in(unseal(waiting.body_text))
    assert any("outbox queue" in record.getMessage() for record in caplog.records)

    stored = repr(table_rows(app))
    assert "$argon2id$" in stored and "offline@example.ru" in stored  # the scan sees the rows
    # aiosmtpd ("mail.log") is the test's mail server: it receives the password by design.
    logged = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("mail.")
    )
    for password in (registered, recovered, queued):
        assert password not in stored and password.replace("-", "") not in stored
        assert password not in logged


def emailed_password_in(text: str) -> str:
    lines = [line for line in text.splitlines() if line.count("-") == 2 and len(line) == 14]
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize("htmx", [False, True])
def test_password_requests_are_limited_per_address(client, mailbox, time_machine, htmx):
    """Point 6: 1 per minute and 5 per hour per address → 429 with Retry-After, then again."""
    time_machine.move_to(NOW, tick=False)
    assert client.request_password("limit@example.ru", htmx=htmx).status_code == 200
    assert_limited(client.request_password("Limit@Example.RU", htmx=htmx), htmx, 1, 60)
    # The other flow shares the limit: alternating does not send more mail.
    assert_limited(client.request_password("limit@example.ru", "recover", htmx=htmx), htmx, 1, 60)
    assert len(mailbox) == 1
    for minute in range(1, 5):
        time_machine.move_to(NOW + timedelta(seconds=61 * minute), tick=False)
        assert client.request_password("limit@example.ru", htmx=htmx).status_code == 200
    time_machine.move_to(NOW + timedelta(minutes=30), tick=False)
    assert_limited(client.request_password("limit@example.ru", htmx=htmx), htmx, 61, 3600)
    assert len(mailbox) == 5
    time_machine.move_to(NOW + timedelta(hours=1, seconds=1), tick=False)
    assert client.request_password("limit@example.ru", htmx=htmx).status_code == 200
    assert len(mailbox) == 6


@pytest.mark.parametrize("htmx", [False, True])
def test_password_requests_are_limited_per_client(client, mailbox, time_machine, htmx):
    """Point 6: 20 requests per hour from one client, whatever the addresses → 429."""
    time_machine.move_to(NOW, tick=False)
    for number in range(20):
        response = client.request_password(f"user{number}@example.ru", htmx=htmx)
        assert response.status_code == 200
    assert_limited(client.request_password("user20@example.ru", htmx=htmx), htmx, 61, 3600)
    assert len(mailbox) == 20
    time_machine.move_to(NOW + timedelta(hours=1, seconds=1), tick=False)
    assert client.request_password("user20@example.ru", htmx=htmx).status_code == 200
    assert len(mailbox) == 21


def test_password_failures_are_limited_per_client(app, client, mailbox, time_machine):
    """Point 6: failed passwords at /login and /register/confirm share 20/minute, 100/hour,
    whichever logins they try (each stays under its own limit, point 12)."""
    time_machine.move_to(NOW, tick=False)
    make_user(app, "user@example.ru")
    wrong_confirm = {"email": "user@example.ru", "password": "Wrong-Pass-Word", "consent": "y"}
    for minute in range(5):
        time_machine.move_to(NOW + timedelta(minutes=minute, seconds=minute), tick=False)
        for attempt in range(10):
            login = f"user{minute}-{attempt}@example.ru"
            assert client.login(login, "wrong password").status_code == 422
            assert client.post("/register/confirm", wrong_confirm).status_code == 422
        # Over the limit even the right password is not checked.
        assert_limited(client.login("user@example.ru", PASSWORD), False, 1, 60)
        assert_limited(client.post("/register/confirm", wrong_confirm, htmx=True), True, 1, 60)
        assert not is_logged_in(client)
    # 100 failures within the hour: a new minute does not help any more.
    time_machine.move_to(NOW + timedelta(minutes=6), tick=False)
    assert_limited(client.login("user@example.ru", PASSWORD), False, 61, 3600)
    time_machine.move_to(NOW + timedelta(hours=1, minutes=5), tick=False)
    assert client.login("user@example.ru", PASSWORD).status_code == 303


def test_step_two_cannot_be_reached_without_step_one(app, client, mailbox):
    """Point 7: posting a later step without its password request fails with the generic
    message, and a password of one flow does not open the other."""
    make_user(app, "known@example.ru")
    for url, data in [
        ("/register/confirm", {"email": "fresh@example.ru", "password": "Abcd-Efgh-Jkmn"}),
        ("/register/confirm", {"email": "known@example.ru", "password": PASSWORD}),
        ("/password/forgot/confirm", {"email": "known@example.ru", "password": PASSWORD}),
        ("/password/forgot/confirm", {"email": "fresh@example.ru", "password": "Abcd-Efgh-Jkmn"}),
    ]:
        response = client.post(url, {**data, "consent": "y"})
        assert response.status_code == 422
        assert WRONG_EMAILED_PASSWORD in response.get_data(as_text=True)
        assert not is_logged_in(client)

    client.request_password("known@example.ru", flow="recover")
    recovery = emailed_password(mailbox[-1])
    response = client.post(
        "/register/confirm", {"email": "known@example.ru", "password": recovery, "consent": "y"}
    )
    assert response.status_code == 422
    assert WRONG_EMAILED_PASSWORD in response.get_data(as_text=True)
    assert count(app, User) == 1
    # The recovery password was a real one: its own step accepts it.
    response = client.post(
        "/password/forgot/confirm", {"email": "known@example.ru", "password": recovery}
    )
    assert response.status_code == 303


# --- passwords ----------------------------------------------------------------------------------


def test_password_policy_on_change(app, make_client, mailbox):
    """Point 8: ≥8 characters, 64, 200 and 256 accepted, any Unicode, no composition rules,
    common passwords refused with the reason, longer than 256 refused, never truncated."""
    make_user(app, "policy@example.ru")
    client = logged_in(make_client(app), "policy@example.ru")
    current = PASSWORD

    refused = {
        "Корот7!": "не короче 8 символов",
        "qwerty123": "слишком распространен",
        "Password1": "слишком распространен",
        "x" * 257: "Слишком длинный пароль",
        " abcdefgh12": "Пароль не может начинаться или заканчиваться пробелом.",
        "abcdefgh12\t": "Пароль не может начинаться или заканчиваться пробелом.",
        "abcdefgh12\n": "Пароль не может начинаться или заканчиваться пробелом.",
    }
    for new, reason in refused.items():
        response = change_password(client, current, new)
        assert response.status_code == 422
        assert reason in response.get_data(as_text=True)
    assert password_works(app, "policy@example.ru", PASSWORD)

    accepted = [
        "eightch8",
        "длинная фраза из одних строчных букв без цифр",
        "пароль 🔑 日本語 ünïcödé ‏עברית",
        "q" * 63 + "Z",
        "Ж" * 199 + "z",
        "w" * 255 + "!",
    ]
    for new in accepted:
        response = change_password(client, current, new)
        assert response.status_code == 303, (new, response.get_data(as_text=True))
        assert password_works(app, "policy@example.ru", new)
        if len(new) > 72:  # bcrypt would silently keep only the first 72 bytes
            assert not password_works(app, "policy@example.ru", new[:72])
            assert not password_works(app, "policy@example.ru", new[:-1])
        current = new
    other = make_client(app)
    assert other.login("policy@example.ru", current[:-1]).status_code == 422
    assert other.login("policy@example.ru", current).status_code == 303


def test_hashes_are_argon2id_with_the_configured_parameters(app, make_app, client, mailbox):
    """Point 9: argon2id; production defaults ≥19 MiB and t≥2; the settings drive the hash."""
    assert defaults.ARGON2_MEMORY_COST >= 19 * 1024 and defaults.ARGON2_TIME_COST >= 2
    client.register("argon@example.ru", mailbox)
    with app.app_context():
        emailed = db.session.scalars(select(EmailedPassword.password_hash)).all()
    stored = [user_row(app, "argon@example.ru").password_hash, *emailed]
    for hashed in stored:
        parameters = extract_parameters(hashed)
        assert parameters.type is Type.ID
        assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
            app.config["ARGON2_TIME_COST"],
            app.config["ARGON2_MEMORY_COST"],
            app.config["ARGON2_PARALLELISM"],
        )
    production = make_app(
        ARGON2_TIME_COST=defaults.ARGON2_TIME_COST,
        ARGON2_MEMORY_COST=defaults.ARGON2_MEMORY_COST,
        ARGON2_PARALLELISM=defaults.ARGON2_PARALLELISM,
    )
    with production.app_context():
        parameters = extract_parameters(hash_password("проверка"))
    assert parameters.type is Type.ID
    assert (parameters.memory_cost, parameters.time_cost) == (
        defaults.ARGON2_MEMORY_COST,
        defaults.ARGON2_TIME_COST,
    )


def test_login_rehashes_when_parameters_change(app, make_app, make_client):
    """Point 9: a login under new argon2 parameters rewrites the hash; it still verifies."""
    make_user(app, "rehash@example.ru")
    old = user_row(app, "rehash@example.ru").password_hash
    logged_in(make_client(app), "rehash@example.ru")
    assert user_row(app, "rehash@example.ru").password_hash == old  # same parameters: kept

    stronger = make_app(ARGON2_TIME_COST=2, ARGON2_MEMORY_COST=16)
    assert make_client(stronger).login("rehash@example.ru", "wrong password").status_code == 422
    assert user_row(app, "rehash@example.ru").password_hash == old  # a failure changes nothing
    logged_in(make_client(stronger), "rehash@example.ru")
    new = user_row(app, "rehash@example.ru").password_hash
    assert new != old
    parameters = extract_parameters(new)
    assert (parameters.type, parameters.time_cost, parameters.memory_cost) == (Type.ID, 2, 16)
    with stronger.app_context():
        assert verify_password(new, PASSWORD)
    logged_in(make_client(stronger), "rehash@example.ru")
    assert user_row(app, "rehash@example.ru").password_hash == new


def test_change_password_needs_the_current_one(app, make_client, mailbox):
    """Point 10: a wrong or missing current password changes nothing and mails nothing."""
    make_user(app, "change@example.ru")
    client = logged_in(make_client(app), "change@example.ru")
    before = user_row(app, "change@example.ru").password_hash
    response = change_password(client, "not my password", "Новый пароль 2026")
    assert response.status_code == 422
    assert "Текущий пароль указан неверно." in response.get_data(as_text=True)
    response = client.post(
        "/password/change",
        {"new_password": "Новый пароль 2026", "new_password_again": "Новый пароль 2026"},
    )
    assert response.status_code == 422
    assert "Заполните это поле." in response.get_data(as_text=True)
    assert user_row(app, "change@example.ru").password_hash == before
    assert mailbox == []


@pytest.mark.parametrize("pasted", ["{} ", "{}\n", " {}\r\n", "\t{}"])
def test_the_emailed_password_pasted_with_whitespace_logs_in(app, make_client, mailbox, pasted):
    """The emailed password is the login password after registration; pasted from the mail with
    a space or a line break it still logs in, and as «Текущий пароль» it still changes."""
    password = make_client(app).register("paste@example.ru", mailbox)
    client = make_client(app)
    response = client.login("paste@example.ru", pasted.format(password))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert is_logged_in(client)
    response = change_password(client, pasted.format(password), "Новый пароль 2026")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert password_works(app, "paste@example.ru", "Новый пароль 2026")


def test_change_password_notifies_and_ends_other_sessions_and_emailed_passwords(
    app, make_client, mailbox, time_machine
):
    """Point 10: a notice by mail; other sessions and outstanding emailed passwords end."""
    time_machine.move_to(NOW, tick=False)
    make_user(app, "change@example.ru")
    client = logged_in(make_client(app), "change@example.ru")
    elsewhere = logged_in(make_client(app), "change@example.ru")
    assert is_logged_in(elsewhere)
    stranger = make_client(app)
    stranger.request_password("change@example.ru", flow="recover")
    outstanding = emailed_password(mailbox[-1])

    response = change_password(client, PASSWORD, "Новый пароль 2026")
    assert response.status_code == 303
    notice = mailbox[-1]
    assert len(mailbox) == 2
    assert notice["To"] == "change@example.ru"
    assert notice["Subject"] == "Пароль личного кабинета изменен"
    assert "Новый пароль 2026" not in text_of(notice)

    assert is_logged_in(client)
    assert not is_logged_in(elsewhere)
    response = stranger.post(
        "/password/forgot/confirm", {"email": "change@example.ru", "password": outstanding}
    )
    assert response.status_code == 422
    assert not is_logged_in(stranger)
    with app.app_context():
        assert db.session.scalar(select(EmailedPassword.cancelled_at)) is not None
    assert make_client(app).login("change@example.ru", PASSWORD).status_code == 422
    assert make_client(app).login("change@example.ru", "Новый пароль 2026").status_code == 303


@pytest.mark.parametrize("htmx", [False, True])
def test_login_failures_look_alike(app, make_client, monkeypatch, htmx):
    """Point 11: unknown login, wrong password and disabled cabinet → one message, one status,
    one password check each."""
    make_user(app, "active@example.ru")
    make_user(app, "disabled@example.ru", is_enabled=False)
    verifies = Calls(monkeypatch, PasswordHasher, "verify")
    answers = []
    for address, password in [
        ("nobody@example.ru", PASSWORD),
        ("active@example.ru", "wrong password"),
        ("disabled@example.ru", PASSWORD),
    ]:
        client = make_client(app)
        client.csrf_token()
        before = verifies.count
        response = client.login(address, password, htmx=htmx)
        assert response.status_code == 422
        assert WRONG_LOGIN in response.get_data(as_text=True)
        assert not is_logged_in(client)
        answers.append((masked(response, address), cookie_names(response), verifies.count - before))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][2] == 1


# --- sessions -----------------------------------------------------------------------------------


def test_a_cookie_copied_before_logout_stops_working(app, make_client):
    """Point 14: logout ends the session on the server, not only in this browser."""
    make_user(app, "copy@example.ru")
    client = logged_in(make_client(app), "copy@example.ru")
    cookie = client.http.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    thief = make_client(app)
    thief.http.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    assert is_logged_in(thief)  # the copy works while the session lives

    assert client.post("/logout").status_code == 303
    assert not is_logged_in(client)
    late = make_client(app)
    late.http.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    assert not is_logged_in(late)
    assert not is_logged_in(thief)


def test_logging_in_again_ends_the_previous_session_record(app, make_client):
    """Point 14: a login while logged in ends the browser's previous session on the server, so a
    copy of the first cookie does not outlive the next «Выйти»."""
    make_user(app, "twice@example.ru")
    name = app.config["SESSION_COOKIE_NAME"]
    client = logged_in(make_client(app), "twice@example.ru")
    first = client.http.get_cookie(name).value
    logged_in(client, "twice@example.ru")  # the same browser logs in again
    assert client.http.get_cookie(name).value != first
    assert client.post("/logout").status_code == 303
    assert not is_logged_in(client)
    copy = make_client(app)
    copy.http.set_cookie(name, first)
    assert not is_logged_in(copy)
    with app.app_context():
        ended = db.session.scalars(select(UserSession.ended_at)).all()
    assert len(ended) == 2 and None not in ended


def test_login_starts_a_fresh_session(app, make_client):
    """Point 15: nothing from before the login survives it, and a cookie from before the login
    (session fixation) never becomes a logged-in one."""
    make_user(app, "fresh@example.ru")
    name = app.config["SESSION_COOKIE_NAME"]
    client = make_client(app)
    with client.http.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["_user_id"] = "1"
    before = client.http.get_cookie(name).value
    assert client.login("fresh@example.ru", PASSWORD).status_code == 303
    after = client.http.get_cookie(name).value
    assert after != before
    with client.http.session_transaction() as session:
        assert "planted" not in session
        assert "sid" in session
    assert is_logged_in(client)
    attacker = make_client(app)
    attacker.http.set_cookie(name, before)
    assert not is_logged_in(attacker)


def test_the_login_sets_the_sessions_cookie_once_with_a_new_csrf_token(app, make_client, accounts):
    """The login's cookie carries the new session whole, its CSRF token too: the pages after it
    set no cookie (each would otherwise sign and send the session again, and a browser store
    it), and the token is not the one from before the login."""
    make_user(app, "once@example.ru")
    client = make_client(app)
    before = client.csrf_token()
    assert client.login("once@example.ru", PASSWORD).status_code == 303
    for url in ("/cabinet/", "/cabinet/accounts", "/help/privacy"):
        response = client.get(url)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, url
    after = client.csrf_token()
    assert after != before
    assert link(client, "1080000001", "Иванов").status_code == 303  # the new token passes


def last_seen(app, email_address):
    with app.app_context():
        return db.session.scalar(
            select(UserSession.last_seen_at)
            .join(User)
            .where(User.email == email_address, UserSession.ended_at.is_(None))
        )


def test_a_session_ends_after_30_minutes_without_a_request(app, make_client, time_machine):
    """Point 16: the idle timeout counts from the last request, recorded once a minute."""
    time_machine.move_to(NOW, tick=False)
    make_user(app, "idle@example.ru")
    client = logged_in(make_client(app), "idle@example.ru")
    time_machine.move_to(NOW + timedelta(minutes=29, seconds=59), tick=False)
    assert is_logged_in(client)
    assert last_seen(app, "idle@example.ru") == NOW + timedelta(minutes=29, seconds=59)
    # A request within the minute writes nothing; the idle limit stays where it was.
    time_machine.move_to(NOW + timedelta(minutes=30, seconds=30), tick=False)
    assert is_logged_in(client)
    assert last_seen(app, "idle@example.ru") == NOW + timedelta(minutes=29, seconds=59)
    # 30 minutes after the last recorded request the session has ended: the next page is the
    # login form, saying why.
    time_machine.move_to(NOW + timedelta(minutes=59, seconds=59), tick=False)
    response = client.get("/cabinet/", follow_redirects=True)
    assert "Сеанс входа завершен. Войдите снова, чтобы продолжить." in response.get_data(True)
    assert not is_logged_in(client)


def test_a_session_ends_12_hours_after_the_login_however_active(app, make_client, time_machine):
    """Point 16: the absolute timeout; a new login starts a new 12 hours."""
    time_machine.move_to(NOW, tick=False)
    make_user(app, "busy@example.ru")
    client = logged_in(make_client(app), "busy@example.ru")
    for minutes in range(20, 12 * 60, 20):
        time_machine.move_to(NOW + timedelta(minutes=minutes), tick=False)
        assert is_logged_in(client), minutes
    time_machine.move_to(NOW + timedelta(hours=12, seconds=-1), tick=False)
    assert is_logged_in(client)
    time_machine.move_to(NOW + timedelta(hours=12), tick=False)
    assert not is_logged_in(client)
    assert is_logged_in(logged_in(client, "busy@example.ru"))


def test_the_timeouts_are_settings(make_app, make_client, time_machine):
    """Point 16: SESSION_IDLE_TIMEOUT and SESSION_ABSOLUTE_TIMEOUT, in seconds."""
    app = make_app(SESSION_IDLE_TIMEOUT=120, SESSION_ABSOLUTE_TIMEOUT=300)
    time_machine.move_to(NOW, tick=False)
    make_user(app, "short@example.ru")
    client = logged_in(make_client(app), "short@example.ru")
    page = " ".join(client.get("/sessions").get_data(as_text=True).split())
    assert "если им не пользуются 2 минуты, и в любом случае через 5 минут после входа" in page
    time_machine.move_to(NOW + timedelta(seconds=119), tick=False)
    assert is_logged_in(client)
    time_machine.move_to(NOW + timedelta(seconds=238), tick=False)
    assert is_logged_in(client)
    time_machine.move_to(NOW + timedelta(seconds=300), tick=False)
    assert not is_logged_in(client)


CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)


def session_rows(response) -> list[str]:
    """The sessions table's rows, as text with single spaces."""
    body = response.get_data(as_text=True)
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1], re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


@pytest.mark.parametrize("htmx", [False, True])
def test_the_sessions_page_lists_live_sessions_and_ends_the_others(
    app, make_client, time_machine, htmx
):
    """Point 16: «Сеансы входа» shows when, from where and in which browser; «Завершить все
    другие сеансы» ends them on the server and keeps this one."""
    time_machine.move_to(NOW, tick=False)
    make_user(app, "many@example.ru")
    make_user(app, "else@example.ru")
    expired = logged_in(make_client(app), "many@example.ru")
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    phone = make_client(app, headers={"User-Agent": IPHONE})
    from_afar = {"REMOTE_ADDR": "203.0.113.7"}
    assert phone.login("many@example.ru", PASSWORD, environ_base=from_afar).status_code == 303
    time_machine.move_to(NOW + timedelta(hours=1, minutes=5), tick=False)
    desk = logged_in(make_client(app, headers={"User-Agent": CHROME}), "many@example.ru")
    stranger = logged_in(make_client(app), "else@example.ru")

    page = desk.get("/sessions")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert session_rows(page) == [
        "Chrome 131, Windows 10 этот сеанс 127.0.0.1 27 ноября 2026, 14:05 27 ноября 2026, 14:05",
        "Mobile Safari 17, iOS 17 203.0.113.7 27 ноября 2026, 14:00 27 ноября 2026, 14:00",
    ]
    response = desk.post("/sessions/end-others", htmx=htmx)
    if htmx:
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "<html" not in body and 'id="sessions"' in body
        assert "Другие сеансы завершены: 1." in body
        assert "Других сеансов нет." in body
    else:
        assert response.status_code == 303
        assert response.headers["Location"] == "/sessions"
        body = desk.get("/sessions").get_data(as_text=True)
        assert "Другие сеансы завершены: 1." in body
    assert [row.split(" 127.0.0.1")[0] for row in session_rows(desk.get("/sessions"))] == [
        "Chrome 131, Windows 10 этот сеанс"
    ]
    assert is_logged_in(desk)
    assert is_logged_in(stranger)
    assert not is_logged_in(phone)
    assert not is_logged_in(expired)
    ended = phone.get("/cabinet/", follow_redirects=True).get_data(as_text=True)
    assert "Сеанс входа завершен. Войдите снова, чтобы продолжить." in ended


def test_failed_logins_are_counted_per_account_in_the_database(
    app, make_client, monkeypatch, time_machine
):
    """Point 12: ten failures within 15 minutes pause «Войти» with that login, whichever clients
    and sessions they came from, without checking the password, for a known login and an
    unknown one alike; other logins are not affected, and the pause ends with the window."""
    time_machine.move_to(NOW, tick=False)
    make_user(app, "target@example.ru")
    make_user(app, "bystander@example.ru")
    paused = {}
    for number, login in enumerate(("target@example.ru", "nobody@example.ru")):
        for attempt in range(10):
            time_machine.move_to(NOW + timedelta(seconds=attempt), tick=False)
            address = {"REMOTE_ADDR": f"198.51.{number}.{attempt}"}
            response = make_client(app).login(login, f"guess {attempt}", environ_base=address)
            assert response.status_code == 422
        verifies = Calls(monkeypatch, PasswordHasher, "verify")
        response = make_client(app).login(login, PASSWORD)
        assert verifies.count == 0
        assert response.status_code == 429
        # The first failure leaves the window at 15:00 (a second of rounding allowed).
        assert int(response.headers["Retry-After"]) - 891 in (0, 1)
        paused[login] = masked(response, login)
        assert "вход с ним приостановлен. Повторите через 15 мин." in paused[login]
    assert paused["target@example.ru"] == paused["nobody@example.ru"]
    with app.app_context():
        failures = db.session.execute(select(LoginFailure.login, LoginFailure.client_ip)).all()
    assert len(failures) == len(set(failures)) == 20
    assert is_logged_in(logged_in(make_client(app), "bystander@example.ru"))

    time_machine.move_to(NOW + timedelta(minutes=15), tick=False)
    assert make_client(app).login("target@example.ru", PASSWORD).status_code == 303
    # The successful login starts the count anew.
    with app.app_context():
        left = db.session.scalars(select(LoginFailure.login).distinct()).all()
    assert left == ["nobody@example.ru"]


def test_the_login_pause_ends_as_failures_leave_the_window(app, make_client, time_machine):
    """Point 12: only failures within LOGIN_FAILURE_WINDOW count; the setting is honoured."""
    app.config.update(LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_FAILURE_WINDOW=600)
    make_user(app, "slow@example.ru")
    for minute in (0, 4, 8):
        time_machine.move_to(NOW + timedelta(minutes=minute), tick=False)
        assert make_client(app).login("slow@example.ru", "wrong").status_code == 422
    time_machine.move_to(NOW + timedelta(minutes=9), tick=False)
    response = make_client(app).login("slow@example.ru", PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) - 60 in (0, 1)  # a second of rounding allowed
    assert "Повторите через 1 мин." in response.get_data(as_text=True)
    time_machine.move_to(NOW + timedelta(minutes=10), tick=False)
    assert make_client(app).login("slow@example.ru", "wrong").status_code == 422
    response = make_client(app).login("slow@example.ru", PASSWORD, htmx=True)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) - 4 * 60 in (0, 1)
    assert "<html" not in response.get_data(as_text=True)
    time_machine.move_to(NOW + timedelta(minutes=14), tick=False)
    assert make_client(app).login("slow@example.ru", PASSWORD).status_code == 303


def test_recovering_access_ends_the_login_pause(app, make_client, mailbox, time_machine):
    """Point 12: «Забыли пароль?» still works while «Войти» is paused, and ends the pause."""
    time_machine.move_to(NOW, tick=False)
    make_user(app, "locked@example.ru")
    for _ in range(10):
        assert make_client(app).login("locked@example.ru", "wrong").status_code == 422
    client = make_client(app)
    assert client.request_password("locked@example.ru", flow="recover").status_code == 200
    emailed = emailed_password(mailbox[-1])
    confirm = {"email": "locked@example.ru", "password": emailed}
    assert client.post("/password/forgot/confirm", confirm).status_code == 303
    assert make_client(app).login("locked@example.ru", emailed).status_code == 303


# --- access control ----------------------------------------------------------------------------


def test_unlink_of_another_users_account_is_404_like_a_missing_one(app, make_client, accounts):
    """Point 17: another user's account answers exactly like a missing number; nothing changes."""
    make_user(app, "owner@example.ru")
    make_user(app, "other@example.ru")
    owner = logged_in(make_client(app), "owner@example.ru")
    other = logged_in(make_client(app), "other@example.ru")
    assert link(owner, "1080000003", "Семёнов").status_code == 303
    assert link(other, "1080000001", "Иванов").status_code == 303
    assert other.get("/cabinet/accounts/1080000001/unlink").status_code == 200  # own: works

    for method in ("get", "post"):
        for htmx in (False, True):
            answers = []
            for number in ("1080000003", "1089999999"):
                response = getattr(other, method)(f"/cabinet/accounts/{number}/unlink", htmx=htmx)
                assert response.status_code == 404
                answers.append((masked(response, number), cookie_names(response)))
            assert answers[0] == answers[1]
    with app.app_context():
        links = db.session.scalars(select(AccountLink)).all()
        assert [(row.account.number, row.unlinked_at) for row in links if row.user_id] == [
            ("1080000003", None),
            ("1080000001", None),
        ]
    assert "1080000003" in owner.get("/cabinet/accounts").get_data(as_text=True)


def test_link_refusals_look_alike_leak_nothing_and_are_recorded(app, make_client, accounts, caplog):
    """Point 18: wrong number, wrong surname and closed account → one answer, nothing about the
    account in it; each failure is logged and stored."""
    caplog.set_level(logging.WARNING)
    user_id = make_user(app, "linker@example.ru")
    client = logged_in(make_client(app), "linker@example.ru")
    answers = []
    for number, surname in [
        ("1089999999", "Семёнов"),
        ("1080000003", "Петров"),
        ("1080000004", "Кузнецов"),
    ]:
        response = link(client, number, surname)
        body = response.get_data(as_text=True)
        assert response.status_code == 422
        assert REFUSED in body
        for secret in ("Пушкинская", "Ленина", "Киевская", "Семёнов", "Закрыт", "закрыт"):
            assert secret not in body.replace('value="Семёнов"', "")
        answers.append((masked(response, number).replace(surname, "SURNAME"), response.headers))
    assert answers[0][0] == answers[1][0] == answers[2][0]
    assert sorted(answers[0][1].keys()) == sorted(answers[2][1].keys())

    refusals = [r.getMessage() for r in caplog.records if "account link refused" in r.getMessage()]
    assert len(refusals) == 3
    assert all(f"user={user_id}" in message for message in refusals)
    assert "number=1080000004" in refusals[2]
    with app.app_context():
        failures = db.session.scalars(select(LinkFailure).order_by(LinkFailure.id)).all()
        assert [(row.user_id, row.account_number, row.client_ip) for row in failures] == [
            (user_id, "1089999999", "127.0.0.1"),
            (user_id, "1080000003", "127.0.0.1"),
            (user_id, "1080000004", "127.0.0.1"),
        ]


def test_link_failures_are_limited_per_user(app, make_client, accounts, time_machine):
    """Point 18: 5 failures an hour per user, in the database (a new session does not help)."""
    time_machine.move_to(NOW, tick=False)
    make_user(app, "guess@example.ru")
    client = logged_in(make_client(app), "guess@example.ru")
    for surname in ("Аа", "Бб", "Вв", "Гг", "Дд"):
        assert link(client, "1080000003", surname).status_code == 422
    response = link(client, "1080000003", "Семёнов")  # right, but over the limit
    assert response.status_code == 429
    assert TOO_MANY_LINKS in response.get_data(as_text=True)
    again = logged_in(make_client(app), "guess@example.ru")
    assert link(again, "1080000002", "Петрова").status_code == 429
    assert count(app, AccountLink) == 0
    time_machine.move_to(NOW + timedelta(hours=1, seconds=1), tick=False)
    later = logged_in(make_client(app), "guess@example.ru")  # the others have expired by now
    assert link(later, "1080000003", "Семёнов").status_code == 303
    assert count(app, AccountLink) == 1


def test_link_refusals_over_the_limit_are_logged_and_answered_429(
    app, make_client, accounts, caplog
):
    """Point 18: «Привязать» over the limit is refused with 429 and Retry-After, and logged with
    the user and the number, so that guessing shows in the log."""
    caplog.set_level(logging.WARNING)
    user_id = make_user(app, "guess@example.ru")
    client = logged_in(make_client(app), "guess@example.ru")
    for _ in range(app.config["LINK_FAILURES_PER_USER_PER_HOUR"]):
        assert link(client, "1080000003", "Петров").status_code == 422
    for htmx in (False, True):
        response = client.post(
            "/cabinet/accounts/link", {"number": "108 000 0002", "surname": "Петрова"}, htmx=htmx
        )
        body = response.get_data(as_text=True)
        assert response.status_code == 429, body
        assert int(response.headers["Retry-After"]) == 3600
        assert TOO_MANY_LINKS in body and "<form" in body
        assert ("<html" in body) is not htmx
    over = [r for r in caplog.records if "account link over the limit per user" in r.getMessage()]
    assert len(over) == 2
    assert all(record.levelno == logging.WARNING for record in over)
    assert all(
        f"user={user_id} number=1080000002 client=127.0.0.1" in record.getMessage()
        for record in over
    )
    assert count(app, AccountLink) == 0


def test_link_failures_are_limited_per_account_number(
    app, make_client, accounts, time_machine, caplog
):
    """Point 18: 10 failures a day on one account number, whoever makes them: 429 until
    tomorrow, with its own message and Retry-After, and logged."""
    caplog.set_level(logging.WARNING)
    time_machine.move_to(NOW, tick=False)
    for name in ("first", "second", "third"):
        make_user(app, f"{name}@example.ru")
    for name in ("first", "second"):
        client = logged_in(make_client(app), f"{name}@example.ru")
        for _ in range(5):
            assert link(client, "1080000003", "Петров").status_code == 422
    third = logged_in(make_client(app), "third@example.ru")
    third_id = user_row(app, "third@example.ru").id
    response = link(third, "10800-00003", "Семёнов")
    body = response.get_data(as_text=True)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == 86400
    assert NUMBER_LOCKED in body and TOO_MANY_LINKS not in body and "<form" in body
    [over] = [r for r in caplog.records if "account link over the limit" in r.getMessage()]
    assert over.levelno == logging.WARNING
    assert (
        f"over the limit per number: user={third_id} number=1080000003 client=127.0.0.1"
        in over.getMessage()
    )
    assert link(third, "1080000001", "Иванов").status_code == 303  # other numbers are open
    time_machine.move_to(NOW + timedelta(days=1, seconds=1), tick=False)
    assert link(third, "1080000003", "Семёнов").status_code == 303
    assert count(app, LinkFailure) == 10


def test_extra_form_fields_are_ignored(app, make_client, mailbox, accounts):
    """Point 19: user_id, account ids, email and the like in a form change nothing."""
    me = make_user(app, "me@example.ru")
    victim = make_user(app, "victim@example.ru")
    victim_hash = user_row(app, "victim@example.ru").password_hash
    client = make_client(app)
    response = client.post(
        "/login", {"email": "me@example.ru", "password": PASSWORD, "user_id": str(victim)}
    )
    assert response.status_code == 303
    assert "me@example.ru" in client.get("/cabinet/").get_data(as_text=True)
    assert "victim@example.ru" not in client.get("/cabinet/").get_data(as_text=True)

    extra = {
        "user_id": str(victim),
        "id": str(victim),
        "email": "victim@example.ru",
        "password_hash": victim_hash,
        "is_enabled": "0",
    }
    assert change_password(client, PASSWORD, "Новый пароль 2026", **extra).status_code == 303
    mine, theirs = user_row(app, "me@example.ru"), user_row(app, "victim@example.ru")
    assert (mine.id, mine.is_enabled) == (me, True)
    assert password_works(app, "me@example.ru", "Новый пароль 2026")
    assert theirs.password_hash == victim_hash
    assert mailbox[-1]["To"] == "me@example.ru"

    account_2 = accounts["1080000002"].id
    response = link(client, "1080000001", "Иванов", user_id=str(victim), account_id=str(account_2))
    assert response.status_code == 303
    with app.app_context():
        links = db.session.scalars(select(AccountLink)).all()
        assert [(row.user_id, row.account.number) for row in links] == [(me, "1080000001")]

    newcomer = make_client(app)
    newcomer.request_password("newcomer@example.ru")
    response = newcomer.post(
        "/register/confirm",
        {
            "email": "newcomer@example.ru",
            "password": emailed_password(mailbox[-1]),
            "consent": "y",
            "user_id": str(victim),
            "is_enabled": "0",
        },
    )
    assert response.status_code == 303
    created = user_row(app, "newcomer@example.ru")
    assert created.id not in (me, victim) and created.is_enabled


# --- input, CSRF ----------------------------------------------------------------------------------

POST_FORMS = {
    "/login": {"email": "me@example.ru", "password": PASSWORD},
    "/logout": {},
    "/register": {"email": "new@example.ru"},
    "/register/confirm": {"email": "new@example.ru", "password": "Abcd-Efgh-Jkmn", "consent": "y"},
    "/password/forgot": {"email": "me@example.ru"},
    "/password/forgot/confirm": {"email": "me@example.ru", "password": "Abcd-Efgh-Jkmn"},
    "/password/change": {
        "current_password": PASSWORD,
        "new_password": "Новый пароль 2026",
        "new_password_again": "Новый пароль 2026",
    },
    "/sessions/end-others": {},
    "/cabinet/accounts/link": {"number": "1080000002", "surname": "Петрова"},
    "/cabinet/accounts/<number>/unlink": {},
    "/cabinet/account": {"account": "1080000002"},
    "/cabinet/meters/<int:meter_id>/readings": {"zone1": "100"},
}


def a_meter(app, accounts) -> int:
    """A cold-water meter of 1080000001; its id."""
    data = CabinetData(app)
    return data.meter(accounts["1080000001"].id, data.service())


def filled(rule: str, meter_id: int = 1) -> str:
    """A POST_FORMS rule with its ids filled in."""
    return rule.replace("<number>", "1080000001").replace("<int:meter_id>", str(meter_id))


@pytest.mark.parametrize("htmx", [False, True])
def test_every_post_without_a_valid_csrf_token_is_refused(
    app, make_client, mailbox, accounts, htmx
):
    """Point 20: every POST endpoint answers 400 without a CSRF token (or with another session's),
    htmx included, and nothing changes."""
    posts = {rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    assert posts == set(POST_FORMS)  # a new POST endpoint has to be added here
    make_user(app, "me@example.ru")
    client = logged_in(make_client(app), "me@example.ru")
    assert link(client, "1080000001", "Иванов").status_code == 303
    foreign_token = make_client(app).csrf_token()
    before = table_rows(app)
    for rule, data in POST_FORMS.items():
        url = filled(rule)
        for headers in ({}, {"X-CSRFToken": foreign_token}):
            response = client.post(url, data, htmx=htmx, csrf=False, headers=headers)
            body = response.get_data(as_text=True)
            assert response.status_code == 400, (url, body)
            assert CSRF_MESSAGE in body
            assert ("<html" in body) is not htmx
    assert table_rows(app) == before
    assert mailbox == []
    assert is_logged_in(client)


def test_a_session_keeps_one_csrf_token_which_the_forms_accept(
    app, make_client, accounts, monkeypatch
):
    """Point 20: the templates sign a session's CSRF token once (forms.csrf_token): a page a
    day later carries the same token; another session's differs, and POSTs with it pass. A
    page with a FlaskForm (which signs its own first) carries one token throughout."""
    make_user(app, "me@example.ru")
    client = logged_in(make_client(app), "me@example.ru")
    token = client.csrf_token()
    later = time.time() + 86400
    monkeypatch.setattr(time, "time", lambda: later)  # itsdangerous' clock
    assert client.csrf_token() == token
    assert CSRF_TOKEN.search(client.get("/cabinet/").get_data(as_text=True))[1] == token
    page = client.get("/cabinet/accounts/link").get_data(as_text=True)
    hidden = re.findall(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert hidden == [CSRF_TOKEN.search(page)[1]]
    assert make_client(app).csrf_token() != token
    assert link(client, "1080000001", "Иванов").status_code == 303  # it posts the page's token


def test_forms_built_after_the_layout_put_in_the_layouts_csrf_token(app, monkeypatch):
    """A FlaskForm that signs after the template's csrf_token() in the same request (Flask-WTF's
    generate_csrf) gets the same token: one token per page."""
    with app.test_request_context():
        session["csrf_token"] = "raw token of a session"
        token = csrf_token()
    later = time.time() + 86400
    monkeypatch.setattr(time, "time", lambda: later)
    with app.test_request_context():
        session["csrf_token"] = "raw token of a session"
        assert csrf_token() == token
        assert generate_csrf() == token


def test_with_a_time_limit_every_request_signs_its_csrf_token_anew(app, make_client, monkeypatch):
    """A CSRF time limit (WTF_CSRF_TIME_LIMIT) needs fresh signatures: then none is reused."""
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    client = make_client(app)
    client.csrf_token()  # the session gets its token
    token = client.csrf_token()
    later = time.time() + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.csrf_token() != token


class PostForms(HTMLParser):
    """The <form method="post"> elements of a page: their action and the names of the hidden
    inputs they hold."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, list[str]]] = []
        self.inside = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = (attributes.get("method") or "get").lower() == "post"
            if self.inside:
                self.forms.append((attributes.get("action") or "", []))
        elif tag == "input" and self.inside and attributes.get("type") == "hidden":
            self.forms[-1][1].append(attributes.get("name") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def post_forms(response) -> list[tuple[str, list[str]]]:
    parser = PostForms()
    parser.feed(response.get_data(as_text=True))
    return parser.forms


def test_every_post_form_carries_the_csrf_token_field(app, make_client, mailbox, accounts):
    """Point 20: every POST form of every page holds the hidden csrf_token, so that a browser
    without JavaScript (no hx-headers) can post it; the client's plain posts send it that way."""
    anonymous = make_client(app)
    pages = {
        url: anonymous.get(url)
        for url in (
            "/login",
            "/register",
            "/register/confirm",
            "/password/forgot",
            "/password/forgot/confirm",
        )
    }
    pages["step 2 of /register"] = anonymous.request_password("new@example.ru")
    pages["step 2 of /password/forgot"] = make_client(app).request_password(
        "old@example.ru", flow="recover"
    )
    make_user(app, "me@example.ru")
    client = logged_in(make_client(app), "me@example.ru")
    assert link(client, "1080000001", "Иванов").status_code == 303
    assert link(client, "1080000002", "Петрова").status_code == 303  # the selector shows
    meter_id = a_meter(app, accounts)
    app.config["READING_WINDOW_ALWAYS_OPEN"] = True  # the reading form shows
    logged_in(make_client(app), "me@example.ru")  # a session to end: its button shows
    for url in (
        "/sessions",
        "/password/change",
        "/cabinet/",
        "/cabinet/accounts/link",
        "/cabinet/accounts/1080000001/unlink",
        f"/cabinet/meters/{meter_id}",
    ):
        pages[url] = client.get(url)
    actions = set()
    for url, response in pages.items():
        assert response.status_code == 200, url
        forms = post_forms(response)
        assert forms, url
        for action, hidden in forms:
            assert hidden.count("csrf_token") == 1, (url, action, hidden)
            actions.add(action)
    assert actions == {filled(rule, meter_id) for rule in POST_FORMS}


def test_get_never_changes_state(app, make_client, mailbox, accounts):
    """Point 20: no GET writes anything or sends mail; GET /logout is 405 and logs nobody out."""
    make_user(app, "me@example.ru")
    client = logged_in(make_client(app), "me@example.ru")
    assert link(client, "1080000001", "Иванов").status_code == 303
    meter_id = a_meter(app, accounts)
    data = CabinetData(app)  # a bill, so that its receipt and PDF exist
    data.charge(accounts["1080000001"].id, date(2026, 10, 1), data.service("heat"), accrued="1")
    anonymous = make_client(app)
    before = table_rows(app)
    assert client.get("/logout").status_code == 405
    assert is_logged_in(client)
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = filled(rule.rule, meter_id).replace("<topic>", "registration")
        urls.append(
            url + "?email=me@example.ru&number=1080000001&surname=Иванов&account=1080000001"
        )
    assert "/cabinet/accounts/1080000001/unlink?email=me@example.ru" in " ".join(urls)
    for url in urls:
        for who in (client, anonymous):
            for htmx in (False, True):
                assert who.get(url, htmx=htmx).status_code in (200, 302, 303), url
    assert table_rows(app) == before
    assert mailbox == []
    assert is_logged_in(client)


def test_line_breaks_in_the_login_never_reach_a_mail(client, mailbox):
    """Point 21: CR/LF in an address that would go into mail headers is a form error."""
    for flow in ("register", "recover"):
        response = client.request_password(f"{flow}@example.ru\r\nBcc: evil@example.ru", flow)
        assert response.status_code == 422
        assert "перевод строки" in response.get_data(as_text=True)
    assert mailbox == []


# Text that has broken web forms: control characters, direction marks, huge and digit-only
# strings, look-alikes, markup and SQL.
TRICKY = [
    "",
    " ",
    "\r\n",
    "\x00",
    "me@example.ru\x00",
    "a@example.ru\r\nBcc: evil@example.ru",
    "\u202eur.elpmaxe@a",
    "\u200f\u200e\u2066",
    "\ufeff1080000001",
    "0" * 40,
    "-1",
    "1e309",
    "１０８００００００１",
    "Иванов\u0301",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00%0d%0a",
    "a" * 100_000,
    "😀" * 300,
]
JUNK = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=300),
    st.text(alphabet="0123456789", max_size=40),
    st.text(min_size=255, max_size=2000),
    st.emails().map(lambda address: address[:254]),
)
FUZZ_FORMS = {
    "login": ("/login", ("email", "password", "next")),
    "register step 1": ("/register", ("email",)),
    "register step 2": ("/register/confirm", ("email", "password", "consent")),
    "recover step 1": ("/password/forgot", ("email",)),
    "recover step 2": ("/password/forgot/confirm", ("email", "password")),
    "link": ("/cabinet/accounts/link", ("number", "surname")),
    "change password": (
        "/password/change",
        ("current_password", "new_password", "new_password_again"),
    ),
}


@pytest.fixture
def fuzz_client(make_app, make_client, mailbox):
    """A logged-in client of an application whose limits the examples cannot reach."""
    app = make_app(
        PASSWORD_REQUEST_LIMIT_PER_EMAIL="100000 per minute",
        PASSWORD_REQUEST_LIMIT_PER_CLIENT="100000 per minute",
        PASSWORD_FAILURE_LIMIT_PER_CLIENT="100000 per minute",
        LINK_FAILURES_PER_USER_PER_HOUR=100_000,
        LINK_FAILURES_PER_ACCOUNT_PER_DAY=100_000,
    )
    make_user(app, "me@example.ru")
    return logged_in(make_client(app), "me@example.ru")


@pytest.mark.parametrize("form", FUZZ_FORMS)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(values=st.lists(JUNK, min_size=3, max_size=3), htmx=st.booleans())
@example(values=["me@example.ru\x00", "\x00", "\x00"], htmx=False)
@example(values=["1080000001\x00", "Иванов\x00", "y"], htmx=True)
def test_any_input_gets_a_form_never_a_500(fuzz_client, form, values, htmx):
    """Point 21: arbitrary text in every field of every form → the form again, with a 2xx or 4xx
    status, never a server error."""
    url, fields = FUZZ_FORMS[form]
    response = fuzz_client.post(url, dict(zip(fields, values, strict=False)), htmx=htmx)
    body = response.get_data(as_text=True)
    assert response.status_code in (200, 422, 429), (response.status_code, body[:2000])
    assert "<form" in body
    assert ("<html" in body) is not htmx
    assert is_logged_in(fuzz_client)


@pytest.fixture
def meter_client(fuzz_client, accounts):
    """The fuzz client with 1080000001 linked, its three-zone meter open for readings."""
    app = fuzz_client.app
    app.config["READING_WINDOW_ALWAYS_OPEN"] = True
    assert link(fuzz_client, "1080000001", "Иванов").status_code == 303
    data = CabinetData(app)
    fuzz_client.meter_id = data.meter(accounts["1080000001"].id, data.service(), zones=3)
    return fuzz_client


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(values=st.lists(JUNK, min_size=5, max_size=5), htmx=st.booleans())
@example(values=["0" * 5000, "1" * 30, "-1", "1e3", "\x00"], htmx=True)
def test_any_reading_gets_an_answer_never_a_500(meter_client, values, htmx):
    """Point 21 for «Передать показания»: any text in the zones and the confirmations."""
    fields = ("zone1", "zone2", "zone3", "rollover", "confirmed")
    response = meter_client.post(
        f"/cabinet/meters/{meter_client.meter_id}/readings",
        dict(zip(fields, values, strict=True)),
        htmx=htmx,
    )
    assert response.status_code in (200, 303, 422), response.get_data(as_text=True)[:2000]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    page=st.sampled_from(
        [
            "/cabinet/",
            "/cabinet/charges",
            "/cabinet/charges/consumption",
            "/cabinet/payments",
            "/cabinet/debt",
        ]
    ),
    values=st.lists(JUNK, min_size=4, max_size=4),
    htmx=st.booleans(),
)
@example(page="/cabinet/payments", values=["", "0", "-5", "2026-13"], htmx=False)
@example(page="/cabinet/payments", values=["", "99999999999999999999", "1", ""], htmx=True)
def test_any_query_of_a_section_gets_an_answer_never_a_500(meter_client, page, values, htmx):
    """Point 21 for the sections' parameters: account, year, page and month."""
    query = dict(zip(("account", "year", "page", "month"), values, strict=True))
    response = meter_client.get(f"{page}?{urlencode(query)}", htmx=htmx)
    assert response.status_code in (200, 404), response.get_data(as_text=True)[:2000]


@pytest.mark.parametrize(
    "number",
    [
        "\x00",
        "1080000001\x00",
        "1080000001\r\n",
        "\u202e1080000001",
        "１０８００００００１",
        "-1",
        "1" * 3000,
    ],
)
def test_unlink_of_a_malformed_number_is_404(app, make_client, accounts, number):
    """Points 17 and 21: any text in place of the account number → 404, never a 500."""
    make_user(app, "me@example.ru")
    client = logged_in(make_client(app), "me@example.ru")
    assert link(client, "1080000001", "Иванов").status_code == 303
    for method in (client.get, client.post):
        response = method(f"/cabinet/accounts/{quote(number, safe='')}/unlink")
        assert response.status_code == 404


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# A slash (or nothing) in place of the number makes another URL, "…/accounts//unlink", which
# Werkzeug answers with a 308 to the merged path: that is routing, not this view.
@given(number=JUNK.filter(lambda text: text and "/" not in text), htmx=st.booleans())
def test_unlink_of_any_text_is_404(fuzz_client, number, htmx):
    """Points 17 and 21: arbitrary text as the account number of «Отвязать» → 404 for GET and
    POST."""
    for method in (fuzz_client.get, fuzz_client.post):
        response = method(f"/cabinet/accounts/{quote(number, safe='')}/unlink", htmx=htmx)
        assert response.status_code == 404
    assert is_logged_in(fuzz_client)
