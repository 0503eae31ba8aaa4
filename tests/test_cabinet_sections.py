"""The cabinet's sections over HTTP: the main page's widgets, the account selector, Расчеты,
Задолженность, Произведенные платежи and Приборы учета — pages and htmx fragments; only the
user's own accounts, meters and readings, everywhere; and a number of queries per page that does
not grow with the rows shown."""

import html
import re
from datetime import date
from urllib.parse import parse_qsl

import pytest
import time_machine
from cabinet_data import OCTOBER, SEPTEMBER, CabinetData
from sqlalchemy import select, update

from conftest import NOW, Client, QueryCounter, logged_in, make_accounts
from lkabonent.extensions import db
from lkabonent.models import Reading, Service

MISSING_NUMBER, MISSING_ID = "1999999999", 987654


def body_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def text_of(response) -> str:
    """The page's words, without tags, spaces collapsed (none before punctuation)."""
    words = " ".join(re.sub(r"<[^>]+>", " ", body_of(response)).split())
    return re.sub(r" ([,.;:])", r"\1", words)


@pytest.fixture
def household(app):
    """Two accounts of LOGIN with charges, payments and a meter, and a stranger's account with
    the same kinds of rows. The ids and numbers, by name."""
    data = CabinetData(app)
    mine, spare, strangers = make_accounts(app, 3)
    services = data.bill_services()
    water = services["cold_water"]
    for account in (mine, strangers):
        data.two_bills(account.id, services)
    data.payment(mine.id, date(2026, 9, 16), "1000.00", month=date(2026, 8, 1))
    data.payment(mine.id, date(2026, 10, 16), "100.00", "online", month=SEPTEMBER)
    data.payment(mine.id, date(2026, 11, 5), "300.00", "cash")  # after the October bill
    data.payment(mine.id, date(2025, 3, 1), "55.00")
    meter = data.meter(mine.id, water, serial="ХВ-0001")
    data.monthly_readings(meter, date(2026, 4, 1), [100, 105, 110, 115, 120, 125, 130])
    strangers_meter = data.meter(strangers.id, water, serial="ХВ-9999")
    strangers_reading = data.reading(strangers_meter, OCTOBER, 10)
    data.subscriber(mine.id, spare.id)
    data.subscriber(strangers.id, email="stranger@example.ru")
    return {
        "data": data,
        "mine": mine,
        "spare": spare,
        "strangers": strangers,
        "water": water,
        "meter": meter,
        "strangers_meter": strangers_meter,
        "strangers_reading": strangers_reading,
    }


@pytest.fixture
def user(client, household):
    """LOGIN, logged in, on the 27 November 2026 (outside the default reading window)."""
    return logged_in(client)


@pytest.fixture(autouse=True)
def fixed_today():
    """27 November 2026, after the default window (15–25)."""
    with time_machine.travel(NOW):
        yield


# --- the main page ------------------------------------------------------------------------


def test_main_page_widgets_show_the_selected_accounts_data(user, household):
    words = text_of(user.get("/cabinet/"))
    # «Печать квитанции»: the latest bill, what it asks and by when.
    assert "Счет за октябрь 2026: к оплате 1 147,74 ₽, срок оплаты — до 10 ноября 2026" in words
    # The three latest payments, latest first.
    assert re.search(
        r"Произведенные платежи 300,00 ₽ — 5 ноября 2026, касса "
        r"100,00 ₽ — 16 октября 2026, онлайн 1 000,00 ₽ — 16 сентября 2026, банк",
        words,
    )
    # The debt now: the bill's balance less the payment of 5 November; пени apart.
    assert "Задолженность 847,74 ₽, в том числе пени 12,34 ₽" in words
    assert "Следующий прием показаний — с 15 декабря 2026 по 25 декабря 2026." in words


def test_main_page_of_an_account_without_payments_or_debt(user, household):
    words = text_of(user.get(f"/cabinet/?account={household['spare'].number}"))
    assert "Платежей нет" in words
    assert "Задолженностей нет" in words
    assert "Начислений по лицевому счету еще нет." in words
    assert "Печать квитанции" in words and "к оплате" not in words


