"""«Печать квитанции»: the receipt of a month as a page, an htmx fragment and a PDF; its payment
QR code read back by a real decoder; the PDF's text, image and fonts; only the user's own
accounts."""

import html
import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from cabinet_data import OCTOBER, CabinetData
from decoding import pdf_fonts, pdf_images, pdf_page_image, pdf_text, read_qr
from sqlalchemy import update
from weasyprint.urls import FatalURLFetchingError

from conftest import NOW, Client, logged_in, make_accounts
from lkabonent.cabinet.receipt import PAYER_ADDRESS_LENGTH, receipt
from lkabonent.config import PAYEE
from lkabonent.extensions import db
from lkabonent.models import Account
from lkabonent.payment_qr import parse
from lkabonent.pdf import StaticFiles

# What October's receipt asks: 225,62 owed at the start + 944,96 charged − 100,00 paid.
TO_PAY = "1 070,58 ₽"
TO_PAY_KOPECKS = "107058"
MM_PER_INCH = 25.4


def words_of(response) -> str:
    """The page's words, without tags, spaces collapsed (none before punctuation)."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    return re.sub(r" ([,.;:])", r"\1", " ".join(text.split()))


@pytest.fixture
def bills(app):
    """LOGIN with an account billed for September and October and one without charges; a
    stranger's account billed the same."""
    data = CabinetData(app)
    mine, unbilled, strangers = make_accounts(app, 3)
    with app.app_context():
        db.session.execute(
            update(Account)
            .where(Account.id == mine.id)
            .values(owner_name="Орлов Петр Ильич", total_area=Decimal("54.30"), residents=2)
        )
        db.session.commit()
    services = data.bill_services()
    for account in (mine, strangers):
        data.two_bills(account.id, services, benefit="77.16")
    data.subscriber(mine.id, unbilled.id)
    data.subscriber(strangers.id, email="stranger@example.ru")
    return {
        "data": data,
        "mine": mine,
        "unbilled": unbilled,
        "strangers": strangers,
        "water": services["cold_water"],
    }


@pytest.fixture
def user(client, bills):
    with time_machine.travel(NOW):
        yield logged_in(client)


def url(bills, path="/cabinet/receipt", account="mine", **query) -> str:
    query = {"account": bills[account].number, **query}
    return path + "?" + "&".join(f"{key}={value}" for key, value in query.items())


def code_of(app, account_id: int, month: date) -> dict:
    """The fields of the receipt's payment code, as the portal builds it."""
    with app.app_context():
        document = receipt(account_id, month, app.config["PAYEE"], app.config["PAYMENT_DUE_DAY"])
        return parse(document.payment_code())


# --- the page ----------------------------------------------------------------------------


def test_the_receipt_holds_the_payee_the_payer_the_services_and_what_to_pay(user, bills):
    response = user.get(url(bills))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    words = words_of(response)
    number = bills["mine"].number
    assert "Единый платежный документ за октябрь 2026" in words
    assert (
        f"Получатель платежа Наименование {PAYEE['name']} ИНН / КПП {PAYEE['inn']} / "
        f"{PAYEE['kpp']} Расчетный счет {PAYEE['account']} Банк {PAYEE['bank']} "
        f"БИК {PAYEE['bic']} Корр. счет {PAYEE['correspondent_account']} "
        f"Контакты {PAYEE['contacts']}" in words
    )
    assert (
        f"Плательщик Лицевой счет {number} Собственник Орлов Петр Ильич "
        f"Адрес {bills['mine'].address} Общая площадь 54,3 м² Проживает 2 человека "
        "Расчетный период октябрь 2026" in words
    )
    # Per service: unit, volume, tariff, accrued, recalculation with its reason, benefit, total.
    assert (
        "Холодное водоснабжение м³ 5,5 45,1234 ₽ 248,18 ₽ -10,00 ₽ Перерасчет по показаниям "
        "0,00 ₽ 238,18 ₽" in words
    )
    assert "Электроснабжение кВт·ч 120 6,43 ₽ 771,60 ₽ 0,00 ₽ 77,16 ₽ 694,44 ₽" in words
    assert "Пени руб. — — 12,34 ₽ 0,00 ₽ 0,00 ₽ 12,34 ₽" in words
    assert "Итого за октябрь 2026 1 032,12 ₽ -10,00 ₽ 77,16 ₽ 944,96 ₽" in words
    assert (
        "Долг на начало месяца 225,62 ₽ Начислено за месяц 944,96 ₽ Оплачено в месяце 100,00 ₽ "
        f"Итого к оплате {TO_PAY} Оплатить до 10 ноября 2026" in words
    )
    body = response.get_data(as_text=True)
    assert '<svg role="img" xmlns="http://www.w3.org/2000/svg"' in body
    title = f"<title>QR-код для оплаты квитанции за октябрь 2026 на сумму {TO_PAY}</title>"
    assert title in " ".join(html.unescape(body).split())
    # The month selector offers the months with charges; the PDF is a link away.
    months = body.split('<select id="month"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="([\d-]+)"', months) == ["2026-10", "2026-09"]
    pdf = f"/cabinet/receipt.pdf?account={number}&amp;month=2026-10"
    assert f'<a class="button" href="{pdf}">Скачать PDF</a>' in body


