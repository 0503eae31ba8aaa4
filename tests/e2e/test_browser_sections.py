"""The cabinet's sections in the browser on the demo data: the main page's widgets, the account
selector, Расчеты with its chart, Задолженность, Произведенные платежи and Приборы учета."""

import calendar
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, update

from lkabonent.cabinet.finance import add_months
from lkabonent.demo import DEMO_EMAIL
from lkabonent.extensions import db
from lkabonent.models import (
    AccountContact,
    Charge,
    Meter,
    Payment,
)
from lkabonent.text import date_ru, money_ru, month_genitive_ru, month_ru, number_ru, plural_ru

from .demo import FIRST, RECEIVED_AT, SECOND, money_of
from .portal import CABINET, ON_BOTH_SCREENS, PHONE

pytestmark = pytest.mark.e2e

# --- the main page ------------------------------------------------------------------------


@ON_BOTH_SCREENS
def test_main_page_widgets_of_the_demo_subscriber(portal, demo, base_url):
    page = portal.page
    demo.verify_meters(FIRST)
    portal.register(DEMO_EMAIL)
    expect(page.get_by_role("heading", name="Личный кабинет", level=1)).to_be_visible()
    expect(page.get_by_label("Лицевой счет")).to_have_value(FIRST)

    latest = demo.latest_month(FIRST)
    bill = portal.widget("Печать квитанции")
    expect(bill).to_contain_text(
        f"Счет за {month_ru(latest)}: к оплате {money_ru(demo.to_pay(FIRST, latest))}"
    )
    due_on = add_months(latest, 1).replace(day=demo.app.config["PAYMENT_DUE_DAY"])
    expect(bill).to_contain_text(f"срок оплаты — до {date_ru(due_on)}")
    money_of(bill.locator(".amount"))

    payments = portal.widget("Произведенные платежи")
    items = payments.get_by_role("listitem")
    expected = demo.payments(FIRST)[:3]
    expect(items).to_have_count(3)
    for item, (amount, paid_on) in zip(items.all(), expected, strict=True):
        expect(item.locator(".amount")).to_have_text(money_ru(amount))
        expect(item).to_contain_text(date_ru(paid_on))
    money_of(payments.locator(".amount"))
    expect(payments.get_by_role("link", name="Все платежи")).to_have_attribute(
        "href", f"/cabinet/payments?account={FIRST}"
    )

    debt = demo.debt(FIRST)
    assert debt.total > 0 and debt.penalties > 0  # the demo's debtor, with пени
    widget = portal.widget("Задолженность")
    expect(widget).to_contain_text(
        f"{money_ru(debt.total)}, в том числе пени {money_ru(debt.penalties)}"
    )
    expect(widget.get_by_role("link", name="Подробнее")).to_have_attribute("href", "/cabinet/debt")

    # Every meter of the account waits for this month's readings: the window is open all month.
    today = demo.today
    last_day = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    days_left = (last_day - today).days + 1
    readings = portal.widget("Подать показания")
    meters = demo.meters(FIRST)
    links = readings.get_by_role("listitem").get_by_role("link")
    expect(links).to_have_text([f"{row.service}, № {row.serial}" for row in meters])
    for link, row in zip(links.all(), meters, strict=True):
        expect(link).to_have_attribute("href", f"/cabinet/meters/{row.id}")
    expect(readings.get_by_role("listitem").first).to_contain_text(
        f"прием до {date_ru(last_day)} ({plural_ru(days_left, 'остался', 'осталось', 'осталось')} "
        f"{days_left} {plural_ru(days_left, 'день', 'дня', 'дней')})"
    )
    expect(readings.get_by_role("link", name="Подать показания")).to_have_attribute(
        "href", f"/cabinet/meters/?account={FIRST}"
    )
    expect(page.get_by_text("Данные из системы учета получены")).to_contain_text(
        f"{date_ru(today.replace(day=1))}, {RECEIVED_AT}"
    )
    portal.audit()

    # The bill's link opens Расчеты of that month.
    bill.get_by_role("link", name=f"Расчет за {month_ru(latest)}").click()
    expect(page).to_have_url(f"{base_url}/cabinet/charges?account={FIRST}&month={latest:%Y-%m}")
    expect(page.get_by_role("table", name=charges_caption(latest))).to_be_visible()
    portal.audit()


