"""The cabinet, the start page and help through HTTP: pages, htmx fragments and redirects.

No application context stays pushed while requests run: the test client would share it (and
Flask-Login's cached user in ``g``) between requests.
"""

import html
import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from conftest import LOGIN, PASSWORD, logged_in, make_accounts, make_user
from lkabonent.cabinet.services import LinkOutcome, link_account
from lkabonent.cabinet.views import LINK_MESSAGES
from lkabonent.demo import DEMO_EMAIL
from lkabonent.extensions import db
from lkabonent.models import Account, AccountContact, AccountLink, BillingImport, User


def body_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def user(app, client):
    """The client, logged in to the cabinet LOGIN, which has no accounts."""
    make_user(app, LOGIN)
    return logged_in(client)


def link(app, email, *numbers, surname="Орлов"):
    """Link accounts to a cabinet directly through the service."""
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.email == email))
        for number in numbers:
            link_account(owner, number, surname, None)
        db.session.commit()


def twelve_accounts(app):
    """Twelve accounts linked to LOGIN; their numbers in order."""
    numbers = [row.number for row in make_accounts(app, 12)]
    link(app, LOGIN, *numbers)
    return numbers


# --- the start page -------------------------------------------------------------------------------


def test_start_page_for_anonymous(client):
    response = client.get("/")
    body = body_of(response)
    assert response.status_code == 200
    assert "Войти в личный кабинет" in body and 'href="/login"' in body
    assert "Зарегистрироваться" in body and 'href="/register"' in body
    assert "Выйти" not in body


