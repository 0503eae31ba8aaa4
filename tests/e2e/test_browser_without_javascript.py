"""The cabinet without JavaScript: every form is an ordinary page post with its csrf_token field."""

from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect

from .portal import CABINET

pytestmark = pytest.mark.e2e

LOGIN = "plain.owner@example.ru"
NEW_PASSWORD = "Летний дождь над Ялтой"


def test_link_unlink_and_change_password_without_javascript(make_portal, accounts, base_url):
    portal = make_portal(java_script_enabled=False)
    page = portal.page
    emailed = portal.register(LOGIN)
    posts = portal.record_posts()

    page.get_by_role("link", name="введите самостоятельно").click()
    expect(page.get_by_role("heading", name="Привязать лицевой счет")).to_be_visible()
    portal.audit()
    portal.link_account("1080000001", "Иванов")
    expect(page).to_have_url(base_url + "/cabinet/accounts")
    expect(page.get_by_text("Лицевой счет 1080000001 привязан.")).to_be_visible()
    expect(portal.account_rows()).to_have_count(1)
    portal.audit()

    # «Отвязать» without JavaScript leads to a page that asks first.
    page.get_by_role("link", name="Отвязать лицевой счет 1080000001").click()
    expect(page.get_by_role("heading", name="Отвязать лицевой счет 1080000001?")).to_be_visible()
    expect(page.get_by_text(accounts["1080000001"].address)).to_be_visible()
    portal.audit()
    page.get_by_role("button", name="Отвязать").click()
    expect(page).to_have_url(base_url + "/cabinet/accounts")
    expect(page.get_by_text("Лицевой счет 1080000001 отвязан.")).to_be_visible()
    expect(portal.account_rows()).to_have_count(0)
    expect(page.get_by_text("Лицевые счета не привязаны.")).to_be_visible()
    portal.audit()

    page.get_by_role("link", name="Сменить пароль").click()
    expect(page.get_by_role("heading", name="Смена пароля")).to_be_visible()
    portal.change_password(emailed, NEW_PASSWORD)
    expect(page).to_have_url(CABINET)
    expect(page.get_by_text("Пароль изменен.")).to_be_visible()
    portal.audit()

    assert [request.url.removeprefix(base_url) for request in posts] == [
        "/cabinet/accounts/link",
        "/cabinet/accounts/1080000001/unlink",
        "/password/change",
    ]
    for request in posts:
        # A page load, not htmx: the token travels only in the form's hidden field.
        assert request.is_navigation_request(), request.url
        assert "hx-request" not in request.headers, request.url
        assert "x-csrftoken" not in request.headers, request.url
        assert parse_qs(request.post_data).get("csrf_token", [""])[0], request.url

    # The new password is the one that works now.
    portal.log_out()
    portal.visit("/login")
    portal.log_in(LOGIN, NEW_PASSWORD)
    expect(page).to_have_url(CABINET)
    expect(page.get_by_role("banner")).to_contain_text(LOGIN)
