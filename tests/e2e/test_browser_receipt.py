"""«Печать квитанции» in the browser, on the demo data: from the main page to the receipt, its
QR code read off a screenshot by a real decoder, the printed sheet, another month, the PDF."""

from pathlib import Path

import pytest
from decoding import pdf_text, read_qr
from playwright.sync_api import expect

from lkabonent.cabinet.finance import add_months
from lkabonent.demo import DEMO_EMAIL
from lkabonent.payment_qr import parse
from lkabonent.text import money_ru, month_ru

from .demo import FIRST
from .portal import ON_BOTH_SCREENS

pytestmark = pytest.mark.e2e

# CSS pixels per millimetre.
PX_PER_MM = 96 / 25.4


def receipt_of(page, month):
    return page.get_by_role("article", name=f"Единый платежный документ за {month_ru(month)}")


@ON_BOTH_SCREENS
def test_the_receipt_from_the_main_page_scanned_printed_and_downloaded(
    portal, demo, base_url, tmp_path
):
    page = portal.page
    portal.register(DEMO_EMAIL)
    latest = demo.latest_month(FIRST)
    portal.widget("Печать квитанции").get_by_role(
        "link", name=f"Квитанция за {month_ru(latest)}"
    ).click()
    expect(page).to_have_url(f"{base_url}/cabinet/receipt?account={FIRST}&month={latest:%Y-%m}")
    receipt = receipt_of(page, latest)
    total = demo.to_pay(FIRST, latest)
    assert total > 0  # the demo's debtor
    expect(receipt.locator("[data-total]")).to_have_text(money_ru(total))
    expect(page.get_by_role("button", name="Распечатать")).to_be_visible()
    portal.audit()

    # A banking app's scanner, pointed at the screen, reads the payee, the account and the sum.
    shot = tmp_path / "screen.png"
    receipt.locator("svg.payment-qr").screenshot(path=shot)
    fields = parse(read_qr(shot))
    assert fields["Name"] == demo.app.config["PAYEE"]["name"]
    assert fields["PersonalAcc"] == demo.app.config["PAYEE"]["account"]
    assert fields["PersAcc"] == FIRST
    assert fields["Sum"] == str(int(total * 100))

    # Printed: the receipt alone, its code at least 35 mm wide.
    page.emulate_media(media="print")
    for hidden in (
        page.get_by_role("navigation", name="Разделы кабинета"),
        page.locator(".site-header"),
        page.locator(".site-footer"),
        page.get_by_label("Месяц"),
        page.get_by_role("link", name="Скачать PDF"),
        page.get_by_role("heading", name="Печать квитанции", level=1),
    ):
        expect(hidden).to_be_hidden()
    expect(receipt).to_be_visible()
    assert receipt.locator("svg.payment-qr").bounding_box()["width"] >= 35 * PX_PER_MM
    page.emulate_media(media="screen")

    # Another month, swapped in by htmx.
    earlier = add_months(latest, -1)
    portal.mark_document()
    page.get_by_label("Месяц").select_option(f"{earlier:%Y-%m}")
    page.locator("#receipt-block").get_by_role("button", name="Показать").click()
    expect(receipt_of(page, earlier)).to_be_focused()
    expect(page).to_have_url(f"{base_url}/cabinet/receipt?account={FIRST}&month={earlier:%Y-%m}")
    assert portal.document_survived()
    expect(page.get_by_role("button", name="Распечатать")).to_be_visible()
    portal.audit()

    # The PDF of that month.
    with page.expect_download() as download:
        page.get_by_role("link", name="Скачать PDF").click()
    assert download.value.suggested_filename == f"kvitanciya-{FIRST}-{earlier:%Y-%m}.pdf"
    text = pdf_text(Path(download.value.path()).read_bytes(), tmp_path)
    assert f"Лицевой счет {FIRST}" in text
    owed = demo.to_pay(FIRST, earlier)
    assert owed > 0  # the debtor owed that month too: the total is the sum, not 0,00 ₽
    assert f"Итого к оплате {money_ru(owed)}".replace("\xa0", " ") in text


def test_the_receipt_without_javascript(make_portal, demo, base_url):
    """No «Распечатать» (the browser's own print serves); the month selector reloads the page."""
    portal = make_portal(java_script_enabled=False)
    page = portal.page
    portal.register(DEMO_EMAIL)
    latest = demo.latest_month(FIRST)
    portal.visit(f"/cabinet/receipt?account={FIRST}")
    expect(receipt_of(page, latest)).to_be_visible()
    expect(page.get_by_role("button", name="Распечатать")).to_be_hidden()
    earlier = add_months(latest, -1)
    page.get_by_label("Месяц").select_option(f"{earlier:%Y-%m}")
    page.locator("#receipt-block").get_by_role("button", name="Показать").click()
    expect(page).to_have_url(f"{base_url}/cabinet/receipt?account={FIRST}&month={earlier:%Y-%m}")
    expect(receipt_of(page, earlier)).to_be_visible()
    portal.audit()