def test_main_page_without_payments_and_debt(portal, demo):
    """An account that has paid nothing ever and owes nothing now (its last bill is settled)."""
    number = "1080000003"
    account_id = demo.account_id(number)
    latest = demo.latest_month(number)
    demo.execute(delete(Payment).where(Payment.account_id == account_id))
    demo.execute(
        update(Charge)
        .where(Charge.account_id == account_id, Charge.month == latest)
        .values(closing_balance=0)
    )
    demo.run(
        lambda: db.session.add(AccountContact(account_id=account_id, email="quiet@example.ru"))
    )

    portal.register("quiet@example.ru")
    page = portal.page
    # One account: no selector, the account is named instead.
    expect(page.locator(".account-selector")).to_contain_text(f"Лицевой счет {number}")
    expect(page.get_by_role("combobox")).to_have_count(0)
    payments = portal.widget("Произведенные платежи")
    expect(payments).to_contain_text("Платежей нет")
    expect(payments.get_by_role("listitem")).to_have_count(0)
    debt = portal.widget("Задолженность")
    expect(debt).to_contain_text("Задолженностей нет")
    expect(debt.get_by_role("link", name="Подробнее")).to_have_count(0)
    expect(portal.widget("Печать квитанции")).to_contain_text("к оплате ничего")
    portal.audit()


def test_the_chosen_account_is_shown_and_remembered(portal, demo):
    page = portal.page
    password = portal.register(DEMO_EMAIL)
    first, second = demo.debt(FIRST), demo.debt(SECOND)
    expect(portal.widget("Задолженность")).to_contain_text(money_ru(first.total))

    portal.choose_account(SECOND)
    expect(page).to_have_url(CABINET)
    expect(page.get_by_label("Лицевой счет")).to_have_value(SECOND)
    assert second.penalties == 0
    debt = portal.widget("Задолженность")
    expect(debt).to_contain_text(money_ru(second.total))
    expect(debt).not_to_contain_text("пени")
    (amount, paid_on), *_ = demo.payments(SECOND)
    expect(portal.widget("Произведенные платежи").get_by_role("listitem").first).to_contain_text(
        f"{money_ru(amount)} — {date_ru(paid_on)}"
    )
    portal.audit()

    # Another section shows the same account without being told.
    portal.open_section("Приборы учета")
    expect(page.get_by_label("Лицевой счет")).to_have_value(SECOND)
    portal.audit()

    # «Назад» to a page of the other account: the selector names the account the page shows,
    # not the choice the browser would restore.
    portal.visit(f"/cabinet/charges?account={FIRST}")
    portal.choose_account(SECOND)
    expect(page.get_by_role("table", name=re.compile(f"лицевой счет {SECOND}$"))).to_be_visible()
    page.go_back()
    expect(page.get_by_role("table", name=re.compile(f"лицевой счет {FIRST}$"))).to_be_visible()
    expect(page.get_by_label("Лицевой счет", exact=True)).to_have_value(FIRST)

    portal.log_out()
    portal.visit("/login")
    portal.log_in(DEMO_EMAIL, password)
    expect(page).to_have_url(CABINET)
    expect(page.get_by_label("Лицевой счет")).to_have_value(SECOND)
    expect(portal.widget("Задолженность")).to_contain_text(money_ru(second.total))
    portal.audit()


# --- Расчеты ------------------------------------------------------------------------------


def charges_caption(month: date, number: str = FIRST) -> str:
    return f"Начисления за {month_ru(month)}, лицевой счет {number}"


def fits(table) -> bool:
    """The table is whole within its frame (a region that scrolls sideways when it is not)."""
    return table.evaluate("table => table.offsetWidth <= table.parentElement.clientWidth")


def label_of(cell) -> str:
    """What a narrow screen shows before a cell of a stacked table: its column's name."""
    return cell.evaluate("cell => getComputedStyle(cell, '::before').content")


