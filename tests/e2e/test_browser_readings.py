"""«Подать показания» in the browser: htmx swaps the meter's card with the verdict; each rule of
readings refuses with its reason in Russian; states that the accounting system sets show."""

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from lkabonent.cabinet.finance import add_months
from lkabonent.demo import DEMO_EMAIL
from lkabonent.extensions import db
from lkabonent.models import Meter, Reading, ReadingExport, Service
from lkabonent.text import date_ru, month_ru

from .demo import FIRST, SECOND, Demo, seed_demo
from .portal import ON_BOTH_SCREENS

pytestmark = pytest.mark.e2e

SUBMIT = "Передать показания"
STORED = "Показания приняты"
REPLACED = "Показания исправлены"
ROLLOVER = "Да, счетчик перешел через ноль"
CONFIRM_HIGH = "Да, показание верное, расход действительно такой"
REJECTED_BECAUSE = "Показание не совпадает с контрольным снятием"


class Readings(Demo):
    """The demo data with what the tests of readings read and change in it."""

    @property
    def month(self) -> date:
        """The month a reading submitted today counts for."""
        return self.today.replace(day=1)

    def meter(self, number: str, code: str):
        """The account's first meter of the service, in the order of Приборы учета."""
        return next(row for row in self.meters(number) if row.code == code)

    def last_value(self, meter_id: int, zone: int = 1) -> int:
        return self.readings(meter_id, zone)[0][1]

    def portal_readings(self, meter_id: int) -> list[tuple]:
        """(zone, month, value, state) of the meter's readings submitted in the portal."""
        query = (
            select(Reading.zone, Reading.month, Reading.value, Reading.state)
            .where(Reading.meter_id == meter_id, Reading.source == Reading.PORTAL)
            .order_by(Reading.zone, Reading.month)
        )
        return [tuple(row) for row in self.run(lambda: db.session.execute(query).all())]

    def set_history(self, meter_id: int, last: int, steps: tuple[int, ...] = (4,)) -> None:
        """Rewrite the meter's readings (one zone) to end at ``last``, each month using the
        next of ``steps`` before it, cycling: the consumption the rules compare with."""

        def rewrite():
            readings = db.session.scalars(
                select(Reading).where(Reading.meter_id == meter_id).order_by(Reading.month.desc())
            ).all()
            value = last
            for index, reading in enumerate(readings):
                reading.value = value
                value -= steps[index % len(steps)]
            assert value >= 0

        self.run(rewrite)

    def set_windows(self, start: int, end: int) -> None:
        self.execute(update(Service).values(reading_window_start=start, reading_window_end=end))

    def set_verification(self, meter_id: int, due: date) -> None:
        self.execute(update(Meter).where(Meter.id == meter_id).values(next_verification_on=due))

    def export(self) -> None:
        """What `flask billing export-readings` does to the portal's readings: a new batch."""

        def mark():
            batch = ReadingExport(created_at=datetime.now(UTC))
            db.session.add(batch)
            db.session.flush()
            batch.readings = db.session.execute(
                update(Reading)
                .where(Reading.source == Reading.PORTAL, Reading.export_batch_id.is_(None))
                .values(
                    export_batch_id=batch.id,
                    exported_at=batch.created_at,
                    state=Reading.EXPORTED,
                )
            ).rowcount

        self.run(mark)

    def reject(self, meter_id: int, reason: str) -> None:
        """The accounting system's verdict on the meter's exported portal readings."""
        self.execute(
            update(Reading)
            .where(Reading.meter_id == meter_id, Reading.source == Reading.PORTAL)
            .values(state=Reading.REJECTED, rejection_reason=reason)
        )


@pytest.fixture
def demo(live_server):
    """The demo data with every reading window open all month; the meters of 1080000001 are
    due for verification in three years."""
    seed_demo(live_server.app)
    readings = Readings(live_server.app)
    readings.verify_meters(FIRST)
    return readings


def closed_window(today: date) -> tuple[int, int, date, date]:
    """Window days that exclude today, and the first and last day of its next opening."""
    if today.day >= 15:
        following = add_months(today.replace(day=1), 1)
        return 1, 10, following, following.replace(day=10)
    return 20, 25, today.replace(day=20), today.replace(day=25)


