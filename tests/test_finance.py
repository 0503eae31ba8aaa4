"""The services behind Расчеты, Задолженность and Произведенные платежи, and the consumption
chart's layout — without HTTP."""

from datetime import date
from decimal import Decimal

import pytest
from cabinet_data import CabinetData

from conftest import QueryCounter, make_accounts
from lkabonent.cabinet.chart import (
    HEIGHT,
    TOP,
    layout,
    nice_step,
    summary,
    svg,
    table_rows,
)
from lkabonent.cabinet.finance import (
    MONTHS_SHOWN,
    Consumption,
    PaymentFilter,
    add_months,
    charge_months,
    consumption,
    debts,
    latest_charge_month,
    latest_payments,
    month_end,
    payment_history,
    statement,
)
from lkabonent.extensions import db

OCTOBER = date(2026, 10, 1)


@pytest.fixture
def data(app):
    return CabinetData(app)


@pytest.fixture
def account(app):
    return make_accounts(app, 1)[0]


@pytest.fixture
def services(data):
    return {
        "water": data.service("cold_water", "Холодное водоснабжение", "м³"),
        "repair": data.service("capital_repair", "Взнос на капитальный ремонт", "м²"),
        "penalty": data.service("penalty", "Пени", "руб.", is_penalty=True),
    }


@pytest.mark.parametrize(
    ("month", "count", "expected"),
    [
        (date(2026, 10, 1), 1, date(2026, 11, 1)),
        (date(2026, 12, 1), 1, date(2027, 1, 1)),
        (date(2026, 1, 1), -1, date(2025, 12, 1)),
        (date(2026, 10, 1), -23, date(2024, 11, 1)),
    ],
)
def test_months_are_counted_across_years(month, count, expected):
    assert add_months(month, count) == expected


def test_a_month_ends_on_its_last_day():
    assert month_end(date(2028, 2, 1)) == date(2028, 2, 29)
    assert month_end(date(2026, 12, 1)) == date(2026, 12, 31)


def test_charge_months_latest_first_at_most_24(app, data, account, services):
    for index in range(30):
        data.charge(account.id, add_months(OCTOBER, -index), services["water"], accrued="1")
    (other,) = make_accounts(app, 1, start=3000000001)
    with app.app_context():
        months = charge_months(account.id)
        assert latest_charge_month(account.id) == OCTOBER
        assert latest_charge_month(other.id) is None
    assert len(months) == MONTHS_SHOWN
    assert months[0] == OCTOBER and months[-1] == date(2024, 11, 1)


def test_a_statement_lists_services_with_penalties_last_and_adds_them_up(
    app, data, account, services
):
    data.charge(account.id, OCTOBER, services["penalty"], accrued="3.21", opening="10")
    data.charge(
        account.id,
        OCTOBER,
        services["water"],
        volume="4.25",
        tariff="50.0001",
        accrued="212.50",
        recalculation="-2.50",
        reason="Перерасчет по показаниям",
        benefit="100.00",
        paid="300",
        opening="300",
    )
    data.charge(account.id, OCTOBER, services["repair"], volume="54.3", accrued="53.43")
    data.charge(account.id, date(2026, 9, 1), services["water"], accrued="999")
    with app.app_context():
        found = statement(account.id, OCTOBER)
    assert [line.name for line in found.lines] == [
        "Холодное водоснабжение",
        "Взнос на капитальный ремонт",
        "Пени",
    ]
    water = found.lines[0]
    assert (water.volume, water.tariff, water.recalculation_reason) == (
        Decimal("4.25"),
        Decimal("50.0001"),
        "Перерасчет по показаниям",
    )
    totals = found.totals
    assert totals.accrued == Decimal("269.14")
    assert totals.recalculation == Decimal("-2.50")
    assert totals.benefit == Decimal("100.00")
    assert totals.paid == Decimal("300")
    assert totals.opening == Decimal("310")
    assert totals.to_pay == Decimal("110.00") + Decimal("53.43") + Decimal("13.21")


