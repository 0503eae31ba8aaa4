"""Registration in two steps by emailed password, and «Забыли пароль?», through HTTP."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conftest import NOW, count, emailed_password, make_user, masked, text_of
from lkabonent.extensions import db
from lkabonent.models import AccountLink, Consent, EmailedPassword, User
from lkabonent.passwords import generate_emailed_password


@pytest.mark.parametrize("htmx", [False, True])
def test_step_one_page_and_fragment(client, htmx):
    response = client.get("/register", htmx=htmx)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Логин" in body and "Получить пароль" in body
    assert ("<html" in body) is not htmx
    assert ("Подробнее о регистрации" in body) is not htmx  # the help panel is on the page only
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("htmx", [False, True])
def test_get_password_shows_step_two_with_the_email_kept(client, mailbox, htmx):
    response = client.request_password("New.User@Example.ru", htmx=htmx)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="new.user@example.ru"' in body and "readonly" in body
    assert "Пароль" in body and "Зарегистрироваться" in body
    assert "Спам" in body  # tells to look into the spam folder
    assert 'type="checkbox"' in body and "checked" not in body  # consent, not ticked
    assert "Изменить адрес" in body
    assert ("<html" in body) is not htmx
    assert len(mailbox) == 1
    assert mailbox[0]["To"] == "new.user@example.ru"


def test_emailed_password_is_random_unambiguous_and_stored_as_hash_only(app, client, mailbox):
    """Capital Latin letters and digits in 3 groups of 4: no look-alikes (0 O 1 I 2 Z 5 S 8 B)
    and no lower case, whose c/C, k/K, p/P… differ only in size."""
    client.request_password("a@example.ru")
    client.request_password("b@example.ru")
    first, second = emailed_password(mailbox[0]), emailed_password(mailbox[1])
    assert first != second
    with app.app_context():
        generated = [generate_emailed_password() for _ in range(200)]
    for password in (first, second, *generated):
        assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", password), password
        assert not set(password) & set("0O1I2Z5S8B")
    assert len(set(generated)) == len(generated)
    with app.app_context():
        hashes = db.session.scalars(select(EmailedPassword.password_hash)).all()
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert first not in hashes and second not in hashes


@pytest.mark.parametrize("flow", ["register", "recover"])
@pytest.mark.parametrize("pasted", [" {} ", "{}\n", "\t{}\r\n"])
def test_a_pasted_password_with_spaces_or_a_line_break_works(app, client, mailbox, flow, pasted):
    """Mail programs copy a space or a line break with the password: it is dropped, not counted
    as a wrong try."""
    if flow == "recover":
        make_user(app, "paste@example.ru")
    client.request_password("paste@example.ru", flow=flow)
    password = pasted.format(emailed_password(mailbox[-1]))
    url = "/register/confirm" if flow == "register" else "/password/forgot/confirm"
    response = client.post(url, {"email": "paste@example.ru", "password": password, "consent": "y"})
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        issued = db.session.scalar(select(EmailedPassword))
        assert issued.failed_attempts == 0 and issued.used_at is not None


def test_register_creates_cabinet_logs_in_and_stores_consent(app, client, mailbox):
    password = client.register("new@example.ru", mailbox)
    response = client.get("/cabinet/")
    assert response.status_code == 200
    assert "new@example.ru" in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User))
        consent = db.session.scalar(select(Consent))
        assert user.email == "new@example.ru"
        assert consent.user_id == user.id
        assert consent.client_ip == "127.0.0.1"
        assert consent.policy_version == app.config["PRIVACY_POLICY_VERSION"]
    # The emailed password then serves for login.
    client.post("/logout")
    assert client.login("new@example.ru", password).status_code == 303


def test_register_redirect_for_htmx_is_hx_redirect(client, mailbox):
    client.request_password("hx@example.ru")
    response = client.post(
        "/register/confirm",
        {"email": "hx@example.ru", "password": emailed_password(mailbox[-1]), "consent": "y"},
        htmx=True,
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/cabinet/"


def test_consent_is_required(app, client, mailbox):
    client.request_password("c@example.ru")
    response = client.post(
        "/register/confirm", {"email": "c@example.ru", "password": emailed_password(mailbox[-1])}
    )
    assert response.status_code == 422
    assert "согласия на обработку персональных данных" in response.get_data(as_text=True)
    assert count(app, User) == 0


def test_wrong_and_expired_password_get_the_same_message(app, client, mailbox, time_machine):
    time_machine.move_to(NOW, tick=False)
    client.request_password("late@example.ru")
    password = emailed_password(mailbox[-1])
    wrong = client.post(
        "/register/confirm",
        {"email": "late@example.ru", "password": "Wrong-Pass-Word", "consent": "y"},
    )
    time_machine.move_to(NOW + timedelta(seconds=app.config["REGISTRATION_PASSWORD_TTL"] + 1))
    expired = client.post(
        "/register/confirm", {"email": "late@example.ru", "password": password, "consent": "y"}
    )
    assert wrong.status_code == expired.status_code == 422
    message = "Пароль неверен или срок его действия истек"
    assert message in wrong.get_data(as_text=True) and message in expired.get_data(as_text=True)
    assert count(app, User) == 0


def test_password_is_valid_until_its_lifetime(app, client, mailbox, time_machine):
    time_machine.move_to(NOW, tick=False)
    client.request_password("edge@example.ru")
    time_machine.move_to(NOW + timedelta(seconds=app.config["REGISTRATION_PASSWORD_TTL"] - 1))
    response = client.post(
        "/register/confirm",
        {"email": "edge@example.ru", "password": emailed_password(mailbox[-1]), "consent": "y"},
    )
    assert response.status_code == 303


def test_lifetime_follows_the_setting(make_app, make_client, mailbox, time_machine):
    client = make_client(make_app(REGISTRATION_PASSWORD_TTL=120))
    time_machine.move_to(NOW, tick=False)
    client.request_password("ttl@example.ru")
    assert "Пароль действует 2 минуты." in text_of(mailbox[-1])
    time_machine.move_to(NOW + timedelta(seconds=121))
    response = client.post(
        "/register/confirm",
        {"email": "ttl@example.ru", "password": emailed_password(mailbox[-1]), "consent": "y"},
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("ttl", "lifetime"),
    [
        (None, "30 минут"),
        (60, "1 минуту"),
        (120, "2 минуты"),
        (300, "5 минут"),
        (1260, "21 минуту"),
    ],
)
@pytest.mark.parametrize("flow", ["register", "recover"])
def test_lifetime_is_told_in_proper_russian(make_app, make_client, mailbox, ttl, lifetime, flow):
    """The step-2 notice and both parts of the mail give the lifetime with the right form of
    «минута»: «1 минуту», «2 минуты», «5 минут»."""
    app = make_app(**({} if ttl is None else {"REGISTRATION_PASSWORD_TTL": ttl}))
    if flow == "recover":
        make_user(app, "ttl@example.ru")
    response = make_client(app).request_password("ttl@example.ru", flow=flow)
    told = f"Пароль действует {lifetime}."
    assert told in response.get_data(as_text=True)
    assert told in text_of(mailbox[-1])
    assert told in mailbox[-1].get_body(preferencelist=("html",)).get_content()


def test_five_wrong_tries_burn_the_password(app, client, mailbox):
    client.request_password("burn@example.ru")
    password = emailed_password(mailbox[-1])
    for _ in range(app.config["REGISTRATION_PASSWORD_MAX_ATTEMPTS"]):
        client.post(
            "/register/confirm", {"email": "burn@example.ru", "password": "nope", "consent": "y"}
        )
    response = client.post(
        "/register/confirm", {"email": "burn@example.ru", "password": password, "consent": "y"}
    )
    assert response.status_code == 422
    assert count(app, User) == 0


def test_asking_again_cancels_the_earlier_password(app, client, mailbox, time_machine):
    time_machine.move_to(NOW, tick=False)
    client.request_password("again@example.ru")
    first = emailed_password(mailbox[-1])
    time_machine.move_to(NOW + timedelta(minutes=2))
    client.request_password("again@example.ru")
    second = emailed_password(mailbox[-1])
    response = client.post(
        "/register/confirm", {"email": "again@example.ru", "password": first, "consent": "y"}
    )
    assert response.status_code == 422
    response = client.post(
        "/register/confirm", {"email": "again@example.ru", "password": second, "consent": "y"}
    )
    assert response.status_code == 303


def test_password_is_single_use_and_bound_to_its_email(app, make_client, client, mailbox):
    client.request_password("one@example.ru")
    password = emailed_password(mailbox[-1])
    other = make_client(app)
    other.request_password("two@example.ru")
    response = other.post(
        "/register/confirm", {"email": "two@example.ru", "password": password, "consent": "y"}
    )
    assert response.status_code == 422
    assert (
        client.post(
            "/register/confirm", {"email": "one@example.ru", "password": password, "consent": "y"}
        ).status_code
        == 303
    )
    client.post("/logout")
    again = client.post(
        "/register/confirm", {"email": "one@example.ru", "password": password, "consent": "y"}
    )
    assert again.status_code == 422


def test_registered_address_sees_the_same_screens_and_gets_a_notice(
    app, client, mailbox, make_client, time_machine
):
    time_machine.move_to(NOW, tick=False)
    client.register("taken@example.ru", mailbox)
    time_machine.move_to(NOW + timedelta(minutes=2), tick=False)
    fresh, known = make_client(app), make_client(app)
    new_response = fresh.request_password("free@example.ru")
    known_response = known.request_password("taken@example.ru")
    assert new_response.status_code == known_response.status_code == 200
    assert masked(new_response, "free@example.ru") == masked(known_response, "taken@example.ru")
    assert sorted(new_response.headers.keys()) == sorted(known_response.headers.keys())
    notice = mailbox[-1]
    assert notice["To"] == "taken@example.ru"
    assert "уже есть" in text_of(notice)
    assert "/password/forgot" in text_of(notice)
    assert not any(line.count("-") == 2 and len(line) == 14 for line in text_of(notice).split())


def test_contact_accounts_are_linked_at_registration(app, client, mailbox, accounts):
    client.register("Demo@lkabonent.test", mailbox)
    body = client.get("/cabinet/").get_data(as_text=True)
    assert "1080000001" in body and "1080000002" in body
    assert "1080000003" not in body
    with app.app_context():
        assert db.session.scalar(select(func.count(AccountLink.id))) == 2


def test_recovery_logs_in_and_the_old_password_works_until_then(
    app, client, mailbox, make_client, time_machine
):
    time_machine.move_to(NOW, tick=False)
    old = client.register("lost@example.ru", mailbox)
    client.post("/logout")
    time_machine.move_to(NOW + timedelta(minutes=2), tick=False)
    stranger = make_client(app)
    assert stranger.request_password("lost@example.ru", flow="recover").status_code == 200
    new = emailed_password(mailbox[-1])
    assert "Вход" in mailbox[-1]["Subject"] or "вход" in mailbox[-1]["Subject"]
    assert client.login("lost@example.ru", old).status_code == 303  # old still works
    client.post("/logout")
    response = client.post(
        "/password/forgot/confirm", {"email": "lost@example.ru", "password": new}
    )
    assert response.status_code == 303
    client.post("/logout")
    assert client.login("lost@example.ru", old).status_code == 422
    assert client.login("lost@example.ru", new).status_code == 303


def test_recovery_for_an_unknown_address_looks_the_same(client, mailbox):
    response = client.request_password("nobody@example.ru", flow="recover")
    assert response.status_code == 200
    assert "Письмо с паролем отправлено" in response.get_data(as_text=True)
    assert len(mailbox) == 1 and "не найден" in mailbox[0]["Subject"]


def test_change_address_link_returns_to_step_one_with_the_email(client):
    response = client.get("/register?email=me@example.ru", htmx=True)
    body = response.get_data(as_text=True)
    assert 'value="me@example.ru"' in body and "Получить пароль" in body
    assert "readonly" not in body


@pytest.mark.parametrize("htmx", [False, True])
def test_recovery_step_one_page_and_fragment(client, htmx):
    response = client.get("/password/forgot", htmx=htmx)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Логин" in body and "Получить пароль" in body
    assert 'action="/password/forgot"' in body
    assert ("<title>Восстановление доступа" in body) is not htmx
    assert ("<html" in body) is not htmx
    # the help panel is on the page only
    assert ("Подробнее о восстановлении доступа" in body) is not htmx
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize(
    ("url", "submit"),
    [("/register/confirm", "Зарегистрироваться"), ("/password/forgot/confirm", "Войти")],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_step_two_on_its_own_has_an_editable_address(client, url, submit, htmx):
    """For someone who comes back with the mail: address and password, nothing «sent»."""
    response = client.get(f"{url}?email=x", htmx=htmx)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="email"' in body and 'value="x"' in body
    assert "readonly" not in body
    assert 'name="password"' in body and "Пароль" in body
    assert f'type="submit" class="button button--primary">{submit}</button>' in body
    assert "Письмо с паролем отправлено" not in body
    assert ("Даю согласие" in body) is (url == "/register/confirm")
    assert ("<html" in body) is not htmx


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"password": "Wrong-Pass-Word", "consent": "y"}, "Пароль неверен"),
        ({"password": "Wrong-Pass-Word"}, "согласия на обработку"),
        ({"consent": "y"}, "Заполните это поле."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_a_refused_step_two_keeps_the_address_and_does_not_repeat_sent(
    client, mailbox, data, message, htmx
):
    """After a refused try the address stays read-only (it was the one mailed to), and «Письмо
    с паролем отправлено» is not said again: no mail went out this time."""
    first = client.request_password("kept@example.ru", htmx=htmx).get_data(as_text=True)
    assert "Письмо с паролем отправлено" in first
    response = client.post("/register/confirm", {"email": "kept@example.ru", **data}, htmx=htmx)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert re.search(r'<input[^>]*name="email"[^>]*readonly', body), body
    assert 'value="kept@example.ru"' in body and "Изменить адрес" in body
    assert "Письмо с паролем отправлено" not in body
    assert len(mailbox) == 1