def reading_field(card, zone: int | None = None):
    """The field of a zone (or of the single-zone meter) in a meter's card."""
    name = f"Зона T{zone}," if zone else "Показание,"
    return card.get_by_role("textbox", name=re.compile(f"^{name}"))


def open_meters(portal) -> None:
    portal.register(DEMO_EMAIL)
    portal.open_section("Приборы учета")
    expect(portal.page.get_by_role("heading", name="Приборы учета", level=1)).to_be_visible()


# --- stored ----------------------------------------------------------------------------------


@ON_BOTH_SCREENS
def test_readings_are_stored_then_corrected(portal, demo):
    cold = demo.meter(FIRST, "cold_water")
    last = 500
    demo.set_history(cold.id, last)  # 4 m³ a month
    open_meters(portal)
    card = portal.meter_card(cold.service, cold.serial)
    expect(reading_field(card)).to_have_accessible_name(
        f"Показание, м³ (целое число, до {cold.digits} цифр)"
    )
    portal.audit()

    portal.mark_document()
    portal.submit_readings(card, str(last + 3))
    expect(card.get_by_role("status")).to_contain_text(STORED)
    # Focus moves to the new card, which the verdict describes for a screen reader.
    expect(card).to_be_focused()
    expect(card).to_have_accessible_description(re.compile(f"^{STORED}"))
    submitted = card.locator(".submitted")
    expect(submitted.get_by_role("heading")).to_have_text(f"Показания за {month_ru(demo.month)}")
    expect(submitted.get_by_role("listitem")).to_contain_text(f"{last + 3} — принято")
    assert portal.document_survived()
    assert demo.portal_readings(cold.id) == [(1, demo.month, last + 3, Reading.ACCEPTED)]
    portal.audit()

    # Sent again before the export: the new value replaces the first.
    portal.submit_readings(card, str(last + 4))
    expect(card.get_by_role("status")).to_contain_text(REPLACED)
    expect(submitted.get_by_role("listitem")).to_have_count(1)
    expect(submitted.get_by_role("listitem")).to_contain_text(f"{last + 4} — принято")
    assert portal.document_survived()
    assert demo.portal_readings(cold.id) == [(1, demo.month, last + 4, Reading.ACCEPTED)]
    portal.audit()

    # A meter of three zones takes a value for each.
    power = demo.meter(FIRST, "electricity")
    assert power.zones == 3
    card = portal.meter_card(power.service, power.serial)
    values = [demo.last_value(power.id, zone) + 10 * zone for zone in (1, 2, 3)]
    for zone in (1, 2, 3):
        expect(reading_field(card, zone)).to_be_visible()
    portal.submit_readings(card, *map(str, values))
    expect(card.get_by_role("status")).to_contain_text(STORED)
    expect(card.locator(".submitted").get_by_role("listitem")).to_have_text(
        [re.compile(rf"^T{zone}: {value} — принято") for zone, value in enumerate(values, 1)]
    )
    assert [row[2] for row in demo.portal_readings(power.id)] == values
    portal.audit()

    # The main page no longer asks for these two meters, and still asks for the others.
    portal.visit("/cabinet/")
    waiting = portal.widget("Подать показания").get_by_role("listitem").get_by_role("link")
    expect(waiting).to_have_count(len(demo.meters(FIRST)) - 2)
    expect(waiting.filter(has_text=cold.serial)).to_have_count(0)
    expect(waiting.filter(has_text=power.serial)).to_have_count(0)


# --- refused values --------------------------------------------------------------------------


def test_a_value_that_is_no_reading_is_explained_at_its_field(portal, demo):
    open_meters(portal)
    cold = demo.meter(FIRST, "cold_water")
    card = portal.meter_card(cold.service, cold.serial)
    field = reading_field(card)

    portal.submit_readings(card, "137,5")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()  # the swapped card puts the focus where to correct
    expect(field).to_have_accessible_description(re.compile("целым числом"))
    expect(card.locator(".field__error")).to_contain_text("Введите показание целым числом")
    expect(field).to_have_value("137,5")
    portal.audit()

    too_long = "1" * (cold.digits + 2)
    portal.submit_readings(card, too_long)
    expect(field).to_have_accessible_description(
        f"У этого счетчика {cold.digits} разрядов до запятой: показание не может быть больше "
        f"{'9' * cold.digits}. Проверьте, не введены ли лишние цифры."
    )
    expect(field).to_have_value(too_long)
    expect(card.get_by_role("status")).to_have_count(0)
    assert demo.portal_readings(cold.id) == []
    portal.audit()