def test_consumption_spans_24_months_with_gaps_and_leaves_out_services_that_do_not_vary(
    app, data, account, services
):
    data.charge(account.id, OCTOBER, services["water"], volume="5", accrued="1")
    data.charge(account.id, date(2026, 8, 1), services["water"], volume="7.5", accrued="1")
    data.charge(account.id, date(2024, 10, 1), services["water"], volume="99", accrued="1")
    # The same area every month, as a fee by area has, and a volume only out of the span.
    data.charge(account.id, OCTOBER, services["repair"], volume="54.3", accrued="1")
    data.charge(account.id, date(2026, 8, 1), services["repair"], volume="54.3", accrued="1")
    data.charge(account.id, date(2024, 10, 1), services["repair"], volume="60", accrued="1")
    data.charge(account.id, OCTOBER, services["penalty"], accrued="1")  # no volume
    with app.app_context():
        (water,) = consumption(account.id, OCTOBER)
    assert (water.name, water.unit) == ("Холодное водоснабжение", "м³")
    assert len(water.months) == MONTHS_SHOWN
    assert water.months[0] == (date(2024, 11, 1), None)  # October 2024 is out of the span
    assert water.months[-1] == (OCTOBER, Decimal("5"))
    assert water.months[-2] == (date(2026, 9, 1), None)
    assert water.months[-3] == (date(2026, 8, 1), Decimal("7.5"))
    assert water.peak == Decimal("7.5")


def test_debt_is_the_latest_bill_less_what_came_after_it_with_penalties_apart(app, data, services):
    owing, advance, unbilled = make_accounts(app, 3)
    data.charge(owing.id, date(2026, 9, 1), services["water"], accrued="500", opening="0")
    data.charge(owing.id, OCTOBER, services["water"], opening="500", accrued="200", paid="150")
    data.charge(owing.id, OCTOBER, services["repair"], accrued="50", benefit="10")
    data.charge(owing.id, OCTOBER, services["penalty"], opening="4", accrued="1.5")
    data.payment(owing.id, date(2026, 10, 31), "150")  # in the bill already
    data.payment(owing.id, date(2026, 11, 1), "100")  # after it
    data.charge(advance.id, date(2026, 9, 1), services["water"], accrued="100")  # no October's
    data.payment(advance.id, date(2026, 10, 3), "250")
    with app.app_context():
        found = debts([owing, advance, unbilled])
    debt = found[0]
    assert (debt.number, debt.month) == (owing.number, OCTOBER)
    assert debt.opening == Decimal("500")
    assert debt.charged == Decimal("240")
    assert debt.paid == Decimal("150") and debt.paid_since == Decimal("100")
    assert debt.paid_in_all == Decimal("250")
    assert debt.penalties == Decimal("5.5")
    assert debt.services == Decimal("490")
    assert debt.total == Decimal("495.5")
    assert (found[1].month, found[1].total) == (date(2026, 9, 1), Decimal("-150"))
    assert (found[2].month, found[2].total) == (None, 0)


def test_debts_cost_two_queries_for_any_number_of_accounts(app, data, services):
    accounts = make_accounts(app, 6)
    for account in accounts:
        data.charge(account.id, OCTOBER, services["water"], accrued="1")
        data.payment(account.id, date(2026, 11, 2), "1")
    with app.app_context(), QueryCounter(db.engine) as counter:
        found = debts(accounts)
    assert counter.count == 2
    assert all(debt.total == 0 for debt in found)


def test_payment_history_pages_latest_first_and_filters_by_year(app, data, account):
    other = make_accounts(app, 1, start=2000000100)[0]
    for day in range(1, 6):
        data.payment(account.id, date(2026, 3, day), f"{day}.00")
    data.payment(account.id, date(2024, 12, 31), "9.00")
    data.payment(other.id, date(2026, 3, 10), "1000.00")
    with app.app_context():
        first = payment_history(PaymentFilter([account.id]), 1, 4)
        last = payment_history(PaymentFilter([account.id]), 99, 4)
        of_2024 = payment_history(PaymentFilter([account.id], 2024), 1, 4)
        both = payment_history(PaymentFilter([account.id, other.id], 2026), 1, 10)
    assert first.years == [2026, 2025, 2024]
    assert [payment.paid_on.day for payment in first.page.items] == [5, 4, 3, 2]
    assert (first.page.number, first.page.pages) == (1, 2)
    assert (last.page.number, [p.amount for p in last.page.items]) == (
        2,
        [Decimal("1.00"), Decimal("9.00")],
    )
    assert [payment.amount for payment in of_2024.page.items] == [Decimal("9.00")]
    assert both.page.items[0].amount == Decimal("1000.00") and len(both.page.items) == 6