def show_month(page, month: date) -> None:
    """Choose the month in «Месяц» and press the month selector's «Показать»."""
    selector = page.locator("form.month-selector")
    selector.get_by_label("Месяц", exact=True).select_option(f"{month:%Y-%m}")
    selector.get_by_role("button", name="Показать").click()


@ON_BOTH_SCREENS
def test_charges_of_another_month_are_swapped_in(portal, demo, base_url):
    page = portal.page
    portal.register(DEMO_EMAIL)
    portal.open_section("Расчеты")
    latest = demo.latest_month(FIRST)
    table = page.get_by_role("table", name=charges_caption(latest))
    expect(table).to_be_visible()
    expect(page.get_by_label("Месяц", exact=True)).to_have_value(f"{latest:%Y-%m}")
    expect(table.locator("tbody tr")).to_have_count(demo.charge_lines(FIRST, latest))
    expect(table.locator("tbody tr").last.get_by_role("rowheader")).to_have_text("Пени")
    total = table.locator("tfoot tr")
    expect(total.get_by_role("rowheader")).to_have_text("Итого")
    expect(total.get_by_role("cell").last).to_have_text(money_ru(demo.to_pay(FIRST, latest)))
    money_of(total.get_by_role("cell"))
    assert fits(table)  # on a phone, a card per service
    portal.audit()

    portal.mark_document()
    earlier = add_months(latest, -1)
    show_month(page, earlier)
    table = page.get_by_role("table", name=charges_caption(earlier))
    expect(table).to_be_focused()
    expect(page).to_have_url(f"{base_url}/cabinet/charges?account={FIRST}&month={earlier:%Y-%m}")
    expect(table.locator("tfoot tr").get_by_role("cell").last).to_have_text(
        money_ru(demo.to_pay(FIRST, earlier))
    )
    expect(page.get_by_label("Месяц", exact=True)).to_have_value(f"{earlier:%Y-%m}")
    expect(page.get_by_role("table", name=charges_caption(latest))).to_have_count(0)
    assert portal.document_survived()
    portal.audit()


def test_charges_of_another_month_without_javascript(make_portal, demo, base_url):
    portal = make_portal(java_script_enabled=False)
    page = portal.page
    portal.register(DEMO_EMAIL)
    portal.open_section("Расчеты")
    latest = demo.latest_month(FIRST)
    expect(page.get_by_role("table", name=charges_caption(latest))).to_be_visible()
    portal.audit()

    earlier = add_months(latest, -1)
    with page.expect_request(lambda request: "month=" in request.url) as asked:
        show_month(page, earlier)
    # A page load, not htmx.
    assert asked.value.is_navigation_request()
    assert "hx-request" not in asked.value.headers
    expect(page).to_have_url(f"{base_url}/cabinet/charges?account={FIRST}&month={earlier:%Y-%m}")
    table = page.get_by_role("table", name=charges_caption(earlier))
    expect(table.locator("tfoot tr").get_by_role("cell").last).to_have_text(
        money_ru(demo.to_pay(FIRST, earlier))
    )
    portal.audit()

    # The link to the month before loads it too.
    before = add_months(earlier, -1)
    page.get_by_role("link", name=f"← {month_ru(before)}").click()
    expect(page).to_have_url(f"{base_url}/cabinet/charges?account={FIRST}&month={before:%Y-%m}")
    expect(page.get_by_role("table", name=charges_caption(before))).to_be_visible()
    portal.audit()