def test_a_reading_below_the_last_one_is_stored_as_a_rollover_once_confirmed(portal, demo):
    cold = demo.meter(FIRST, "cold_water")
    # The meter's history ends just below its capacity: the next value starts from zero.
    capacity = 10**cold.digits
    demo.set_history(cold.id, capacity - 1)  # 4 m³ a month
    last_month, last = demo.readings(cold.id)[0]
    assert last == capacity - 1
    open_meters(portal)
    card = portal.meter_card(cold.service, cold.serial)

    portal.submit_readings(card, "1")
    expect(reading_field(card)).to_have_accessible_description(
        re.compile(
            f"^Показание меньше последнего принятого: {last} за {month_ru(last_month)}. "
            "Так бывает, только если счетчик перешел через ноль"
        )
    )
    rollover = card.get_by_role("checkbox", name=ROLLOVER)
    expect(rollover).not_to_be_checked()
    assert demo.portal_readings(cold.id) == []
    portal.audit()

    rollover.check()
    card.get_by_role("button", name=SUBMIT).click()
    expect(card.get_by_role("status")).to_contain_text(STORED)
    expect(card.get_by_role("checkbox")).to_have_count(0)
    expect(card.locator(".submitted").get_by_role("listitem")).to_contain_text("1 — принято")
    assert demo.portal_readings(cold.id) == [(1, demo.month, 1, Reading.ACCEPTED)]
    portal.audit()


def test_an_unusually_high_reading_is_stored_once_confirmed(portal, demo):
    hot = demo.meter(FIRST, "hot_water")
    demo.set_history(hot.id, 500)  # 4 m³ a month
    last_month, last = demo.readings(hot.id)[0]
    open_meters(portal)
    card = portal.meter_card(hot.service, hot.serial)

    portal.submit_readings(card, str(last + 500))
    expect(reading_field(card)).to_have_accessible_description(
        f"Расход после показания за {month_ru(last_month)} — 500 м³, более чем втрое больше "
        "обычного (в среднем 4 м³ в месяц). Проверьте показание: не перепутаны ли счетчики или "
        "разряды."
    )
    confirm = card.get_by_role("checkbox", name=CONFIRM_HIGH)
    expect(card.get_by_role("checkbox", name=ROLLOVER)).to_have_count(0)
    assert demo.portal_readings(hot.id) == []
    portal.audit()

    confirm.check()
    card.get_by_role("button", name=SUBMIT).click()
    expect(card.get_by_role("status")).to_contain_text(STORED)
    assert demo.portal_readings(hot.id) == [(1, demo.month, last + 500, Reading.ACCEPTED)]
    portal.audit()


def test_the_usual_consumption_is_written_with_a_decimal_comma(portal, demo):
    hot = demo.meter(FIRST, "hot_water")
    demo.set_history(hot.id, 500, steps=(2, 3))  # 2,5 m³ a month
    last_month = demo.readings(hot.id)[0][0]
    open_meters(portal)
    card = portal.meter_card(hot.service, hot.serial)
    portal.submit_readings(card, "600")
    expect(reading_field(card)).to_have_accessible_description(
        f"Расход после показания за {month_ru(last_month)} — 100 м³, более чем втрое больше "
        "обычного (в среднем 2,5 м³ в месяц). Проверьте показание: не перепутаны ли счетчики или "
        "разряды."
    )
    portal.audit()


# --- refused meters and days -----------------------------------------------------------------