def test_the_payment_code_carries_the_payee_the_account_and_the_sum_to_pay(app, bills):
    mine = bills["mine"]
    fields = code_of(app, mine.id, OCTOBER)
    assert list(fields) == [
        "Name",
        "PersonalAcc",
        "BankName",
        "BIC",
        "CorrespAcc",
        "PayeeINN",
        "KPP",
        "Sum",
        "Purpose",
        "PersAcc",
        "LastName",
        "PayerAddress",
        "PaymPeriod",
        "TechCode",
    ]
    assert fields["Name"] == PAYEE["name"] and fields["PersonalAcc"] == PAYEE["account"]
    assert (fields["BIC"], fields["CorrespAcc"]) == (PAYEE["bic"], PAYEE["correspondent_account"])
    assert (fields["PayeeINN"], fields["KPP"]) == (PAYEE["inn"], PAYEE["kpp"])
    assert fields["Sum"] == TO_PAY_KOPECKS
    assert fields["Purpose"] == f"Оплата ЖКУ за 10.2026, лицевой счет {mine.number}"
    assert (fields["PersAcc"], fields["LastName"]) == (mine.number, mine.owner_surname)
    assert fields["PayerAddress"] == mine.address
    assert (fields["PaymPeriod"], fields["TechCode"]) == ("10.2026", "02")


def test_a_month_paid_in_advance_asks_nothing_and_its_code_has_no_sum(app, user, bills):
    unbilled = bills["unbilled"]
    bills["data"].charge(
        unbilled.id, OCTOBER, bills["water"], accrued="50.00", opening="-150.00", closing="-100"
    )
    words = words_of(user.get(url(bills, account="unbilled")))
    assert "Итого к оплате 0,00 ₽ Переплата 100,00 ₽" in words
    assert "Оплатить до" not in words
    assert "сумму укажите сами" in words
    assert "Sum" not in code_of(app, unbilled.id, OCTOBER)


def test_any_free_text_of_the_accounting_system_makes_a_valid_code(app, user, bills, tmp_path):
    """An address with the separator, a line break and more than the portal's limit, and a
    surname with the separator: the receipt shortens and cleans them and never fails."""
    mine = bills["mine"]
    address = "г. Симферополь | ул. Мира,\nд. 1, " + "корпус 2 " * 40
    with app.app_context():
        db.session.execute(
            update(Account)
            .where(Account.id == mine.id)
            .values(address=address[:300], owner_surname="Орлов|Орлова")
        )
        db.session.commit()
    fields = code_of(app, mine.id, OCTOBER)
    assert len(fields["PayerAddress"]) <= PAYER_ADDRESS_LENGTH
    assert fields["PayerAddress"].startswith("г. Симферополь ул. Мира, д. 1, корпус 2")
    assert fields["PayerAddress"].endswith("…")
    assert fields["LastName"] == "Орлов Орлова"
    assert user.get(url(bills)).status_code == 200
    pdf = user.get(url(bills, "/cabinet/receipt.pdf"))
    assert pdf.status_code == 200
    decoded = parse(read_qr(pdf_page_image(pdf.data, tmp_path)))
    assert decoded["PayerAddress"] == fields["PayerAddress"]
    assert decoded["Sum"] == TO_PAY_KOPECKS