def test_consumption_chart_and_its_table(portal, demo):
    page = portal.page
    portal.register(DEMO_EMAIL)
    portal.visit("/cabinet/charges")
    services = demo.charted_services(FIRST)
    charts = page.locator("figure.chart svg[role=img]")
    expect(charts).to_have_count(len(services))
    names = sorted(
        page.locator("figure.chart figcaption").all_inner_texts(), key=lambda text: text.lower()
    )
    assert names == sorted((f"{name}, {unit}" for name, unit in services), key=str.lower)
    latest = demo.latest_month(FIRST)
    for chart in charts.all():
        caption = chart.locator("xpath=ancestor::figure/figcaption").inner_text()
        expect(chart).to_have_accessible_name(caption)
        # The bars in a sentence: the span, the mean, the peak and the latest month.
        expect(chart).to_have_accessible_description(
            re.compile(rf"^{re.escape(caption)}, с .* по {month_ru(latest)}: в среднем .+")
        )

    data = page.locator("details.chart-data")
    table = data.get_by_role("table", name="Потребление по месяцам и услугам")
    expect(table).to_be_hidden()
    data.get_by_text("Потребление по месяцам таблицей").click()
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(24)
    headers = table.locator("thead th")
    expect(headers).to_have_count(len(services) + 1)
    expect(headers.first).to_have_text("Месяц")
    first_row = table.locator("tbody tr").first
    expect(first_row.get_by_role("rowheader")).to_have_text(month_ru(latest))
    column = [text.lower() for text in headers.all_inner_texts()].index("электроснабжение, квт·ч")
    expect(first_row.locator("th, td").nth(column)).to_have_text(
        number_ru(demo.volume(FIRST, "electricity", latest))
    )
    portal.audit()


@pytest.mark.parametrize("screen", [PHONE], ids=["phone"], indirect=True)
def test_on_a_phone_a_chart_opens_on_its_latest_months(portal, demo):
    """Too wide for the screen, a chart scrolls sideways in its frame and shows its latest
    months first, the oldest off to the left."""
    page = portal.page
    portal.register(DEMO_EMAIL)
    portal.visit("/cabinet/charges")
    frame = page.locator(".chart__frame").first
    bars = frame.locator("rect.chart__bar")
    expect(bars.first).to_be_attached()
    assert frame.evaluate("element => element.scrollWidth > element.clientWidth")
    shown, latest, oldest = (
        frame.bounding_box(),
        bars.last.bounding_box(),
        bars.first.bounding_box(),
    )
    assert (
        shown["x"] <= latest["x"] and latest["x"] + latest["width"] <= shown["x"] + shown["width"]
    )
    assert oldest["x"] + oldest["width"] <= shown["x"]
    # The tick labels stay at the left of the bars, right-aligned to them.
    ticks = frame.locator("text.chart__tick")
    assert ticks.first.get_attribute("text-anchor") == "end"
    frame.evaluate("element => { element.scrollLeft = -element.scrollWidth; }")
    tick, bar = ticks.first.bounding_box(), bars.first.bounding_box()
    assert tick["x"] + tick["width"] <= bar["x"]
    portal.audit()


@pytest.mark.parametrize("screen", [PHONE], ids=["phone"], indirect=True)
def test_on_a_phone_each_row_of_a_wide_table_is_a_card(portal, demo):
    """Расчеты, Задолженность and a meter's history on a phone: no column is off the screen;
    a row's header heads its card, and each figure follows its column's name."""
    page = portal.page
    portal.register(DEMO_EMAIL)
    portal.visit("/cabinet/charges")
    table = page.get_by_role("table", name=charges_caption(demo.latest_month(FIRST)))
    service = table.locator("tbody tr").first
    heading, to_pay = service.get_by_role("rowheader"), service.get_by_role("cell").last
    assert label_of(heading) == "none"
    assert label_of(to_pay) == '"К оплате: "'
    assert heading.bounding_box()["y"] < to_pay.bounding_box()["y"]  # a line each
    assert label_of(table.locator("tfoot td").last) == '"К оплате: "'
    for cell in (heading, to_pay):
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["viewport"]["width"]

    portal.visit("/cabinet/debt")
    table = page.get_by_role("table", name="Задолженность по лицевым счетам")
    account = table.locator("tbody tr").first
    assert label_of(account.get_by_role("cell").nth(5)) == '"Пени: "'
    assert label_of(account.get_by_role("cell").last) == '"Итого: "'

    meter = next(row for row in demo.meters(FIRST) if row.zones == 1)
    portal.visit(f"/cabinet/meters/{meter.id}")
    reading = page.get_by_role("table", name=f"Показания прибора № {meter.serial} по месяцам")
    month, value, used, _, state = reading.locator("tbody tr").first.get_by_role("cell").all()
    assert [label_of(cell) for cell in (month, value, used)] == [
        "none",
        '"Показание: "',
        f'"Расход, {meter.unit}: "',
    ]
    # The month heads the card with the state beside it; the figures come on the next line.
    assert month.bounding_box()["y"] == state.bounding_box()["y"] < value.bounding_box()["y"]