def test_main_page_lists_the_meters_waiting_while_the_window_is_open(user, household, open_window):
    words = text_of(user.get("/cabinet/"))
    assert "Холодное водоснабжение, № ХВ-0001 — прием до 30 ноября 2026 (осталось 4 дня)" in words
    household["data"].reading(household["meter"], date(2026, 11, 1), 131, source=Reading.PORTAL)
    words = text_of(user.get("/cabinet/"))
    assert "ХВ-0001" not in words
    assert "Показания за ноябрь 2026 переданы." in words


def test_the_chosen_account_is_remembered_across_pages_and_logins(app, user, household):
    spare = household["spare"].number
    chosen = f'<option value="{spare}" selected>'
    assert chosen not in body_of(user.get("/cabinet/"))
    # Naming an account in the address shows it, and changes nothing (no state over GET).
    assert chosen in body_of(user.get(f"/cabinet/charges?account={spare}"))
    assert chosen not in body_of(user.get("/cabinet/"))
    response = user.post("/cabinet/account", {"account": spare, "page": "cabinet.charges"})
    assert (response.status_code, response.headers["Location"]) == (303, "/cabinet/charges")
    assert chosen in body_of(user.get("/cabinet/"))
    again = logged_in(Client(app))
    assert chosen in body_of(again.get("/cabinet/meters/"))


def test_the_selector_returns_only_to_its_own_pages(user, household):
    spare = household["spare"].number
    for page in ("https://evil.example/", "/cabinet/debt", "auth.logout", ""):
        response = user.post("/cabinet/account", {"account": spare, "page": page})
        assert response.headers["Location"] == "/cabinet/", page


def test_an_unlinked_account_is_no_longer_the_chosen_one(user, household):
    spare = household["spare"].number
    user.post("/cabinet/account", {"account": spare})
    user.post(f"/cabinet/accounts/{spare}/unlink")
    body = body_of(user.get("/cabinet/"))
    assert f"Лицевой счет <strong>{household['mine'].number}</strong>" in body
    assert user.get(f"/cabinet/?account={spare}").status_code == 404


# --- Расчеты --------------------------------------------------------------------------------


def test_charges_page_shows_the_latest_month_with_totals_and_where_the_charts_load(user, household):
    response = user.get("/cabinet/charges")
    words = text_of(response)
    assert response.status_code == 200
    assert f"Начисления за октябрь 2026, лицевой счет {household['mine'].number}" in words
    assert (
        "Холодное водоснабжение м³ 5,5 45,1234 ₽ 248,18 ₽ -10,00 ₽ Перерасчет по показаниям "
        "0,00 ₽ 100,00 ₽ 363,80 ₽" in words
    )
    assert "Электроснабжение кВт·ч 120 6,43 ₽ 771,60 ₽" in words
    assert "Итого 1 032,12 ₽ -10,00 ₽ 0,00 ₽ 100,00 ₽ 1 147,74 ₽" in words
    assert "Долг на начало месяца: 225,62 ₽" in words
    body = body_of(response)
    # The charts come by htmx once the page is shown, or by the link without JavaScript.
    charts = f"/cabinet/charges/consumption?account={household['mine'].number}"
    assert f'hx-get="{charts}" hx-trigger="load" hx-swap="outerHTML"' in body
    assert f'<a href="{charts}">Графики потребления по месяцам</a>' in body
    assert 'role="img"' not in body
    assert "<script" not in body.split("<main", 1)[1]


@pytest.mark.parametrize("htmx", [False, True])
def test_consumption_charts_of_the_services_whose_volume_varies(user, household, htmx):
    response = user.get("/cabinet/charges/consumption", htmx=htmx)
    body = body_of(response)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    # A chart per service whose volume varies (cold water; electricity has one month only,
    # пени no volume), with its description as text.
    assert body.count('role="img"') == 1
    assert re.search(
        r"<desc id=\"chart-1-desc\">Холодное водоснабжение, м³, с ноября 2024 "
        r"по октябрь 2026: в среднем 5,25 в месяц",
        body,
    )
    assert "Потребление по месяцам таблицей" in body
    # htmx gets the section it swaps in for the link; a browser, a page with the menu.
    assert body.lstrip().startswith('<section id="charts"') is htmx
    assert ("<html" in body) is not htmx
    # One heading names the charts: the page's, or in Расчеты the section's own.
    assert body.count(">Потребление по месяцам</h") == 1


def test_consumption_without_charges_says_so(user, household):
    spare = household["spare"].number
    assert "Начислений по лицевому счету" in text_of(
        user.get(f"/cabinet/charges/consumption?account={spare}")
    )


