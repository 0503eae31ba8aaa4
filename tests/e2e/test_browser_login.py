"""«Выйти», «Войти» and «Сменить пароль» in the browser."""

import pytest
from playwright.sync_api import expect

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
    portal.field("Текущий пароль").fill(emailed)
    portal.field("Новый пароль").fill(NEW_PASSWORD)
    portal.field("Новый пароль еще раз").fill(NEW_PASSWORD + "!")
    page.get_by_role("button", name="Сменить пароль").click()
    expect(page.get_by_text("Новые пароли не совпадают.")).to_be_visible()
    portal.audit()
    portal.field("Текущий пароль").fill(emailed)
    portal.field("Новый пароль").fill(NEW_PASSWORD)
    portal.field("Новый пароль еще раз").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Сменить пароль").click()
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