def test_payment_history_without_payments(app, account):
    with app.app_context():
        history = payment_history(PaymentFilter([account.id]), 1, 10)
    assert history.years == [] and history.page.items == [] and history.page.pages == 1


def test_latest_payments(app, data, account):
    for day in (3, 1, 2):
        data.payment(account.id, date(2026, 11, day), f"{day}.00")
    with app.app_context():
        found = latest_payments(account.id, 2)
    assert [payment.paid_on.day for payment in found] == [3, 2]


# --- the chart ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("peak", "step"),
    [
        ("7.5", "2"),
        ("8", "2"),
        ("9", "5"),
        ("120", "50"),
        ("0.3", "0.1"),
        ("3500", "1000"),
    ],
)
def test_the_value_axis_takes_round_steps_that_cover_the_peak(peak, step):
    assert nice_step(Decimal(peak)) == Decimal(step)
    assert nice_step(Decimal(peak)) * 4 >= Decimal(peak)


def series(volumes) -> Consumption:
    months = [add_months(date(2024, 11, 1), index) for index in range(len(volumes))]
    values = [None if v is None else Decimal(v) for v in volumes]
    return Consumption("Холодное водоснабжение", "м³", list(zip(months, values, strict=True)))


def test_bars_are_as_tall_as_their_volume_within_the_plot(app_context):
    chart = layout(series(["4", "8", None, "2"] + ["0"] * 20))
    heights = [bar.height for bar in chart.bars]
    assert heights[1] == pytest.approx(2 * heights[0], abs=0.1)
    assert heights[1] == pytest.approx(4 * heights[3], abs=0.1)
    assert heights[2] == 0 and chart.bars[2].text is None
    assert all(TOP <= bar.y <= HEIGHT for bar in chart.bars)
    assert [label for _, label in chart.ticks] == ["0", "2", "4", "6", "8"]
    # Month labels every third bar, counted back from the latest.
    assert len(chart.labels) == 8 and chart.labels[-1][0] > chart.bars[-2].x


def test_a_chart_of_zeros_still_draws(app_context):
    chart = layout(series(["0"] * 24))
    assert all(bar.height == 0 for bar in chart.bars)


def test_the_summary_says_the_chart_in_words(app_context):
    text = summary(series(["4", "8", None, "2"] + [None] * 20))
    assert text == (
        "Холодное водоснабжение, м³, с ноября 2024 по октябрь 2026: в среднем 4,667 в месяц; "
        "больше всего — 8 (декабрь 2024); февраль 2025 — 2."
    )
    assert summary(series([None] * 24)).endswith("данных о потреблении нет.")


def test_the_chart_is_written_as_markup_with_its_text_escaped(app_context):
    chart = layout(
        Consumption("Вода", "<м³>", [(date(2026, 9, 1), Decimal("4")), (date(2026, 10, 1), None)])
    )
    drawn = str(svg(chart, "chart-2"))
    assert drawn.startswith(
        '<svg class="chart__svg" viewBox="0 0 720 220" role="img" '
        'aria-labelledby="chart-2-title" aria-describedby="chart-2-desc" focusable="false">'
        '<desc id="chart-2-desc">Вода, &lt;м³&gt;, с сентября 2026 по октябрь 2026: '
    )
    # One bar, for the month with a volume; a tick line and its label per step of the axis.
    assert (
        drawn.count("<rect ") == 1
        and (
            f'<rect class="chart__bar" x="{chart.bars[0].x}" y="{chart.bars[0].y}" '
            f'width="{chart.bars[0].width}" height="{chart.bars[0].height}">'
            "<title>сентябрь 2026: 4 &lt;м³&gt;</title></rect>"
        )
        in drawn
    )
    assert drawn.count('<line class="chart__grid"') == len(chart.ticks) == 5
    assert [label for _, label in chart.labels] == ["окт. 26"]
    assert drawn.endswith('text-anchor="middle">окт. 26</text></svg>')
    other = layout(series(["1.5", "2"] + [None] * 22))
    rows = str(table_rows([chart, other]))
    assert rows.startswith(
        '<tr><th scope="row">октябрь 2026</th><td class="number">—</td>'
        '<td class="number">2</td></tr>'
    )
    assert '<tr><th scope="row">сентябрь 2026</th><td class="number">4</td>' in rows