@ON_BOTH_SCREENS
def test_out_of_the_window_the_card_names_the_next_one(portal, demo):
    page = portal.page
    start, end, first, last = closed_window(demo.today)
    demo.set_windows(start, end)
    open_meters(portal)
    for meter in demo.meters(FIRST):
        card = portal.meter_card(meter.service, meter.serial)
        expect(card).to_contain_text(
            f"Показания по услуге «{meter.service}» принимаются с {start}-го по {end}-е число "
            f"месяца. Ближайший прием: с {date_ru(first)} по {date_ru(last)}."
        )
    expect(page.get_by_role("button", name=SUBMIT)).to_have_count(0)
    expect(page.get_by_role("textbox")).to_have_count(0)
    portal.audit()

    portal.visit("/cabinet/")
    expect(portal.widget("Подать показания")).to_contain_text(
        f"Следующий прием показаний — с {date_ru(first)} по {date_ru(last)}."
    )

    # A page opened while the window was open: the submission is refused, and the card says why.
    demo.set_windows(1, 31)
    portal.visit("/cabinet/meters/")
    cold = demo.meter(FIRST, "cold_water")
    card = portal.meter_card(cold.service, cold.serial)
    expect(card.get_by_role("button", name=SUBMIT)).to_be_visible()
    demo.set_windows(start, end)
    portal.submit_readings(card, str(demo.last_value(cold.id) + 2))
    expect(card.get_by_role("alert")).to_contain_text(
        f"Ближайший прием: с {date_ru(first)} по {date_ru(last)}."
    )
    expect(card.get_by_role("button", name=SUBMIT)).to_have_count(0)
    assert demo.portal_readings(cold.id) == []
    portal.audit()


def test_meters_past_verification_or_read_remotely_take_no_readings(portal, demo):
    page = portal.page
    open_meters(portal)
    cold = demo.meter(FIRST, "cold_water")
    card = portal.meter_card(cold.service, cold.serial)
    expect(card.get_by_role("button", name=SUBMIT)).to_be_visible()
    # The verification date passes while the page is open.
    yesterday = demo.today - timedelta(days=1)
    demo.set_verification(cold.id, yesterday)
    portal.submit_readings(card, str(demo.last_value(cold.id) + 2))
    expect(card.get_by_role("alert")).to_contain_text(
        f"Срок поверки прибора истек {date_ru(yesterday)}. Показания такого прибора не принимаются"
    )
    expect(card.get_by_text("срок поверки истек", exact=True)).to_be_visible()
    expect(card.get_by_role("button", name=SUBMIT)).to_have_count(0)
    assert demo.portal_readings(cold.id) == []
    portal.audit()

    # The second account: a water meter past its date, and a meter that reports by itself.
    portal.choose_account(SECOND)
    expect(page.get_by_label("Лицевой счет")).to_have_value(SECOND)
    overdue = demo.meter(SECOND, "cold_water")
    assert overdue.next_verification_on < demo.today
    card = portal.meter_card(overdue.service, overdue.serial)
    expect(card).to_contain_text(
        f"Срок поверки прибора истек {date_ru(overdue.next_verification_on)}."
    )
    expect(card.get_by_role("textbox")).to_have_count(0)
    remote = demo.meter(SECOND, "electricity")
    assert remote.is_remote_read
    card = portal.meter_card(remote.service, remote.serial)
    expect(card).to_contain_text("передаются автоматически (дистанционно) — вводить их не нужно")
    expect(card.get_by_role("textbox")).to_have_count(0)
    hot = demo.meter(SECOND, "hot_water")
    expect(
        portal.meter_card(hot.service, hot.serial).get_by_role("button", name=SUBMIT)
    ).to_be_visible()
    portal.audit()


# --- after the export ------------------------------------------------------------------------


def test_an_exported_reading_is_changed_only_through_the_subscriber_service(portal, demo):
    page = portal.page
    cold = demo.meter(FIRST, "cold_water")
    demo.set_history(cold.id, 500)  # 4 m³ a month
    value = 503
    open_meters(portal)
    card = portal.meter_card(cold.service, cold.serial)
    portal.submit_readings(card, str(value))
    expect(card.get_by_role("status")).to_contain_text(STORED)
    # `flask billing export-readings` runs while the page is open; the correction comes late.
    demo.export()
    portal.submit_readings(card, str(value + 1))
    alert = card.get_by_role("alert")
    expect(alert).to_contain_text(
        f"Показания за {month_ru(demo.month)} уже переданы в расчет, изменить их через портал "
        "нельзя. Если в них ошибка, обратитесь в абонентскую службу"
    )
    expect(card).to_be_focused()
    expect(card).to_have_accessible_description(re.compile("уже переданы в расчет"))
    expect(card.locator(".submitted").get_by_role("listitem")).to_contain_text(
        f"{value} — передано в расчет"
    )
    expect(card.get_by_role("textbox")).to_have_count(0)
    assert demo.portal_readings(cold.id) == [(1, demo.month, value, Reading.EXPORTED)]
    portal.audit()

    # Shown again, the card says so without offering the form.
    portal.visit("/cabinet/meters/")
    expect(card.locator(".submitted").get_by_role("listitem")).to_contain_text(
        f"{value} — передано в расчет"
    )
    expect(card).to_contain_text("обратитесь в абонентскую службу")
    expect(card.get_by_role("button", name=SUBMIT)).to_have_count(0)

    card.get_by_role("link", name=f"История показаний прибора № {cold.serial}").click()
    history = page.get_by_role("table", name=f"Показания прибора № {cold.serial} по месяцам")
    expect(history.locator("tbody tr").first.get_by_role("cell")).to_have_text(
        [month_ru(demo.month), str(value), "3", "портал", "передано в расчет"]
    )
    portal.audit()