def test_start_page_sends_a_logged_in_user_to_the_cabinet(user):
    response = user.get("/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/cabinet/"
    htmx = user.get("/", htmx=True)
    assert htmx.status_code == 200 and htmx.headers["HX-Redirect"] == "/cabinet/"


# Labels of required fields end with the star, which screen readers skip.
STAR = '<span class="required" aria-hidden="true">*</span></label>'


# --- the login page and «Сменить пароль» ----------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_login_page_and_fragment(client, htmx):
    response = client.get("/login", htmx=htmx)
    body = body_of(response)
    assert response.status_code == 200
    assert 'method="post" action="/login"' in body
    assert '<a href="/register">Зарегистрироваться</a>' in body
    assert '<a href="/password/forgot">Забыли пароль?</a>' in body
    assert f'<label for="email">Логин{STAR}' in body
    assert f'<label for="password">Пароль{STAR}' in body
    assert "* - поле обязательное для заполнения." in body
    assert ("<html" in body) is not htmx


@pytest.mark.parametrize("htmx", [False, True])
def test_password_change_page_and_fragment(user, htmx):
    response = user.get("/password/change", htmx=htmx)
    body = body_of(response)
    assert response.status_code == 200
    assert 'method="post" action="/password/change"' in body
    for name, label in [
        ("current_password", "Текущий пароль"),
        ("new_password", "Новый пароль"),
        ("new_password_again", "Новый пароль еще раз"),
    ]:
        assert f'<label for="{name}">{label}{STAR}' in body
        assert f'name="{name}"' in body
    assert body.count('type="password"') == 3
    assert '<button type="submit" class="button button--primary">Сменить пароль</button>' in body
    assert ("<html" in body) is not htmx
    assert ("<h1>Смена пароля</h1>" in body) is not htmx
    assert "HX-Request" in response.headers["Vary"]


# --- the cabinet's main page ----------------------------------------------------------------------


def test_main_page_without_accounts_explains_how_to_get_them(user):
    response = user.get("/cabinet/")
    body = body_of(response)
    assert response.status_code == 200
    assert LOGIN in body
    assert "Сменить пароль" in body and 'href="/password/change"' in body
    assert "Выйти" in body and 'action="/logout"' in body
    assert 'href="/cabinet/accounts"' in body and "Лицевые счета" in body
    assert "введите самостоятельно" in body
    assert 'href="/cabinet/accounts/link">введите самостоятельно' in body
    assert "пока не привязан ни один лицевой счет" in body


def test_main_page_with_an_account_shows_it_and_no_notice(app, user, accounts):
    link(app, LOGIN, "1080000003", surname="Семёнов")
    body = body_of(user.get("/cabinet/"))
    assert "1080000003" in body and accounts["1080000003"].address in body
    assert "введите самостоятельно" not in body
    assert "пока не привязан" not in body
    assert "1080000001" not in body


def test_main_page_tells_when_data_last_came_from_the_accounting_system(app, user, accounts):
    link(app, LOGIN, "1080000003", surname="Семёнов")
    assert "Данные из системы учета еще не поступали." in body_of(user.get("/cabinet/"))
    with app.app_context():
        for finished, result, rejected in [
            (datetime(2026, 11, 26, 21, 30, tzinfo=UTC), BillingImport.DONE, 0),
            (datetime(2026, 11, 27, 9, 5, tzinfo=UTC), BillingImport.PARTIAL, 3),
            (datetime(2026, 11, 27, 9, 30, tzinfo=UTC), BillingImport.PARTIAL, 10),
            (datetime(2026, 11, 27, 10, 0, tzinfo=UTC), BillingImport.REJECTED, 10),
        ]:
            db.session.add(
                BillingImport(
                    file_name="charges.csv",
                    kind="charges",
                    started_at=finished,
                    finished_at=finished,
                    rows=10,
                    rejected=rejected,
                    result=result,
                )
            )
        db.session.commit()
    # The latest import that took rows in, in Moscow time (UTC+3): not a rejected file, nor one
    # whose every row was set aside.
    assert "Данные из системы учета получены 27 ноября 2026, 12:05." in body_of(
        user.get("/cabinet/")
    )


def test_main_page_offers_every_linked_account_in_its_selector(app, user):
    numbers = twelve_accounts(app)
    body = body_of(user.get("/cabinet/"))
    options = re.findall(r'<option value="(\w+)"( selected)?>', body)
    assert [number for number, _ in options] == numbers
    assert [number for number, selected in options if selected] == [numbers[0]]


# --- «Лицевые счета» ------------------------------------------------------------------------------


def test_accounts_page_full_and_fragment(app, user):
    numbers = twelve_accounts(app)
    page = user.get("/cabinet/accounts")
    fragment = user.get("/cabinet/accounts", htmx=True)
    for response in (page, fragment):
        assert response.status_code == 200
        assert "HX-Request" in response.headers["Vary"]
        body = body_of(response)
        assert 'id="accounts-table"' in body
        assert "Страница 1 из 2" in body
        assert all(number in body for number in numbers[:10])
        assert numbers[10] not in body and numbers[11] not in body
        assert 'href="/cabinet/accounts?page=2"' in body
        assert 'hx-get="/cabinet/accounts?page=2"' in body
        assert "page=0" not in body  # no «previous» on the first page
    assert "<html" in body_of(page) and "<html" not in body_of(fragment)
    assert "Просмотр лицевых счетов" in body_of(page)
    assert "Просмотр лицевых счетов" not in body_of(fragment)
    assert 'href="/cabinet/accounts/link"' in body_of(page)


@pytest.mark.parametrize("htmx", [False, True])
def test_accounts_second_page(app, user, htmx):
    numbers = twelve_accounts(app)
    response = user.get("/cabinet/accounts?page=2", htmx=htmx)
    body = body_of(response)
    assert response.status_code == 200
    assert "Страница 2 из 2" in body
    assert numbers[10] in body and numbers[11] in body
    assert not any(number in body for number in numbers[:10])
    assert 'href="/cabinet/accounts?page=1"' in body
    assert 'hx-get="/cabinet/accounts?page=1"' in body
    assert "page=3" not in body
    assert ("<html" in body) is not htmx


def test_accounts_page_out_of_range_shows_the_last_page(app, user):
    twelve_accounts(app)
    for asked in ("99", "0", "-1"):
        body = body_of(user.get(f"/cabinet/accounts?page={asked}"))
        expected = "Страница 1 из 2" if asked in ("0", "-1") else "Страница 2 из 2"
        assert expected in body
    assert "Страница 1 из 2" in body_of(user.get("/cabinet/accounts?page=abc"))


def test_accounts_boosted_and_history_requests_get_the_whole_page(app, user):
    twelve_accounts(app)
    for header in ("HX-Boosted", "HX-History-Restore-Request"):
        body = body_of(user.get("/cabinet/accounts", htmx=True, headers={header: "true"}))
        assert "<html" in body and 'id="accounts-table"' in body


def test_accounts_page_without_accounts(user):
    body = body_of(user.get("/cabinet/accounts"))
    assert "Лицевые счета не привязаны." in body
    assert "Страница" not in body  # no pager over an empty list


def test_accounts_shows_status_and_only_own_accounts(app, accounts, user, make_client):
    link(app, LOGIN, "1080000001", surname="Иванов")
    make_user(app, "other@example.ru")
    other = logged_in(make_client(app), "other@example.ru")
    link(app, "other@example.ru", "1080000002", surname="Петрова")
    body = body_of(user.get("/cabinet/accounts"))
    assert "1080000001" in body and accounts["1080000001"].address in body
    assert "Действующий" in body
    assert "1080000002" not in body
    assert "1080000002" in body_of(other.get("/cabinet/accounts"))


# --- «Привязать лицевой счет» ---------------------------------------------------------------------


def test_link_page(user):
    response = user.get("/cabinet/accounts/link")
    body = body_of(response)
    assert response.status_code == 200
    for text in (
        "Лицевой счет",
        "Фамилия владельца",
        "Привязать",
        "* - поле обязательное для заполнения.",
        "Ознакомьтесь с тем, как привязать новый лицевой счет",
    ):
        assert text in body
    assert 'href="/help/link-account"' in body
    assert 'method="post" action="/cabinet/accounts/link"' in body
    assert 'aria-current="page"' in body  # «Лицевые счета» stays marked in the menu


def test_link_success_redirects_to_the_list(app, user, accounts):
    response = user.post(
        "/cabinet/accounts/link", {"number": " 108 000-0003 ", "surname": "семенов"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/cabinet/accounts"
    body = body_of(user.get("/cabinet/accounts"))
    assert "Лицевой счет 1080000003 привязан." in body
    assert accounts["1080000003"].address in body


@pytest.mark.parametrize(
    "typed",
    ["1О8ООООOO1", "1о8 оооо оо1", "1O8OOOOOO1"],
    ids=["cyrillic-capitals", "cyrillic-lower-case", "latin"],
)
def test_link_a_number_typed_with_cyrillic_look_alikes(app, user, typed):
    """«О» typed on a Russian layout is the Latin «O» of the receipt."""
    with app.app_context():
        db.session.add(
            Account(
                number="1O8OOOOOO1",
                owner_surname="Орлов",
                status=Account.ACTIVE,
                address="г. Ялта, ул. Морская, д. 1",
            )
        )
        db.session.commit()
    response = user.post("/cabinet/accounts/link", {"number": typed, "surname": "Орлов"})
    assert response.status_code == 303, body_of(response)
    body = body_of(user.get("/cabinet/accounts"))
    assert "Лицевой счет 1O8OOOOOO1 привязан." in body


def test_link_success_for_htmx_is_hx_redirect(user, accounts):
    response = user.post(
        "/cabinet/accounts/link", {"number": "1080000001", "surname": "Иванов"}, htmx=True
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/cabinet/accounts"
    assert "1080000001" in body_of(user.get("/cabinet/accounts"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"number": "12345", "surname": "Иванов"}, "Номер лицевого счета — 10 цифр"),
        ({"number": "10800000011", "surname": "Иванов"}, "Номер лицевого счета — 10 цифр"),
        ({"number": "108000000№", "surname": "Иванов"}, "Номер лицевого счета — 10 цифр"),
        ({"number": "1080000001", "surname": "Иванов2"}, "может содержать только буквы"),
        ({"number": "", "surname": ""}, "Заполните это поле."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_link_with_invalid_input_is_422_in_russian(app, user, accounts, data, message, htmx):
    response = user.post("/cabinet/accounts/link", data, htmx=htmx)
    body = body_of(response)
    assert response.status_code == 422
    assert message in body
    assert ("<html" in body) is not htmx
    assert 'aria-invalid="true"' in body
    with app.app_context():
        assert db.session.scalars(select(AccountLink)).all() == []


@pytest.mark.parametrize(
    ("number", "surname"),
    [("1080000009", "Иванов"), ("1080000001", "Петров"), ("1080000004", "Кузнецов")],
)
def test_refusal_is_the_same_for_every_reason_and_shows_no_address(user, accounts, number, surname):
    response = user.post("/cabinet/accounts/link", {"number": number, "surname": surname})
    body = body_of(response)
    assert response.status_code == 422
    assert "Не удалось привязать лицевой счет" in body
    assert not any(row.address in body for row in accounts.values())
    assert "Закрыт" not in body


def test_link_already_linked_account_is_a_kind_message(app, user, accounts):
    link(app, LOGIN, "1080000002", surname="Петрова")
    response = user.post("/cabinet/accounts/link", {"number": "1080000002", "surname": "Петрова"})
    body = body_of(response)
    assert response.status_code == 200
    assert "Этот лицевой счет уже привязан к вашему кабинету." in body
    assert "К списку лицевых счетов" in body
    assert "alert-info" in body and "alert-error" not in body


def test_too_many_failures_is_429(app, user, accounts):
    for _ in range(app.config["LINK_FAILURES_PER_USER_PER_HOUR"]):
        user.post("/cabinet/accounts/link", {"number": "1080000001", "surname": "Нет"})
    response = user.post("/cabinet/accounts/link", {"number": "1080000001", "surname": "Иванов"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3600"
    assert LINK_MESSAGES[LinkOutcome.TOO_MANY] in body_of(response)
    assert "Повторите через час" in body_of(response)
    assert LINK_MESSAGES[LinkOutcome.NUMBER_LOCKED] not in body_of(response)
    assert "1080000001" not in body_of(user.get("/cabinet/accounts"))


def test_too_many_failures_on_a_number_is_429_until_tomorrow(app, client, accounts):
    """Failures of other cabinets on a number lock it for a day: its own answer and wait."""
    for index in range(app.config["LINK_FAILURES_PER_ACCOUNT_PER_DAY"]):
        make_user(app, f"guess{index}@example.ru")
        link(app, f"guess{index}@example.ru", "1080000001", surname="Нет")
    make_user(app, LOGIN)
    owner = logged_in(client)
    response = owner.post("/cabinet/accounts/link", {"number": "1080000001", "surname": "Иванов"})
    body = body_of(response)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "86400"
    assert (
        "По этому номеру лицевого счета слишком много неудачных попыток. Повторите завтра "
        "или обратитесь в абонентскую службу." in body
    )
    assert LINK_MESSAGES[LinkOutcome.TOO_MANY] not in body
    assert "1080000001" not in body_of(owner.get("/cabinet/accounts"))


def test_link_without_csrf_token_is_refused(app, user, accounts):
    response = user.post(
        "/cabinet/accounts/link", {"number": "1080000001", "surname": "Иванов"}, csrf=False
    )
    assert response.status_code == 400
    assert "Страница устарела" in body_of(response)
    with app.app_context():
        assert db.session.scalars(select(AccountLink)).all() == []


# --- «Отвязать» -----------------------------------------------------------------------------------


def test_unlink_confirmation_page(app, user, accounts):
    link(app, LOGIN, "1080000001", surname="Иванов")
    response = user.get("/cabinet/accounts/1080000001/unlink")
    body = body_of(response)
    assert response.status_code == 200
    assert "Отвязать лицевой счет 1080000001?" in body
    assert accounts["1080000001"].address in body
    assert 'action="/cabinet/accounts/1080000001/unlink"' in body
    assert 'name="csrf_token"' in body
    assert "1080000001" in body_of(user.get("/cabinet/accounts"))  # asking changes nothing


def test_unlink_plain_post_redirects_and_the_account_is_gone(app, user, accounts):
    link(app, LOGIN, "1080000001", surname="Иванов")
    link(app, LOGIN, "1080000002", surname="Петрова")
    response = user.post("/cabinet/accounts/1080000001/unlink")
    assert response.status_code == 303
    assert response.headers["Location"] == "/cabinet/accounts"
    body = body_of(user.get("/cabinet/accounts"))
    assert "Лицевой счет 1080000001 отвязан." in body
    assert "1080000002" in body
    assert "1080000001" not in body.replace("Лицевой счет 1080000001 отвязан.", "")
    assert user.get("/cabinet/accounts/1080000001/unlink").status_code == 404


def test_unlink_htmx_returns_the_table_with_the_notice(app, user, accounts):
    link(app, LOGIN, "1080000001", surname="Иванов")
    link(app, LOGIN, "1080000002", surname="Петрова")
    response = user.post("/cabinet/accounts/1080000002/unlink", htmx=True)
    body = body_of(response)
    assert response.status_code == 200
    assert "<html" not in body
    assert 'id="accounts-table"' in body
    assert "Лицевой счет 1080000002 отвязан." in body
    assert "1080000001" in body
    assert accounts["1080000002"].address not in body


def test_unlink_htmx_on_the_last_page_keeps_a_valid_page(app, user):
    numbers = twelve_accounts(app)
    for number in numbers[10:]:
        response = user.post(f"/cabinet/accounts/{number}/unlink?page=2", htmx=True)
    body = body_of(response)
    assert "Страница 1 из 1" in body
    assert all(number in body for number in numbers[:10])


def test_unlink_of_an_account_not_in_the_cabinet_is_404(app, user, accounts):
    for url in ("/cabinet/accounts/1080000001/unlink", "/cabinet/accounts/9999999999/unlink"):
        assert user.get(url).status_code == 404
        assert user.post(url).status_code == 404
    assert "Страница не найдена" in body_of(user.get("/cabinet/accounts/1080000001/unlink"))


def test_unlinking_in_one_cabinet_leaves_the_family_member_alone(app, accounts, user, make_client):
    link(app, LOGIN, "1080000001", surname="Иванов")
    make_user(app, "wife@example.ru")
    wife = logged_in(make_client(app), "wife@example.ru")
    link(app, "wife@example.ru", "1080000001", surname="Иванов")
    assert wife.post("/cabinet/accounts/1080000001/unlink").status_code == 303
    assert "1080000001" in body_of(user.get("/cabinet/accounts"))
    assert user.get("/cabinet/accounts/1080000001/unlink").status_code == 200


# --- login required -------------------------------------------------------------------------------


def location_parts(response):
    parts = urlsplit(response.headers["Location"])
    return parts.path, parse_qs(parts.query)


@pytest.mark.parametrize(
    "url",
    [
        "/cabinet/",
        "/cabinet/accounts",
        "/cabinet/accounts?page=2",
        "/cabinet/accounts/link",
        "/cabinet/accounts/1080000001/unlink",
    ],
)
def test_anonymous_is_sent_to_login_with_next(client, url):
    response = client.get(url)
    assert response.status_code == 303
    assert location_parts(response) == ("/login", {"next": [url]})


def test_anonymous_post_is_sent_to_login_without_next(client, accounts):
    response = client.post("/cabinet/accounts/link", {"number": "1080000001", "surname": "Иванов"})
    assert response.status_code == 303
    assert location_parts(response) == ("/login", {})


def test_anonymous_htmx_request_gets_hx_redirect(client):
    response = client.get(
        "/cabinet/accounts?page=2",
        htmx=True,
        headers={"HX-Current-URL": "http://localhost/cabinet/accounts"},
    )
    assert response.status_code == 200
    target = urlsplit(response.headers["HX-Redirect"])
    assert (target.path, parse_qs(target.query)) == ("/login", {"next": ["/cabinet/accounts"]})
    assert "<html" not in body_of(response)


def test_after_login_the_user_lands_on_next(app, client):
    make_user(app, LOGIN)
    redirect = client.get("/cabinet/accounts?page=2")
    login_page = client.get(redirect.headers["Location"])
    body = body_of(login_page)
    assert "Войдите в личный кабинет, чтобы продолжить." in body
    assert 'name="next" value="/cabinet/accounts?page=2"' in body
    response = client.post(
        "/login", {"email": LOGIN, "password": PASSWORD, "next": "/cabinet/accounts?page=2"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/cabinet/accounts?page=2"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/cabinet/",
        "https://evil.example",
        "https://evil.example/cabinet/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_an_external_next_is_ignored(app, client, target):
    make_user(app, LOGIN)
    response = client.post("/login", {"email": LOGIN, "password": PASSWORD, "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/cabinet/"


# --- linking by contact at login ------------------------------------------------------------------


def test_a_contact_added_after_registration_shows_up_at_the_next_login(app, client, accounts):
    make_user(app, DEMO_EMAIL)
    logged_in(client, DEMO_EMAIL)
    body = body_of(client.get("/cabinet/"))
    assert "1080000001" in body and "1080000002" in body
    assert "1080000003" not in body
    # The accounting system adds the address to another account.
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.number == "1080000003"))
        db.session.add(AccountContact(account_id=account.id, email=DEMO_EMAIL))
        db.session.commit()
    assert client.post("/logout").status_code == 303
    assert client.login(DEMO_EMAIL, PASSWORD).status_code == 303
    body = body_of(client.get("/cabinet/accounts"))
    assert all(number in body for number in ("1080000001", "1080000002", "1080000003"))


def test_an_unlinked_contact_account_stays_unlinked_after_login(app, client, accounts):
    make_user(app, DEMO_EMAIL)
    logged_in(client, DEMO_EMAIL)
    assert client.post("/cabinet/accounts/1080000001/unlink").status_code == 303
    client.post("/logout")
    assert client.login(DEMO_EMAIL, PASSWORD).status_code == 303
    body = body_of(client.get("/cabinet/accounts"))
    assert "1080000002" in body and "1080000001" not in body


def test_login_address_is_matched_case_insensitively(app, client, accounts):
    make_user(app, DEMO_EMAIL)
    assert client.login("Demo@LKAbonent.test", PASSWORD).status_code == 303
    body = body_of(client.get("/cabinet/accounts"))
    assert "1080000001" in body and "1080000002" in body


# --- help and errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "title"),
    [
        ("registration", "Как зарегистрироваться"),
        ("recovery", "Как восстановить доступ"),
        ("link-account", "Как привязать лицевой счет"),
        ("accounts", "Ваши лицевые счета"),
    ],
)
def test_help_topic_page_and_fragment(client, topic, title):
    page = client.get(f"/help/{topic}")
    fragment = client.get(f"/help/{topic}", htmx=True)
    assert page.status_code == fragment.status_code == 200
    assert title in body_of(page) and title in body_of(fragment)
    assert "<html" in body_of(page) and f"<title>{title}" in body_of(page)
    assert "<html" not in body_of(fragment)
    assert "HX-Request" in fragment.headers["Vary"]


@pytest.mark.parametrize("topic", ["registration", "recovery"])
@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize(
    ("ttl", "lifetime"), [(None, "30 минут"), (60, "1 минуту"), (120, "2 минуты")]
)
def test_help_gives_the_password_lifetime_of_the_settings(
    make_app, make_client, topic, htmx, ttl, lifetime
):
    app = make_app(**({} if ttl is None else {"REGISTRATION_PASSWORD_TTL": ttl}))
    body = body_of(make_client(app).get(f"/help/{topic}", htmx=htmx))
    assert f"действует {lifetime}." in body
    if ttl is not None:
        assert "30 минут" not in body


def test_help_panel_on_the_link_page_loads_its_topic(user):
    body = body_of(user.get("/cabinet/accounts/link"))
    assert 'hx-get="/help/link-account"' in body


def test_privacy_policy_page(app, client):
    response = client.get("/help/privacy")
    body = body_of(response)
    assert response.status_code == 200
    assert "Политика обработки персональных данных" in body
    assert app.config["PRIVACY_POLICY_VERSION"] in body
    assert "152-ФЗ" in body


@pytest.mark.parametrize("url", ["/no-such-page", "/help/no-such-topic", "/cabinet/nothing"])
def test_unknown_address_is_a_russian_404(user, url):
    response = user.get(url)
    body = body_of(response)
    assert response.status_code == 404
    assert "Страница не найдена" in body and "Проверьте адрес" in body
    assert "<html" in body and 'lang="ru"' in body
    # To htmx, a 404 answers a button or link of an open page whose target is gone.
    fragment = user.get(url, htmx=True)
    assert fragment.status_code == 404
    assert "Не найдено" in body_of(fragment) and "другой вкладке" in body_of(fragment)
    assert 'class="error-message"' in body_of(fragment) and "<html" not in body_of(fragment)


def test_unknown_help_topic_for_anonymous_is_404(client):
    response = client.get("/help/privacy-policy")
    assert response.status_code == 404
    assert "Страница не найдена" in body_of(response)


def test_htmx_error_answers_are_a_message_fragment(client):
    """An error answer to htmx is a message to swap in, not a page: here an expired form."""
    response = client.post("/register", {"email": "me@example.ru"}, htmx=True, csrf=False)
    body = body_of(response)
    assert response.status_code == 400
    assert "Страница устарела или форма отправлена не с нашего сайта" in body
    assert 'role="alert"' in body
    assert "<html" not in body


@pytest.mark.parametrize("url", ["/", "/login", "/register", "/cabinet/", "/no-such-page"])
def test_htmx_swaps_error_answers(user, make_client, app, url):
    """htmx drops 4xx and 5xx answers unless told to swap them: every page's htmx-config does."""
    response = user.get(url) if url == "/cabinet/" else make_client(app).get(url)
    found = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", body_of(response))
    assert found, url
    config = json.loads(found.group(1))
    rules = {rule["code"]: rule for rule in config["responseHandling"]}
    assert rules["[45].."]["swap"] is True
    assert rules["[45].."]["error"] is True
    assert rules["42[29]"]["swap"] is True
    assert rules["204"]["swap"] is False
    assert rules["[23].."]["swap"] is True
    assert config["historyCacheSize"] == 0 and config["allowEval"] is False
