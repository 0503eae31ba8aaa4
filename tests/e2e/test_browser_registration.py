"""Registration in the browser: with htmx, without JavaScript, its help panel, auto-linking."""

import re

import pytest
from playwright.sync_api import expect

from .portal import CABINET, ON_BOTH_SCREENS, WRONG_EMAILED_PASSWORD

pytestmark = pytest.mark.e2e

WRONG_PASSWORD = "Abcd-Efgh-Jkmn"


@ON_BOTH_SCREENS
def test_registration_from_the_start_page(portal, base_url):
    page = portal.page
    portal.visit("/")
    page.get_by_role("link", name="Войти в личный кабинет").click()
    expect(page.get_by_role("heading", name="Вход в личный кабинет")).to_be_visible()
    portal.audit()
    page.get_by_role("link", name="Зарегистрироваться").click()
    expect(page.get_by_role("heading", name="Регистрация")).to_be_visible()
    portal.audit()

    # «Получить пароль» swaps in step 2 by htmx: same document, same address.
    portal.mark_document()
    with page.expect_request(lambda request: request.method == "POST") as posted:
        password = portal.request_password("new.user@example.ru")
    assert posted.value.headers.get("hx-request") == "true"
    assert not posted.value.is_navigation_request()
    assert portal.document_survived()
    expect(page).to_have_url(base_url + "/register")
    expect(page.get_by_text("Письмо с паролем отправлено на адрес")).to_be_visible()
    portal.audit()

    portal.enter_emailed_password(WRONG_PASSWORD)
    expect(page.get_by_text(WRONG_EMAILED_PASSWORD)).to_be_visible()
    expect(portal.field("Пароль")).to_have_attribute("aria-invalid", "true")
    assert portal.document_survived()
    portal.audit()

    portal.enter_emailed_password(password)
    expect(page).to_have_url(CABINET)
    header = page.get_by_role("banner")
    expect(header.get_by_text("new.user@example.ru")).to_be_visible()
    expect(header.get_by_role("link", name="Сменить пароль")).to_be_visible()
    expect(header.get_by_role("button", name="Выйти")).to_be_visible()
    notice = page.locator(".notice")
    expect(notice).to_contain_text("не привязан ни один лицевой счет")
    expect(notice.get_by_role("link", name="введите самостоятельно")).to_be_visible()
    portal.audit()

    session_cookie = next(
        cookie for cookie in page.context.cookies() if cookie["name"] == "lkabonent_session"
    )
    assert session_cookie["secure"] and session_cookie["httpOnly"]
    assert session_cookie["sameSite"] == "Lax"


@ON_BOTH_SCREENS
def test_registration_without_javascript(make_portal, base_url):
    portal = make_portal(java_script_enabled=False)
    page = portal.page
    posts = portal.record_posts()
    portal.visit("/register")
    # Without JavaScript the help panel offers its page, and «Свернуть» is not shown.
    page.get_by_text("Подробнее о регистрации").click()
    expect(page.get_by_role("link", name="Открыть справку")).to_be_visible()
    expect(page.get_by_role("button", name="Свернуть")).to_be_hidden()

    password = portal.request_password("plain@example.ru")
    expect(page).to_have_url(base_url + "/register")
    portal.audit()
    portal.enter_emailed_password(WRONG_PASSWORD)
    expect(page.get_by_text(WRONG_EMAILED_PASSWORD)).to_be_visible()
    expect(page).to_have_url(base_url + "/register/confirm")
    portal.audit()
    portal.enter_emailed_password(password)
    expect(page).to_have_url(CABINET)
    expect(page.get_by_role("link", name="введите самостоятельно")).to_be_visible()
    portal.audit()

    assert [request.url.removeprefix(base_url) for request in posts] == [
        "/register",
        "/register/confirm",
        "/register/confirm",
    ]
    assert all(request.is_navigation_request() for request in posts)


@ON_BOTH_SCREENS
def test_help_panel_loads_by_htmx_and_folds(portal):
    page = portal.page
    loads = []
    page.on("request", lambda request: "/help/" in request.url and loads.append(request.url))
    portal.visit("/register")
    panel = page.locator("details.help-panel")
    expect(page.get_by_role("heading", name="Как зарегистрироваться")).to_have_count(0)

    page.get_by_text("Подробнее о регистрации").click()
    expect(page.get_by_role("heading", name="Как зарегистрироваться")).to_be_visible()
    expect(panel).to_contain_text("Получить пароль")
    expect(page.get_by_role("link", name="Открыть справку")).to_have_count(0)
    portal.audit()

    page.get_by_role("button", name="Свернуть").click()
    expect(panel).not_to_have_attribute("open", re.compile(".*"))
    expect(page.get_by_role("heading", name="Как зарегистрироваться")).to_be_hidden()
    expect(panel.locator("summary")).to_be_focused()

    page.get_by_text("Подробнее о регистрации").click()
    expect(page.get_by_role("heading", name="Как зарегистрироваться")).to_be_visible()
    assert len(loads) == 1, loads  # the text is loaded once
    portal.audit()


@ON_BOTH_SCREENS
def test_accounts_of_a_contact_appear_after_registration(portal, accounts):
    portal.register("demo@lkabonent.test")
    listed = portal.page.get_by_label("Лицевой счет").locator("option")
    expect(listed).to_have_count(2)
    expect(listed.nth(0)).to_contain_text("1080000001")
    expect(listed.nth(0)).to_contain_text(accounts["1080000001"].address)
    expect(listed.nth(1)).to_contain_text("1080000002")
    expect(portal.page.locator(".notice")).to_have_count(0)


def test_change_address_returns_to_step_1_by_htmx(portal, base_url):
    page = portal.page
    portal.visit("/register")
    portal.request_password("typo@exmaple.ru")
    expect(portal.field("Логин")).not_to_be_editable()

    # «Изменить адрес» swaps step 1 back in, with the address typed before, without a reload.
    portal.mark_document()
    with page.expect_request(lambda request: "/register?" in request.url) as asked:
        page.get_by_role("link", name="Изменить адрес").click()
    expect(page.get_by_role("button", name="Получить пароль")).to_be_visible()
    expect(portal.field("Пароль")).to_have_count(0)
    address = portal.field("Логин")
    expect(address).to_have_value("typo@exmaple.ru")
    expect(address).to_be_editable()
    expect(address).to_be_focused()
    assert asked.value.headers.get("hx-request") == "true"
    assert not asked.value.is_navigation_request()
    assert portal.document_survived()
    expect(page).to_have_url(base_url + "/register")
    portal.audit()

    # The corrected address gets the next password; the first went to the typo.
    password = portal.request_password("fixed@example.ru")
    assert portal.document_survived()
    portal.enter_emailed_password(password)
    expect(page).to_have_url(CABINET)
    expect(page.get_by_role("banner")).to_contain_text("fixed@example.ru")