def test_a_rejected_reading_shows_its_reason(portal, demo):
    page = portal.page
    cold = demo.meter(FIRST, "cold_water")
    demo.set_history(cold.id, 500)  # 4 m³ a month
    last_month, last = demo.readings(cold.id)[0]
    open_meters(portal)
    card = portal.meter_card(cold.service, cold.serial)
    portal.submit_readings(card, str(last + 6))
    expect(card.get_by_role("status")).to_contain_text(STORED)
    demo.export()
    demo.reject(cold.id, REJECTED_BECAUSE)

    portal.visit("/cabinet/meters/")
    expect(card.locator(".submitted").get_by_role("listitem")).to_contain_text(
        f"{last + 6} — отклонено: {REJECTED_BECAUSE}"
    )
    # The last accepted reading is the accounting system's again.
    expect(card.locator(".reading")).to_contain_text(f"{last} м³ — за {month_ru(last_month)}")
    expect(card).to_contain_text(
        f"Показания за {month_ru(demo.month)} отклонены системой учета: {REJECTED_BECAUSE}. "
        "Подать их заново через портал нельзя — обратитесь в абонентскую службу"
    )
    expect(card.get_by_role("textbox")).to_have_count(0)
    portal.audit()

    card.get_by_role("link", name=f"История показаний прибора № {cold.serial}").click()
    history = page.get_by_role("table", name=f"Показания прибора № {cold.serial} по месяцам")
    rows = history.locator("tbody tr")
    expect(rows.first.get_by_role("cell")).to_have_text(
        # A rejected reading counts no consumption.
        [month_ru(demo.month), str(last + 6), "—", "портал", f"отклонено: {REJECTED_BECAUSE}"]
    )
    expect(rows.nth(1).get_by_role("cell").nth(4)).to_have_text("принято")
    portal.audit()


# --- without JavaScript ----------------------------------------------------------------------


def test_readings_without_javascript(make_portal, demo, base_url):
    portal = make_portal(java_script_enabled=False)
    page = portal.page
    cold = demo.meter(FIRST, "cold_water")
    last = 500
    demo.set_history(cold.id, last)  # 4 m³ a month
    open_meters(portal)
    posts = portal.record_posts()
    card = portal.meter_card(cold.service, cold.serial)

    portal.submit_readings(card, "12.5")
    # The meter's page comes back with the reason at the field.
    expect(page.get_by_role("heading", name=f"Прибор учета № {cold.serial}")).to_be_visible()
    expect(reading_field(card)).to_have_value("12.5")
    expect(card.locator(".field__error")).to_contain_text("целым числом")
    portal.audit()

    portal.submit_readings(card, str(last + 2))
    expect(page).to_have_url(f"{base_url}/cabinet/meters/{cold.id}#meter-{cold.id}")
    expect(page.get_by_text(STORED)).to_be_visible()
    expect(card.locator(".submitted").get_by_role("listitem")).to_contain_text(
        f"{last + 2} — принято"
    )
    assert demo.portal_readings(cold.id) == [(1, demo.month, last + 2, Reading.ACCEPTED)]
    portal.audit()

    assert [request.url.removeprefix(base_url) for request in posts] == [
        f"/cabinet/meters/{cold.id}/readings"
    ] * 2
    for request in posts:
        assert request.is_navigation_request(), request.url
        assert "hx-request" not in request.headers, request.url
        assert parse_qs(request.post_data).get("csrf_token", [""])[0], request.url