def column_edges(table) -> list[tuple[str, float, float]]:
    """Each figures' column of the table: its name and where its name's first line and its
    first row's figure end on the right, in pixels."""
    return table.evaluate(
        """table => {
          const end = (element) => {
            const range = document.createRange();
            range.selectNodeContents(element);
            return range.getClientRects()[0].right;
          };
          const heads = table.tHead.rows[0].cells;
          const cells = table.tBodies[0].rows[0].cells;
          return Array.from(cells).flatMap((cell, index) => cell.classList.contains("number")
            ? [[heads[index].textContent, end(heads[index]), end(cell)]] : []);
        }"""
    )


def test_figures_stand_right_under_their_column_names(portal, demo):
    """On a desktop each column of figures is aligned right, its name over it included."""
    page = portal.page
    portal.register(DEMO_EMAIL)
    meter = next(row for row in demo.meters(FIRST) if row.zones == 1)
    tables = {
        "/cabinet/charges": charges_caption(demo.latest_month(FIRST)),
        "/cabinet/debt": "Задолженность по лицевым счетам",
        "/cabinet/payments": re.compile(r"^Платежи, страница 1 из"),
        f"/cabinet/meters/{meter.id}": f"Показания прибора № {meter.serial} по месяцам",
    }
    for url, name in tables.items():
        portal.visit(url)
        edges = column_edges(page.get_by_role("table", name=name))
        assert edges, url
        for head, head_end, figure_end in edges:
            assert abs(head_end - figure_end) < 1, (url, head, head_end, figure_end)


# --- Задолженность ------------------------------------------------------------------------


