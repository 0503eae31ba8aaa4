"""«Выйти», «Войти», «Сменить пароль» and an error answer to htmx in the browser."""

import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from lkabonent.errors import CSRF_MESSAGE

from .portal import CABINET, ON_BOTH_SCREENS

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "Крымское солнце 2026"
WRONG_LOGIN = "Неверный логин или пароль."


@ON_BOTH_SCREENS
def test_log_out_log_in_and_change_password(portal, base_url):
    page = portal.page
    emailed = portal.register("changer@example.ru")
    portal.log_out()
    portal.audit()

    # The cabinet is closed after «Выйти»; the login form brings the user back to it.
    portal.visit("/cabinet/")
    expect(page).to_have_url(base_url + "/login?next=/cabinet/")
    expect(page.get_by_text("Войдите в личный кабинет, чтобы продолжить.")).to_be_visible()
    portal.log_in("changer@example.ru", emailed)
    expect(page).to_have_url(CABINET)
    expect(page.get_by_role("banner")).to_contain_text("changer@example.ru")

    page.get_by_role("link", name="Сменить пароль").click()
    expect(page.get_by_role("heading", name="Смена пароля")).to_be_visible()
    portal.audit()
    portal.change_password(emailed, NEW_PASSWORD, again=NEW_PASSWORD + "!")
    expect(page.get_by_text("Новые пароли не совпадают.")).to_be_visible()
    portal.audit()
    portal.change_password(emailed, NEW_PASSWORD)
    expect(page).to_have_url(CABINET)
    expect(page.get_by_text("Пароль изменен.")).to_be_visible()
    portal.audit()
    assert portal.mailbox[-1]["Subject"] == "Пароль личного кабинета изменен"

    portal.log_out()
    portal.visit("/login")
    portal.log_in("changer@example.ru", emailed)
    expect(page.get_by_role("alert")).to_have_text(WRONG_LOGIN)
    portal.audit()
    portal.log_in("changer@example.ru", NEW_PASSWORD)
    expect(page).to_have_url(CABINET)
    expect(page.get_by_role("banner")).to_contain_text("changer@example.ru")
    portal.audit()


def test_an_error_answer_to_htmx_is_shown_above_the_form(portal):
    page = portal.page
    portal.visit("/login")
    # The page's token goes bad, as when its session ended: in the header htmx sends and in the
    # form's hidden field.
    page.evaluate("document.body.setAttribute('hx-headers', '{\"X-CSRFToken\": \"broken\"}')")
    page.locator("form input[name=csrf_token]").evaluate("input => { input.value = 'broken' }")
    portal.mark_document()
    with page.expect_response(lambda response: response.request.method == "POST") as answered:
        portal.log_in("someone@example.ru", PASSWORD)
    assert answered.value.status == 400
    assert answered.value.request.headers.get("hx-request") == "true"

    # The message appears at the top of the page; the form stays, to be sent again.
    message = page.locator("#page-alert").get_by_role("alert")
    expect(message).to_contain_text(CSRF_MESSAGE)
    expect(message).to_be_visible()
    expect(message.get_by_role("heading", level=2)).to_have_text("Некорректный запрос")
    expect(page.get_by_role("button", name="Войти")).to_have_count(1)
    expect(page.get_by_text(WRONG_LOGIN)).to_have_count(0)
    assert portal.document_survived()
    # Chromium logs the 400 answer and htmx its response error, and nothing else is logged.
    errors = portal.take_console_errors()
    assert len(errors) == 2, errors
    assert re.match(r"Failed to load resource: .* status of 400 ", errors[0]), errors
    assert errors[1].startswith("Response Status Error Code 400 from /login"), errors
    portal.audit()

    # «Обновите страницу и повторите»: the reloaded form has a good token again.
    page.reload()
    portal.log_in("someone@example.ru", PASSWORD)
    expect(page.get_by_role("alert")).to_have_text(WRONG_LOGIN)
    portal.audit()