def test_the_month_selector_swaps_the_receipt_by_htmx(user, bills):
    response = user.get(url(bills, month="2026-09"), htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith('<div id="receipt-block">') and "<html" not in body
    assert "autofocus" in body
    words = words_of(response)
    assert "Единый платежный документ за сентябрь 2026" in words
    assert "Итого к оплате 225,62 ₽ Оплатить до 10 октября 2026" in words
    # The same month without JavaScript: the whole page, with the menu.
    page = user.get(url(bills, month="2026-09"))
    assert "Единый платежный документ за сентябрь 2026" in words_of(page)
    assert 'aria-label="Разделы кабинета"' in page.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/cabinet/receipt", "/cabinet/receipt.pdf"])
def test_a_month_without_charges_and_a_strangers_account_answer_404(user, bills, path):
    assert user.get(url(bills, path, month="2026-08")).status_code == 404
    assert user.get(url(bills, path, month="октябрь")).status_code == 404
    strangers = user.get(url(bills, path, account="strangers"))
    missing = user.get(path + "?account=1999999999")
    assert (strangers.status_code, missing.status_code) == (404, 404)
    assert strangers.data == missing.data


def test_an_account_without_charges_has_no_receipt(user, bills):
    words = words_of(user.get(url(bills, account="unbilled")))
    assert f"Начислений по лицевому счету {bills['unbilled'].number} еще нет" in words
    assert "Единый платежный документ" not in words
    assert user.get(url(bills, "/cabinet/receipt.pdf", account="unbilled")).status_code == 404


# --- the PDF -----------------------------------------------------------------------------


def test_the_pdf_downloads_under_its_name_and_holds_the_account_and_the_total(
    user, bills, tmp_path
):
    number = bills["mine"].number
    response = user.get(url(bills, "/cabinet/receipt.pdf", month="2026-10"))
    assert response.status_code == 200
    assert response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=kvitanciya-{number}-2026-10.pdf"
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"%PDF-")
    text = pdf_text(response.data, tmp_path)
    assert "Единый платежный документ за октябрь 2026" in text
    assert f"Лицевой счет {number}" in text
    assert f"Итого к оплате {TO_PAY}" in text
    # The receipt alone: no menu, month selector or buttons.
    for absent in ("Расчеты", "Приборы учета", "Скачать PDF", "Показать", "Выйти"):
        assert absent not in text


def test_a_scanner_reads_the_payee_the_account_and_the_exact_sum_off_the_pdf(user, bills, tmp_path):
    response = user.get(url(bills, "/cabinet/receipt.pdf"))
    fields = parse(read_qr(pdf_page_image(response.data, tmp_path, resolution=150)))
    assert fields["Name"] == PAYEE["name"] and fields["PersonalAcc"] == PAYEE["account"]
    assert fields["PersAcc"] == bills["mine"].number
    assert fields["Sum"] == TO_PAY_KOPECKS


def test_the_pdf_draws_its_qr_code_at_least_35_mm_wide_in_the_shipped_font(user, bills, tmp_path):
    response = user.get(url(bills, "/cabinet/receipt.pdf"))
    (image,) = pdf_images(response.data, tmp_path)
    width_mm = int(image["width"]) / int(image["x-ppi"]) * MM_PER_INCH
    assert 35 <= width_mm <= 60, image
    fonts = pdf_fonts(response.data, tmp_path)
    # WeasyPrint names an embedded @font-face font after its family: static/fonts/ is used,
    # not a font of the system.
    assert {name.split("+")[1] for name in fonts} == {
        "Receipt-DejaVu-Sans",
        "Receipt-DejaVu-Sans-Bold",
    }, fonts


def test_pdfs_are_limited_per_subscriber(make_app, bills):
    app = make_app(RECEIPT_PDF_LIMIT_PER_USER="2 per minute")
    with time_machine.travel(NOW):
        mine, stranger = logged_in(Client(app)), logged_in(Client(app), "stranger@example.ru")
        for _ in range(2):
            assert mine.get(url(bills, "/cabinet/receipt.pdf")).status_code == 200
        refused = mine.get(url(bills, "/cabinet/receipt.pdf"))
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        assert "Слишком много запросов" in words_of(refused)
        # The receipt's page is not limited, nor another subscriber's PDF.
        assert mine.get(url(bills)).status_code == 200
        theirs = stranger.get(url(bills, "/cabinet/receipt.pdf", account="strangers"))
        assert theirs.status_code == 200


def test_the_pdf_renderer_reads_static_files_only(app):
    with app.test_request_context("/"):
        fetcher = StaticFiles("http://localhost/static/", app.static_folder)
        response = fetcher.fetch("http://localhost/static/css/site.css")
        assert response.read().startswith(b"/* lkabonent")
        response.close()
        assert fetcher.fetch("data:text/plain,ok").read() == b"ok"
        for url in (
            "http://localhost/static/../lkabonent/config.py",
            "http://localhost/static/%2e%2e/lkabonent/config.py",
            "http://localhost/static/css/missing.css",
            "http://localhost/cabinet/",
            "http://127.0.0.1:9/static/css/site.css",
            "file:///etc/passwd",
        ):
            with pytest.raises(FatalURLFetchingError):
                fetcher.fetch(url)


# --- the main page -----------------------------------------------------------------------


def test_the_main_page_leads_to_the_latest_receipt_once_there_is_one(user, bills):
    number = bills["mine"].number
    body = user.get(f"/cabinet/?account={number}").get_data(as_text=True)
    receipt_url = f"/cabinet/receipt?account={number}&amp;month=2026-10"
    assert (
        f'<a class="button button--primary" href="{receipt_url}">Квитанция за октябрь 2026</a>'
        in body
    )
    assert f'href="/cabinet/receipt.pdf?account={number}&amp;month=2026-10">Скачать PDF' in body
    unbilled = user.get(f"/cabinet/?account={bills['unbilled'].number}").get_data(as_text=True)
    assert "/cabinet/receipt" not in unbilled