def test_charges_fragment_swaps_the_month_only(user):
    response = user.get("/cabinet/charges?month=2026-09", htmx=True)
    body = body_of(response)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith('<div id="charges-table"')
    assert "<html" not in body and 'role="img"' not in body
    assert "Начисления за сентябрь 2026" in text_of(response)
    page = user.get("/cabinet/charges?month=2026-09")
    assert "<html" in body_of(page) and "Начисления за сентябрь 2026" in text_of(page)


def test_the_month_selector_keeps_the_account_shown(user, household):
    """A page opened for an account other than the remembered one stays on it."""
    spare = household["spare"].number
    household["data"].charge(household["spare"].id, SEPTEMBER, household["water"], accrued="1")
    household["data"].charge(household["spare"].id, OCTOBER, household["water"], accrued="2")
    body = body_of(user.get(f"/cabinet/charges?account={spare}", htmx=True))
    assert f'<input type="hidden" name="account" value="{spare}">' in body
    assert f'href="/cabinet/charges?account={spare}&month=2026-09"' in body
    widget = body_of(user.get(f"/cabinet/?account={spare}"))
    assert f"/cabinet/charges?account={spare}&month=2026-10" in widget
    assert f"/cabinet/meters/?account={spare}" in widget


@pytest.mark.parametrize("month", ["2026-08", "2026-13", "сентябрь", "2026-09-01"])
def test_a_month_without_charges_is_not_found(user, month):
    assert user.get(f"/cabinet/charges?month={month}").status_code == 404


