"""«Сеансы входа»: a subscriber logged in in two browsers ends the other one from the first."""

import pytest
from playwright.sync_api import expect

from .portal import CABINET, DESKTOP, PHONE

pytestmark = pytest.mark.e2e

ENDED = "Сеанс входа завершен. Войдите снова, чтобы продолжить."


@pytest.mark.parametrize(
    ("screen", "javascript"),
    [(DESKTOP, True), (PHONE, False)],
    ids=["desktop-js", "phone-no-js"],
    indirect=["screen"],
)
def test_end_the_other_sessions(make_portal, base_url, javascript):
    home = make_portal(java_script_enabled=javascript)
    password = home.register("two@example.ru")
    away = make_portal(user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0")
    away.visit("/login")
    away.log_in("two@example.ru", password)
    expect(away.page).to_have_url(CABINET)

    page = home.page
    page.get_by_role("link", name="Сеансы входа").click()
    expect(page.get_by_role("heading", name="Сеансы входа")).to_be_visible()
    table = page.get_by_role("table", name="Активные сеансы")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").first).to_contain_text("этот сеанс")
    expect(table).to_contain_text("Firefox 133, Windows 10")
    home.audit()

    page.get_by_role("button", name="Завершить все другие сеансы").click()
    expect(page.get_by_role("status")).to_contain_text("Другие сеансы завершены: 1.")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_text("Других сеансов нет.")).to_be_visible()
    expect(page.get_by_role("button", name="Завершить все другие сеансы")).to_have_count(0)
    home.audit()

    away.visit("/cabinet/")
    expect(away.page).to_have_url(base_url + "/login?next=/cabinet/")
    expect(away.page.get_by_text(ENDED)).to_be_visible()
    away.audit()
    home.visit("/cabinet/")
    expect(page).to_have_url(CABINET)
