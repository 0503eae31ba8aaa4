"""«Лицевые счета» in the browser: «Привязать», the paged table, «Отвязать»."""

import re

import pytest
from playwright.sync_api import expect

from .portal import ON_BOTH_SCREENS

pytestmark = pytest.mark.e2e

REFUSED = "Не удалось привязать лицевой счет"


@ON_BOTH_SCREENS
def test_link_two_accounts_and_one_refused(portal, accounts):
    page = portal.page
    portal.register("owner@example.ru")
    page.get_by_role("link", name="введите самостоятельно").click()
    expect(page.get_by_role("heading", name="Привязать лицевой счет")).to_be_visible()
    portal.audit()

    portal.link_account("1080000001", "Иванов")
    expect(page.get_by_role("heading", name="Просмотр лицевых счетов")).to_be_visible()
    expect(page.get_by_text("Лицевой счет 1080000001 привязан.")).to_be_visible()
    portal.audit()

    page.get_by_role("link", name="+ Привязать лицевой счет").click()
    portal.audit()
    portal.link_account("1080000002", "Сидоров")
    expect(page.get_by_role("alert")).to_contain_text(REFUSED)
    expect(portal.field("Лицевой счет")).to_have_value("1080000002")
    portal.audit()
    portal.field("Фамилия владельца").fill("Петрова")
    page.get_by_role("button", name="Привязать", exact=True).click()

    expect(page.get_by_text("Лицевой счет 1080000002 привязан.")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(
        ["Номер", "Наименование объекта", "Статус", "Действия"]
    )
    rows = portal.account_rows()
    expect(rows).to_have_count(2)
    for row, number in zip(rows.all(), ["1080000001", "1080000002"], strict=True):
        expect(row.get_by_role("cell").first).to_have_text(number)
        expect(row).to_contain_text(accounts[number].address)
        expect(row).to_contain_text("Действующий")
    expect(page.get_by_text("Страница 1 из 1", exact=True)).to_be_visible()
    portal.audit()


@ON_BOTH_SCREENS
def test_paging_swaps_the_table_and_pushes_the_address(portal, contact_accounts, base_url):
    page = portal.page
    numbers = contact_accounts(12, "landlord@example.ru")
    portal.register("landlord@example.ru")
    page.get_by_role("navigation", name="Разделы кабинета").get_by_role(
        "link", name="Лицевые счета"
    ).click()
    expect(page.get_by_text("Страница 1 из 2", exact=True)).to_be_visible()
    expect(portal.account_rows()).to_have_count(10)
    portal.audit()

    portal.mark_document()
    page.get_by_role("link", name="Следующая →").click()
    expect(page.get_by_text("Страница 2 из 2", exact=True)).to_be_visible()
    expect(page).to_have_url(base_url + "/cabinet/accounts?page=2")
    expect(portal.account_rows().locator("td:first-child")).to_have_text(numbers[10:])
    expect(page.get_by_role("link", name="Следующая →")).to_have_count(0)
    # Focus moves into the new table, so a screen reader reads its caption with the page number.
    expect(page.get_by_role("table", name="Список лицевых счетов, страница 2 из 2")).to_be_focused()
    assert portal.document_survived()
    portal.audit()

    # «Назад» asks the server for page 1 again: htmx keeps no copy of the page in the browser.
    page.go_back()
    expect(page).to_have_url(base_url + "/cabinet/accounts")
    expect(page.get_by_text("Страница 1 из 2", exact=True)).to_be_visible()
    expect(portal.account_rows().locator("td:first-child")).to_have_text(numbers[:10])
    assert portal.document_survived()
    assert page.evaluate("sessionStorage.getItem('htmx-history-cache')") is None
    portal.audit()


@ON_BOTH_SCREENS
def test_unlink_asks_first_and_stays_unlinked(portal, accounts):
    page = portal.page
    password = portal.register("demo@lkabonent.test")
    # The page that asks without JavaScript, audited here where axe can run; «Отмена» keeps it.
    portal.visit("/cabinet/accounts/1080000001/unlink")
    expect(page.get_by_role("heading", name="Отвязать лицевой счет 1080000001?")).to_be_visible()
    page.get_by_role("link", name="Отмена").click()
    expect(page).to_have_url(re.compile(r"/cabinet/accounts$"))
    expect(portal.account_rows()).to_have_count(2)
    unlink = page.get_by_role("link", name="Отвязать лицевой счет 1080000001")
    questions = []

    def answer_next_dialog(accept: bool) -> None:
        """Note the question of the next confirmation dialog and press «OK» or «Отмена»."""

        def handle(dialog):
            questions.append(dialog.message)
            if accept:
                dialog.accept()
            else:
                dialog.dismiss()

        page.once("dialog", handle)

    answer_next_dialog(accept=False)
    unlink.click()
    expect(portal.account_rows()).to_have_count(2)
    answer_next_dialog(accept=True)
    unlink.click()
    expect(page.get_by_text("Лицевой счет 1080000001 отвязан.")).to_be_visible()
    expect(portal.account_rows()).to_have_count(1)
    expect(portal.account_rows()).to_contain_text("1080000002")
    assert len(questions) == 2 and all("1080000001" in question for question in questions)
    portal.audit()

    # Logging in again does not link it back by contact.
    portal.log_out()
    portal.visit("/login")
    portal.log_in("demo@lkabonent.test", password)
    expect(page.locator(".account-selector")).to_have_text(
        re.compile(r"^\s*Лицевой счет 1080000002 — ")
    )
    portal.audit()


def test_unlinking_in_a_stale_tab_keeps_the_table_and_says_why(portal, accounts):
    """An error answer to htmx (here 404: the account was unlinked in another tab) shows its
    message at the top of the page; the table it was aimed at stays as it was."""
    page = portal.page
    portal.register("demo@lkabonent.test")
    portal.visit("/cabinet/accounts")
    expect(portal.account_rows()).to_have_count(2)
    # The same cabinet in another tab unlinks 1080000001 first.
    other = page.context.new_page()
    other.goto(page.url)
    other.once("dialog", lambda dialog: dialog.accept())
    other.get_by_role("link", name="Отвязать лицевой счет 1080000001").click()
    expect(other.get_by_text("Лицевой счет 1080000001 отвязан.")).to_be_visible()
    other.close()

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(lambda response: response.request.method == "POST") as answered:
        page.get_by_role("link", name="Отвязать лицевой счет 1080000001").click()
    assert answered.value.status == 404
    message = page.locator("#page-alert").get_by_role("alert")
    expect(message).to_contain_text("возможно, они изменились в другой вкладке")
    expect(portal.account_rows()).to_have_count(2)  # the stale table, not an error page in it
    portal.take_console_errors()  # the 404 itself is logged by Chromium and htmx
    portal.audit()