def test_charges_go_back_24_months(app, user, household):
    data = household["data"]
    for serial in range(30):
        month = date(2024 + (serial + 4) // 12, (serial + 4) % 12 + 1, 1)
        if month < SEPTEMBER:
            data.charge(household["spare"].id, month, household["water"], accrued="1")
    data.charge(household["spare"].id, OCTOBER, household["water"], accrued="1")
    body = body_of(user.get(f"/cabinet/charges?account={household['spare'].number}"))
    options = re.findall(r'<option value="(\d{4}-\d{2})"', body)
    assert len(options) == 24 and options[0] == "2026-10" and options[-1] == "2024-10"


# --- Задолженность ------------------------------------------------------------------------


def test_debt_per_account_and_in_total(user, household):
    household["data"].charge(
        household["spare"].id, OCTOBER, household["water"], opening="50", accrued="25.50"
    )
    words = text_of(user.get("/cabinet/debt"))
    mine, spare = household["mine"].number, household["spare"].number
    # Opening 225,62; charged 248,18 − 10 + 771,60; paid 100 in October and 300 since; пени.
    assert f"{mine} октябрь 2026 225,62 ₽ 1 009,78 ₽ 400,00 ₽ 835,40 ₽ 12,34 ₽ 847,74 ₽" in words
    assert f"{spare} октябрь 2026 50,00 ₽ 25,50 ₽ 0,00 ₽ 75,50 ₽ 0,00 ₽ 75,50 ₽" in words
    assert "Всего к оплате по лицевым счетам 923,24 ₽" in words
    assert "Данные из системы учета еще не поступали." in words


def test_debt_paid_in_advance_shows_an_overpayment(user, household):
    household["data"].payment(household["mine"].id, date(2026, 11, 20), "2000.00")
    words = text_of(user.get(f"/cabinet/?account={household['mine'].number}"))
    assert "Задолженностей нет Переплата: 1 152,26 ₽." in words


def test_an_advance_on_one_account_does_not_pay_anothers_debt(user, household):
    data, spare = household["data"], household["spare"]
    data.charge(spare.id, OCTOBER, household["water"], accrued="100")
    data.payment(spare.id, date(2026, 11, 2), "1100.00")
    words = text_of(user.get("/cabinet/debt"))
    assert (
        f"{spare.number} октябрь 2026 0,00 ₽ 100,00 ₽ 1 100,00 ₽ -1 000,00 ₽ 0,00 ₽ "
        "переплата 1 000,00 ₽" in words
    )
    assert "Всего к оплате по лицевым счетам 847,74 ₽" in words
    assert "Всего к оплате: 847,74 ₽." in words


def test_a_bill_paid_in_advance_asks_nothing(user, household):
    data, spare = household["data"], household["spare"]
    data.charge(spare.id, OCTOBER, household["water"], accrued="100", paid="150")
    words = text_of(user.get(f"/cabinet/?account={spare.number}"))
    assert "Счет за октябрь 2026: к оплате ничего, переплата 50,00 ₽." in words


# --- Произведенные платежи ----------------------------------------------------------------


def test_payments_page_and_fragment(user, household):
    page = user.get("/cabinet/payments")
    words = text_of(page)
    assert "5 ноября 2026 300,00 ₽ Касса не указан" in words
    assert "16 октября 2026 100,00 ₽ Онлайн сентябрь 2026" in words
    assert re.findall(r'<option value="(\d{4})"', body_of(page)) == ["2026", "2025"]
    fragment = user.get("/cabinet/payments?year=2025", htmx=True)
    assert "<html" not in body_of(fragment) and "HX-Request" in fragment.headers["Vary"]
    assert "1 марта 2025 55,00 ₽" in text_of(fragment)
    table = text_of(fragment).split("Платежи за 2025 год", 1)[1]
    assert "2026" not in table


def test_payments_are_paged_and_filtered_by_account(make_app, household):
    app = make_app(PAYMENTS_PER_PAGE=2)
    user = logged_in(Client(app))
    words = text_of(user.get("/cabinet/payments"))
    assert "страница 1 из 2" in words and "Следующая →" in words
    second = user.get("/cabinet/payments?page=2", htmx=True)
    assert "страница 2 из 2" in text_of(second)
    assert 'href="/cabinet/payments?page=1"' in body_of(second)
    household["data"].payment(household["spare"].id, date(2026, 7, 1), "77.00")
    only_spare = text_of(user.get(f"/cabinet/payments?account={household['spare'].number}"))
    assert "77,00 ₽" in only_spare and "300,00 ₽" not in only_spare
    assert f"по лицевому счету {household['spare'].number}" in only_spare


@pytest.mark.parametrize("year", ["0", "-1", "10000", "99999999999999999999"])
def test_a_year_no_date_can_have_is_not_found(user, year):
    assert user.get(f"/cabinet/payments?year={year}").status_code == 404


def test_no_payments_says_so(user, household):
    words = text_of(user.get("/cabinet/payments?year=2020"))
    assert "Платежей нет за 2020 год." in words


# --- Приборы учета ------------------------------------------------------------------------


def test_meters_page_shows_each_meter_with_its_last_reading(user, household):
    words = text_of(user.get("/cabinet/meters/"))
    assert "Холодное водоснабжение, № ХВ-0001" in words
    assert "Последнее принятое показание 130 м³ — за октябрь 2026" in words
    assert "Следующая поверка 1 января 2030" in words
    # Outside the window: when the next one opens, and no form.
    assert "Ближайший прием: с 15 декабря 2026 по 25 декабря 2026." in words
    assert "Передать показания" not in words


def test_meter_page_shows_the_history_with_consumption(user, household):
    words = text_of(user.get(f"/cabinet/meters/{household['meter']}"))
    assert "октябрь 2026 130 5 система учета принято" in words
    assert "апрель 2026 100 — система учета принято" in words


def test_meter_page_shows_the_earlier_readings_two_years_at_a_time(user, household):
    """The latest two years first; the earlier ones end with the latest month that has any;
    htmx swaps the history alone and focuses it. The period named is that of the readings
    shown: November 2026, not read yet, is not in it."""
    meter = household["meter"]
    household["data"].monthly_readings(meter, date(2024, 3, 1), [70, 80, 90])
    latest = user.get(f"/cabinet/meters/{meter}")
    older = f"/cabinet/meters/{meter}?until=2024-05"
    assert f'href="{older}" hx-get="{older}" hx-target="#meter-history"' in body_of(latest)
    assert "С апреля 2026 по октябрь 2026 Более ранние показания →" in text_of(latest)
    assert "апрель 2026 100 10 система учета принято" in text_of(latest)  # from May 2024's 90
    assert "Более поздние показания" not in text_of(latest)

    swapped = user.get(older, htmx=True)
    body, words = body_of(swapped), text_of(swapped)
    assert swapped.status_code == 200
    assert body.lstrip().startswith('<section id="meter-history"') and "hx-swap-oob" not in body
    assert 'aria-labelledby="history-caption" autofocus' in body
    assert "Показания прибора № ХВ-0001 по месяцам, с марта 2024 по май 2024" in words
    assert "май 2024 90 10 система учета принято" in words
    assert "март 2024 70 — система учета принято" in words
    assert "апрель 2026" not in words and "Последнее принятое показание" not in words
    later = f"/cabinet/meters/{meter}?until=2026-05"  # the two years after those shown
    assert f'href="{later}" hx-get="{later}" hx-target="#meter-history"' in body
    assert "← Более поздние показания С марта 2024 по май 2024" in words
    assert "Более ранние показания" not in words

    # Without JavaScript, the whole page with the meter's card.
    page = text_of(user.get(older))
    assert "Прибор учета № ХВ-0001" in page and "Последнее принятое показание 130" in page
    assert "май 2024 90 10 система учета принято" in page


def test_meter_history_steps_two_years_later_up_to_the_latest(user, household):
    meter = household["meter"]
    household["data"].monthly_readings(meter, date(2020, 1, 1), [10, 20])
    gap = user.get(f"/cabinet/meters/{meter}?until=2022-05", htmx=True)
    assert "С июня 2020 по май 2022 показаний нет." in text_of(gap)
    assert f'href="/cabinet/meters/{meter}?until=2020-02"' in body_of(gap)  # the earlier ones
    assert f'href="/cabinet/meters/{meter}?until=2024-05"' in body_of(gap)
    # From the two years before the latest ones, later is the latest ones, without ?until=.
    almost = body_of(user.get(f"/cabinet/meters/{meter}?until=2025-01", htmx=True))
    assert f'href="/cabinet/meters/{meter}" hx-get=' in almost
    # Two years with one month of readings name that month alone.
    single = text_of(user.get(f"/cabinet/meters/{meter}?until=2020-01", htmx=True))
    assert "Показания прибора № ХВ-0001 по месяцам, за январь 2020" in single
    assert "← Более поздние показания За январь 2020" in single


@pytest.mark.parametrize("until", ["2026-12", "2026-13", "осень", "0001-06", ""])
def test_a_history_month_that_is_not_one_answers_404(user, household, until):
    assert user.get(f"/cabinet/meters/{household['meter']}?until={until}").status_code == 404


def set_window(app, service_id, first, last):
    """Readings of the service are taken from the day ``first`` to the day ``last``."""
    with app.app_context():
        db.session.execute(
            update(Service)
            .where(Service.id == service_id)
            .values(reading_window_start=first, reading_window_end=last)
        )
        db.session.commit()


@pytest.fixture
def open_window(app, household):
    """Readings of cold water are taken from the 20th to the 30th."""
    set_window(app, household["water"], 20, 30)


def test_a_reading_submitted_by_htmx_comes_back_in_the_card(user, household, open_window):
    url = f"/cabinet/meters/{household['meter']}/readings"
    response = user.post(url, {"zone1": "133", "back": "list"}, htmx=True)
    assert response.status_code == 200
    words = text_of(response)
    assert "<html" not in body_of(response)
    assert "Показания приняты." in words and "133 — принято" in words
    again = user.post(url, {"zone1": "134"}, htmx=True)
    assert "Показания исправлены" in text_of(again) and "134 — принято" in text_of(again)


def test_a_refused_reading_keeps_what_was_typed_and_says_why(user, household, open_window):
    url = f"/cabinet/meters/{household['meter']}/readings"
    response = user.post(url, {"zone1": "12,5"}, htmx=True)
    assert response.status_code == 422
    body = body_of(response)
    assert 'value="12,5"' in body and 'aria-invalid="true"' in body
    assert "целым числом" in body


def test_without_javascript_a_reading_redirects_back_with_a_notice(user, household, open_window):
    url = f"/cabinet/meters/{household['meter']}/readings"
    response = user.post(url, {"zone1": "133", "back": "meter"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/cabinet/meters/{household['meter']}#meter-{household['meter']}"
    )
    assert "Показания приняты." in text_of(user.get(response.headers["Location"]))
    refused = user.post(url, {"zone1": "1"})
    assert refused.status_code == 422 and "<html" in body_of(refused)
    assert "Показание меньше последнего принятого" in text_of(refused)


# --- only one's own: every URL that takes an id --------------------------------------------


# The pages that show the account ``?account=`` names.
ACCOUNT_PAGES = {
    "cabinet.index",
    "cabinet.charges",
    "cabinet.consumption",
    "cabinet.debt",
    "cabinet.payments",
    "cabinet.receipt",
    "cabinet.receipt_pdf",
    "cabinet.meters.index",
    "cabinet.meters.meter",
}


def id_urls(app, household) -> list[tuple[str, str, str]]:
    """(method, URL with a stranger's id, URL with a missing id) for every cabinet route with
    an id in its path, and for the pages of ACCOUNT_PAGES with ``?account=``; the account
    selector's POST takes its number in the form, ``?account=`` stands for that field. Fails
    when a route with an id is added that this list cannot fill in."""
    values = {
        "number": (household["strangers"].number, MISSING_NUMBER),
        "meter_id": (str(household["strangers_meter"]), str(MISSING_ID)),
    }
    own = {"number": household["mine"].number, "meter_id": str(household["meter"])}
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/cabinet"):
            continue
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        assert rule.arguments <= set(values), f"{rule.rule}: add its id to id_urls()"
        strangers, missing, mine = rule.rule, rule.rule, rule.rule
        for name in rule.arguments:
            pattern = rf"<(\w+:)?{name}>"
            strangers = re.sub(pattern, values[name][0], strangers)
            missing = re.sub(pattern, values[name][1], missing)
            mine = re.sub(pattern, own[name], mine)
        if rule.arguments:
            urls += [(method, strangers, missing) for method in methods]
        number = household["strangers"].number
        if rule.endpoint in ACCOUNT_PAGES:
            urls.append(("GET", f"{mine}?account={number}", f"{mine}?account={MISSING_NUMBER}"))
        if rule.endpoint == "cabinet.choose":
            urls.append(("POST", f"{mine}?account={number}", f"{mine}?account={MISSING_NUMBER}"))
    return urls


def ask(client, method, url, htmx):
    """GET the URL, or POST it with its query string as the form."""
    if method == "GET":
        return client.get(url, htmx=htmx)
    path, _, query = url.partition("?")
    return client.post(path, dict(parse_qsl(query)), htmx=htmx)


def test_another_users_ids_answer_404_as_missing_ones(app, user, household):
    urls = id_urls(app, household)
    assert {"/cabinet/accounts/<number>/unlink", "/cabinet/meters/<int:meter_id>/readings"} <= {
        rule.rule for rule in app.url_map.iter_rules()
    }
    assert len(urls) >= 10, urls
    for method, strangers, missing in urls:
        for htmx in (False, True):
            answers = [ask(user, method, url, htmx) for url in (strangers, missing)]
            assert [answer.status_code for answer in answers] == [404, 404], (method, strangers)
            assert body_of(answers[0]) == body_of(answers[1]), (method, strangers)
    # Nothing was written through them.
    with app.app_context():
        readings = db.session.scalars(
            select(Reading.value).where(Reading.meter_id == household["strangers_meter"])
        ).all()
    assert readings == [10]


def test_the_selectors_are_not_restored_by_the_browser(user):
    """A browser going back would put a choice made on the page into its selectors, over the
    account, month or filter the page shows: none lets it."""
    selects = []
    for url in ("/cabinet/", "/cabinet/charges", "/cabinet/receipt", "/cabinet/payments"):
        selects += re.findall(r"<select[^>]*>", body_of(user.get(url)))
    assert len(selects) >= 5, selects
    assert all('autocomplete="off"' in select for select in selects), selects


def test_no_cabinet_page_shows_a_strangers_account(app, user, household):
    """No page without an id in its path shows anything of a stranger's ``?account=``: those
    that show one account answer 404 (above), the others ignore it."""
    stranger = household["strangers"]
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/cabinet") and "GET" in rule.methods and not rule.arguments:
            response = user.get(f"{rule.rule}?account={stranger.number}")
            assert stranger.number not in body_of(response), rule.rule
            assert stranger.address not in body_of(response), rule.rule


def test_a_stranger_sees_their_own_data_through_the_same_urls(app, household):
    stranger = logged_in(Client(app), "stranger@example.ru")
    assert stranger.get(f"/cabinet/meters/{household['strangers_meter']}").status_code == 200
    assert stranger.get(f"/cabinet/meters/{household['meter']}").status_code == 404


# --- queries per page ---------------------------------------------------------------------


PAGES = [
    ("/cabinet/", False),
    ("/cabinet/charges", False),
    ("/cabinet/charges?month=2026-10", True),
    ("/cabinet/charges/consumption", False),
    ("/cabinet/charges/consumption", True),
    ("/cabinet/debt", False),
    ("/cabinet/payments", False),
    ("/cabinet/payments?page=1", True),
    ("/cabinet/receipt", False),
    ("/cabinet/receipt?month=2026-10", True),
    ("/cabinet/receipt.pdf?month=2026-10", False),
    ("/cabinet/meters/", False),
]


def queries(app, client, url, htmx=False) -> int:
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as counter:
        response = client.get(url, htmx=htmx)
    assert response.status_code == 200, url
    return counter.count


def test_queries_per_page_do_not_grow_with_the_rows_shown(app, user, household):
    """The spare account has one row of each kind; the other, many. Each page costs the same
    number of queries for both, and so does a meter's page with a long history."""
    data, big, small = household["data"], household["mine"], household["spare"]
    water = household["water"]
    data.charge(small.id, OCTOBER, water, volume="1", accrued="1")
    data.payment(small.id, date(2026, 10, 1), "1.00")
    lone = data.meter(small.id, water)
    data.reading(lone, OCTOBER, 1)
    for index in range(20):
        data.payment(big.id, date(2026, 1, 1 + index), "10.00")
    for _ in range(4):
        meter = data.meter(big.id, water, zones=3)
        for zone in (1, 2, 3):
            data.monthly_readings(meter, date(2025, 1, 1), list(range(100, 2200, 100)), zone)
    for url, htmx in PAGES:
        separator = "&" if "?" in url else "?"
        few = queries(app, user, f"{url}{separator}account={small.number}", htmx)
        many = queries(app, user, f"{url}{separator}account={big.number}", htmx)
        assert few == many, (url, few, many)
    assert queries(app, user, f"/cabinet/meters/{lone}") == queries(
        app, user, f"/cabinet/meters/{meter}"
    )
    earlier = "?until=2025-12"
    assert queries(app, user, f"/cabinet/meters/{lone}{earlier}", htmx=True) == queries(
        app, user, f"/cabinet/meters/{meter}{earlier}", htmx=True
    )


def test_a_confirmation_holds_only_for_the_values_it_was_asked_about(user, household, open_window):
    url = f"/cabinet/meters/{household['meter']}/readings"
    asked = user.post(url, {"zone1": "900"}, htmx=True)
    assert asked.status_code == 422 and "более чем втрое больше обычного" in text_of(asked)
    assert 'name="confirmed" value="900"' in body_of(asked)
    changed = user.post(url, {"zone1": "99000", "confirmed": "900"}, htmx=True)
    assert changed.status_code == 422 and "более чем втрое больше обычного" in text_of(changed)
    confirmed = user.post(url, {"zone1": "900", "confirmed": "900"}, htmx=True)
    assert confirmed.status_code == 200 and "900 — принято" in text_of(confirmed)


def test_on_the_meters_page_the_history_follows_a_submission(user, household, open_window):
    url = f"/cabinet/meters/{household['meter']}/readings"
    on_page = user.post(url, {"zone1": "133", "back": "meter"}, htmx=True)
    assert 'id="meter-history" aria-labelledby="history-title" hx-swap-oob="true"' in body_of(
        on_page
    )
    assert "ноябрь 2026 133 3 портал принято" in text_of(on_page)
    from_list = body_of(user.post(url, {"zone1": "134", "back": "list"}, htmx=True))
    assert 'id="meter-history"' not in from_list


def test_the_last_day_of_the_window_says_one_day_is_left(app, user, household):
    set_window(app, household["water"], 15, 27)
    words = text_of(user.get("/cabinet/meters/"))
    assert "Прием показаний: с 15 ноября 2026 по 27 ноября 2026, остался 1 день." in words


def test_meters_that_never_take_readings_announce_no_window(user, household):
    data, spare = household["data"], household["spare"]
    data.meter(spare.id, household["water"], remote=True)
    data.meter(spare.id, household["water"], verification=date(2026, 11, 1))
    words = text_of(user.get(f"/cabinet/?account={spare.number}"))
    assert "Следующий прием показаний" not in words
    assert "Сейчас приборы учета не ждут показаний." in words
