"""«Забыли пароль?» in the browser: a password by mail, which replaces the forgotten one."""

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, make_user

from .portal import CABINET, ON_BOTH_SCREENS

pytestmark = pytest.mark.e2e

LOGIN = "forgetful@example.ru"
WRONG_LOGIN = "Неверный логин или пароль."


@ON_BOTH_SCREENS
def test_forgotten_password_is_replaced_by_the_emailed_one(portal, live_server, base_url):
    make_user(live_server.app, LOGIN)  # its password, PASSWORD, is the forgotten one
    page = portal.page
    portal.visit("/login")
    page.get_by_role("link", name="Забыли пароль?").click()
    expect(page.get_by_role("heading", name="Восстановление доступа")).to_be_visible()
    expect(page).to_have_url(base_url + "/password/forgot")
    portal.audit()

    # «Получить пароль» swaps in step 2 by htmx and mails a password for logging in.
    portal.mark_document()
    with page.expect_request(lambda request: request.method == "POST") as posted:
        emailed = portal.request_password(LOGIN)
    assert posted.value.headers.get("hx-request") == "true"
    assert not posted.value.is_navigation_request()
    assert portal.document_survived()
    expect(page).to_have_url(base_url + "/password/forgot")
    expect(page.get_by_text("Письмо с паролем отправлено на адрес")).to_be_visible()
    assert [mail["Subject"] for mail in portal.mailbox] == ["Пароль для входа в личный кабинет"]
    expect(page.get_by_role("checkbox")).to_have_count(0)  # no consent: the cabinet exists
    portal.audit()

    page.get_by_text("Подробнее о восстановлении доступа").click()
    expect(page.get_by_role("heading", name="Как восстановить доступ")).to_be_visible()
    expect(page.locator("details.help-panel")).to_contain_text("старый перестает действовать")
    portal.audit()

    portal.field("Пароль").fill(emailed)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(CABINET)
    expect(page.get_by_role("banner")).to_contain_text(LOGIN)
    portal.audit()

    # The emailed password is now the cabinet's password; the forgotten one is refused.
    portal.log_out()
    portal.visit("/login")
    portal.log_in(LOGIN, PASSWORD)
    expect(page.get_by_role("alert")).to_have_text(WRONG_LOGIN)
    portal.audit()
    portal.log_in(LOGIN, emailed)
    expect(page).to_have_url(CABINET)
    expect(page.get_by_role("banner")).to_contain_text(LOGIN)