@ON_BOTH_SCREENS
def test_debt_per_account_and_in_total(portal, demo):
    page = portal.page
    portal.register(DEMO_EMAIL)
    portal.open_section("Задолженность")
    expect(page.get_by_role("heading", name="Задолженность", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Задолженность по лицевым счетам")
    headers = table.locator("thead th")
    expect(headers.nth(6)).to_have_text("Пени")
    expect(headers.nth(7)).to_have_text("Итого")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(2)
    owed = [demo.debt(FIRST), demo.debt(SECOND)]
    for row, debt in zip(rows.all(), owed, strict=True):
        cells = row.get_by_role("cell")
        expect(row.get_by_role("rowheader")).to_have_text(debt.number)
        expect(cells.nth(0)).to_have_text(month_ru(debt.month))
        expect(cells.nth(5)).to_have_text(money_ru(debt.penalties))
        expect(cells.nth(6)).to_have_text(money_ru(debt.total))
        money_of(row.locator("td.number"))
    total = sum(debt.total for debt in owed)
    footer = table.locator("tfoot tr")
    expect(footer.get_by_role("rowheader")).to_have_text("Всего к оплате по лицевым счетам")
    expect(footer.get_by_role("cell")).to_have_text(money_ru(total))
    expect(page.get_by_text("Всего к оплате:")).to_contain_text(money_ru(total))
    assert fits(table)  # on a phone, a card per account
    expect(page.get_by_text("Данные из системы учета получены")).to_contain_text(
        f"{date_ru(demo.today.replace(day=1))}, {RECEIVED_AT}"
    )
    portal.audit()


# --- Произведенные платежи ----------------------------------------------------------------


def payment_dates(page):
    return page.locator("#payments-table tbody tr td:first-child")


@ON_BOTH_SCREENS
def test_payments_page_by_page_and_filtered(portal, demo, base_url):
    page = portal.page
    portal.register(DEMO_EMAIL)
    portal.open_section("Задолженность")
    page.get_by_role("link", name="Произведенные платежи").click()
    every = demo.payments(FIRST, SECOND)
    per_page = demo.app.config["PAYMENTS_PER_PAGE"]
    pages = -(-len(every) // per_page)
    assert pages > 2
    expect(page.get_by_role("table", name=f"Платежи, страница 1 из {pages}")).to_be_visible()
    expect(payment_dates(page)).to_have_text([date_ru(paid_on) for _, paid_on in every[:per_page]])
    money_of(page.locator("#payments-table tbody td.number"))
    portal.audit()

    portal.mark_document()
    page.get_by_role("link", name="Следующая →").click()
    table = page.get_by_role("table", name=f"Платежи, страница 2 из {pages}")
    expect(table).to_be_focused()
    expect(page).to_have_url(f"{base_url}/cabinet/payments?page=2")
    expect(payment_dates(page)).to_have_text(
        [date_ru(paid_on) for _, paid_on in every[per_page : 2 * per_page]]
    )
    expect(page.get_by_text(f"Страница 2 из {pages}", exact=True)).to_be_visible()
    assert portal.document_survived()
    portal.audit()

    # The year: only its payments, from its December down.
    year = every[per_page][1].year
    in_year = demo.payments(FIRST, SECOND, year=year)
    assert 0 < len(in_year) < len(every)
    filters = page.locator("form.filters")
    filters.get_by_label("Год").select_option(str(year))
    filters.get_by_role("button", name="Показать").click()
    expect(page).to_have_url(re.compile(rf"/cabinet/payments\?(account=&)?year={year}$"))
    expect(
        page.get_by_role("table", name=re.compile(f"^Платежи за {year} год, страница 1 из "))
    ).to_be_focused()
    expect(payment_dates(page)).to_have_text(
        [date_ru(paid_on) for _, paid_on in in_year[:per_page]]
    )
    for cell in payment_dates(page).all():
        expect(cell).to_have_text(re.compile(rf" {year}$"))
    assert portal.document_survived()
    portal.audit()

    # And the account: its payments of that year, without the account column.
    filters.get_by_label("Лицевой счет").select_option(SECOND)
    filters.get_by_role("button", name="Показать").click()
    of_second = demo.payments(SECOND, year=year)
    expect(
        page.get_by_role(
            "table", name=re.compile(f"^Платежи по лицевому счету {SECOND} за {year} год,")
        )
    ).to_be_focused()
    expect(payment_dates(page)).to_have_text(
        [date_ru(paid_on) for _, paid_on in of_second[:per_page]]
    )
    expect(page.locator("#payments-table thead th")).to_have_text(
        ["Дата", "Сумма", "Способ оплаты", "За месяц"]
    )
    assert portal.document_survived()
    portal.audit()


# --- Приборы учета ------------------------------------------------------------------------


def fact(card, term: str):
    """The value of a meter card's fact, by its term."""
    return card.locator("dt", has_text=term).locator("xpath=following-sibling::dd[1]")


def older_consumption(readings: list[tuple[date, int]], index: int) -> list[str]:
    """The consumption cell of the reading at ``index`` (latest first): from the one before it,
    «—» for the first."""
    if index + 1 == len(readings):
        return ["—"]
    return [str(readings[index][1] - readings[index + 1][1])]


@ON_BOTH_SCREENS
def test_meters_with_their_facts_and_history(portal, demo, base_url):
    page = portal.page
    today = demo.today
    meters = demo.meters(FIRST)
    soon = next(row for row in meters if row.place and row.zones == 1)
    # Verification far ahead for all but one, due in 30 days: that one is announced.
    demo.verify_meters(FIRST)
    demo.execute(
        update(Meter)
        .where(Meter.id == soon.id)
        .values(next_verification_on=today + timedelta(days=30))
    )
    portal.register(DEMO_EMAIL)
    portal.open_section("Приборы учета")
    expect(page.get_by_role("heading", name="Приборы учета", level=1)).to_be_visible()
    for meter in meters:
        card = portal.meter_card(meter.service, meter.serial)
        expect(fact(card, "Место установки")).to_have_text(meter.place)
        due = today + timedelta(days=30 if meter.id == soon.id else 3 * 365)
        expect(fact(card, "Следующая поверка")).to_contain_text(date_ru(due))
        for zone in range(1, meter.zones + 1):
            month, value = demo.readings(meter.id, zone)[0]
            label = f"T{zone}: " if meter.zones > 1 else ""
            expect(fact(card, "Последнее принятое показание")).to_contain_text(
                f"{label}{value} {meter.unit} — за {month_ru(month)}"
            )
        warned = meter.id == soon.id
        expect(card.get_by_text("скоро срок поверки")).to_have_count(1 if warned else 0)
        expect(card.get_by_text("Срок поверки прибора истекает")).to_have_count(1 if warned else 0)
        expect(card).not_to_contain_text("дистанционный сбор показаний")
    expect(
        portal.meter_card(soon.service, soon.serial).get_by_text("Срок поверки прибора истекает")
    ).to_contain_text(f"{date_ru(today + timedelta(days=30))}. Закажите поверку заранее")
    portal.audit()

    # The second account's electricity meter reports by itself.
    portal.choose_account(SECOND)
    remote = next(row for row in demo.meters(SECOND) if row.is_remote_read)
    expect(portal.meter_card(remote.service, remote.serial)).to_contain_text(
        "дистанционный сбор показаний"
    )
    portal.audit()

    # A meter's history: its readings by month, with the consumption since the month before.
    portal.choose_account(FIRST)
    serial = soon.serial
    page.get_by_role("link", name=f"История показаний прибора № {serial}").click()
    expect(page).to_have_url(f"{base_url}/cabinet/meters/{soon.id}")
    expect(page.get_by_role("heading", name=f"Прибор учета № {serial}", level=1)).to_be_visible()
    history = page.get_by_role("table", name=f"Показания прибора № {serial} по месяцам")
    expect(history.locator("thead th")).to_have_text(
        ["Месяц", "Показание", f"Расход, {soon.unit}", "Источник", "Состояние"]
    )
    readings = demo.readings(soon.id)
    shown = [row for row in readings if row[0] > add_months(today.replace(day=1), -24)]
    rows = history.locator("tbody tr")
    expect(rows).to_have_count(len(shown))
    for row, (month, value), (_, before) in zip(rows.all()[:3], shown, readings[1:], strict=False):
        expect(row.get_by_role("cell")).to_have_text(
            [month_ru(month), str(value), str(value - before), "система учета", "принято"]
        )
    # The oldest month shown counts from the reading before it, which is not shown.
    expect(rows.last.get_by_role("cell").nth(2)).to_have_text(
        str(shown[-1][1] - readings[len(shown)][1])
    )
    assert fits(history)  # on a phone, a card per reading
    # The period named is that of the readings shown, which this month's may not be among.
    expect(page.locator("#meter-history .pager__current")).to_have_text(
        f"С {month_genitive_ru(shown[-1][0])} по {month_ru(shown[0][0])}"
    )
    portal.audit()

    # The readings before those two years, swapped in by htmx: they end with the latest month
    # that has any, and the focus goes to them.
    portal.mark_document()
    page.get_by_role("link", name="Более ранние показания →").click()
    earlier, value = readings[len(shown)]
    expect(page).to_have_url(f"{base_url}/cabinet/meters/{soon.id}?until={earlier:%Y-%m}")
    oldest = [row[0] for row in readings if row[0] >= add_months(earlier, -23)][-1]
    older = page.get_by_role(
        "region",
        name=f"Показания прибора № {serial} по месяцам, с "
        f"{month_genitive_ru(oldest)} по {month_ru(earlier)}",
    )
    expect(older).to_be_focused()
    expect(older.locator("tbody tr").first.get_by_role("cell")).to_have_text(
        [
            month_ru(earlier),
            str(value),
            *older_consumption(readings, len(shown)),
            "система учета",
            "принято",
        ]
    )
    assert portal.document_survived()
    portal.audit()
    page.get_by_role("link", name="← Более поздние показания").click()
    expect(page).to_have_url(f"{base_url}/cabinet/meters/{soon.id}")
    expect(rows).to_have_count(len(shown))
    assert portal.document_survived()
