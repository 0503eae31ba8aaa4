"""`flask demo seed` with billing data: deterministic, consistent, and with the special cases the
demo subscriber's accounts are made to show."""

import hashlib
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from conftest import empty_tables
from lkabonent import demo
from lkabonent.billing.services import last_received
from lkabonent.cabinet.finance import add_months
from lkabonent.extensions import db
from lkabonent.models import (
    DEFAULT_READING_WINDOW,
    Account,
    AccountContact,
    BillingImport,
    Charge,
    Meter,
    Payment,
    Reading,
    Service,
)

END = "2026-11"
END_MONTH = date(2026, 11, 1)
SMALL = ("--accounts", "40", "--months", "6", "--end-month", END)


def seed(app, *args):
    """Run `flask demo seed` with ``args``; the result, which must not have failed."""
    result = app.test_cli_runner().invoke(args=["demo", "seed", *args])
    assert result.exception is None, result.output
    assert result.exit_code == 0, result.output
    return result


def billing_rows(app) -> dict[str, list[tuple]]:
    """Every table the seed writes, ids replaced by natural keys, in the order of those keys."""
    meter_account = aliased(Account)
    queries = {
        "services": select(
            Service.code,
            Service.name,
            Service.unit,
            Service.reading_window_start,
            Service.reading_window_end,
            Service.is_penalty,
        ).order_by(Service.code),
        "accounts": select(
            Account.number,
            Account.address,
            Account.status,
            Account.owner_surname,
            Account.owner_name,
            Account.total_area,
            Account.residents,
        ).order_by(Account.number),
        "contacts": select(Account.number, AccountContact.email)
        .join(Account, Account.id == AccountContact.account_id)
        .order_by(Account.number, AccountContact.email),
        "meters": select(
            Meter.external_id,
            meter_account.number,
            Service.code,
            Meter.serial_number,
            Meter.place,
            Meter.zones,
            Meter.digits,
            Meter.decimals,
            Meter.installed_on,
            Meter.next_verification_on,
            Meter.is_remote_read,
            Meter.status,
        )
        .join(meter_account, meter_account.id == Meter.account_id)
        .join(Service, Service.id == Meter.service_id)
        .order_by(Meter.external_id),
        "readings": select(
            Meter.external_id,
            Reading.zone,
            Reading.month,
            Reading.source,
            Reading.value,
            Reading.state,
            Reading.received_at,
        )
        .join(Meter, Meter.id == Reading.meter_id)
        .order_by(Meter.external_id, Reading.zone, Reading.month, Reading.source),
        "charges": select(
            Account.number,
            Charge.month,
            Service.code,
            Charge.volume,
            Charge.tariff,
            Charge.accrued,
            Charge.recalculation,
            Charge.recalculation_reason,
            Charge.benefit,
            Charge.paid,
            Charge.opening_balance,
            Charge.closing_balance,
        )
        .join(Account, Account.id == Charge.account_id)
        .join(Service, Service.id == Charge.service_id)
        .order_by(Account.number, Charge.month, Service.code),
        "payments": select(
            Payment.external_id,
            Account.number,
            Payment.paid_on,
            Payment.amount,
            Payment.channel,
            Payment.month,
        )
        .join(Account, Account.id == Payment.account_id)
        .order_by(Payment.external_id),
    }
    with app.app_context():
        return {
            name: [tuple(row) for row in db.session.execute(query)]
            for name, query in queries.items()
        }


def digest(rows: dict[str, list[tuple]]) -> str:
    return hashlib.sha256(repr(sorted(rows.items())).encode()).hexdigest()


def first_day(day: date) -> date:
    return day.replace(day=1)


def previous_month(month: date) -> date:
    return date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)


# --- what is written ------------------------------------------------------------------------------


def test_seed_writes_the_catalogue_accounts_and_their_history(app):
    result = seed(app, *SMALL)
    rows = billing_rows(app)
    assert "Добавлено демонстрационных лицевых счетов: 40." in result.output
    for label, name in [
        ("приборы учета", "meters"),
        ("показания", "readings"),
        ("начисления", "charges"),
        ("платежи", "payments"),
    ]:
        assert f"{label} {len(rows[name]):,}".replace(",", " ") in result.output
    assert "Месяцы: 06.2026–11.2026" in result.output
    assert rows["services"] == sorted(
        (code, name, unit, start, end, penalty)
        for code, name, unit, start, end, penalty in demo.SERVICES
    )
    assert len(rows["accounts"]) == 40
    assert all(number.startswith("108") and len(number) == 10 for number, *_ in rows["accounts"])
    for _, _, _, surname, owner_name, area, residents in rows["accounts"]:
        assert owner_name.split()[0] == surname and len(owner_name.split()) == 3
        assert Decimal(25) <= area <= Decimal(120) and area == area.quantize(Decimal("0.01"))
        assert 1 <= residents <= 5
    months = {row[1] for row in rows["charges"]}
    assert months == {date(2026, month, 1) for month in range(6, 12)}
    # Readings begin a month earlier: the first month's consumption is a difference too.
    assert {row[2] for row in rows["readings"]} == months | {date(2026, 5, 1)}
    assert {row[3] for row in rows["readings"]} == {Reading.BILLING}
    assert {row[5] for row in rows["readings"]} == {Reading.ACCEPTED}
    services = {row[2] for row in rows["charges"]}
    assert services == {code for code, *_ in demo.SERVICES}
    assert {row[4] for row in rows["payments"]} <= set(Payment.CHANNELS)


def test_charges_balance_month_to_month(app):
    seed(app, *SMALL)
    charges = billing_rows(app)["charges"]
    closing = {}
    for number, month, service, *_, opening, closing_balance in charges:
        assert opening == closing.get((number, previous_month(month), service), 0)
        closing[number, month, service] = closing_balance
    for row in charges:
        _, _, _, _, _, accrued, recalculation, _, benefit, paid, opening, closing_balance = row
        assert closing_balance == opening + accrued + recalculation - benefit - paid, row


def test_charges_are_volume_times_tariff(app):
    seed(app, *SMALL)
    rows = billing_rows(app)
    zones = {(number, code): zones for _, number, code, _, _, zones, *_ in rows["meters"]}
    for number, _, service, volume, tariff, accrued, recalculation, reason, *_ in rows["charges"]:
        if service == "electricity" and zones[number, service] > 1:
            assert tariff is None and volume > 0 and accrued > 0
        elif tariff is not None:
            assert accrued == (volume * tariff).quantize(Decimal("0.01"), ROUND_HALF_UP)
        else:
            assert volume is None
        assert (recalculation != 0) == (reason is not None)
    heating_months = {row[1].month for row in rows["charges"] if row[2] == "heating" and row[3]}
    assert heating_months <= {10, 11, 12, 1, 2, 3, 4}


def test_metered_volumes_are_the_differences_of_readings(app):
    """Of the meters read; where a meter is past its verification, it is not read, and the
    volume adds its mean consumption to the others' differences."""
    seed(app, *SMALL)
    rows = billing_rows(app)
    meters = {external_id: (number, code) for external_id, number, code, *_ in rows["meters"]}
    capacity = {row[0]: 10 ** row[6] for row in rows["meters"]}
    read_by = DEFAULT_READING_WINDOW[1]
    used = defaultdict(int)
    previous = {}
    for external_id, zone, month, _, value, _, _ in rows["readings"]:
        assert 0 <= value < capacity[external_id]
        if (external_id, zone) in previous:
            assert value >= previous[external_id, zone]
            used[(*meters[external_id], month)] += value - previous[external_id, zone]
        previous[external_id, zone] = value
    unread = defaultdict(list)  # by the service's volume: the meters not read that month
    for month in {row[1] for row in rows["charges"]}:
        for external_id, number, code, *_, verification, _, status in rows["meters"]:
            if status == Meter.ACTIVE and month.replace(day=read_by) > verification:
                unread[number, code, month].append(external_id)
    volumes = {(number, code, month): volume for number, month, code, volume, *_ in rows["charges"]}
    checked = averaged = 0
    for (number, code, month), volume in volumes.items():
        if code in ("electricity", "cold_water", "hot_water"):
            if unread[number, code, month]:
                assert volume >= used[number, code, month], (number, code, month)
                averaged += 1
            else:
                assert volume == used[number, code, month], (number, code, month)
            checked += 1
        if code == "sewerage":
            water = volumes.get((number, "cold_water", month), 0) + volumes.get(
                (number, "hot_water", month), 0
            )
            assert volume == water
    assert checked > 40 * 6 * 2
    assert averaged > 0


def test_no_meter_is_read_after_its_verification_date(app):
    seed(app, *SMALL)
    rows = billing_rows(app)
    verified_until = {row[0]: row[9] for row in rows["meters"]}
    read_by = DEFAULT_READING_WINDOW[1]
    assert all(
        month.replace(day=read_by) <= verified_until[external_id]
        for external_id, _, month, *_ in rows["readings"]
    )


def test_payments_of_a_month_are_what_its_charges_record_as_paid(app):
    seed(app, *SMALL)
    rows = billing_rows(app)
    paid = defaultdict(Decimal)
    for number, month, *_, charge_paid, _, _ in rows["charges"]:
        paid[number, month] += charge_paid
    received = defaultdict(Decimal)
    statuses = {number: status for number, _, status, *_ in rows["accounts"]}
    last_months = {}
    for number, month, *_ in rows["charges"]:
        last_months[number] = max(month, last_months.get(number, month))
    for external_id, number, paid_on, amount, _, month in rows["payments"]:
        assert amount > 0
        received[number, first_day(paid_on)] += amount
        assert external_id.startswith(f"P{number}{paid_on:%Y%m}")
        # A payment pays last month's bill; a closing account's last one pays its last month.
        if month == first_day(paid_on):
            assert statuses[number] == Account.CLOSED and month == last_months[number]
        else:
            assert month == previous_month(first_day(paid_on))
    assert {key: value for key, value in paid.items() if value} == dict(received)
    # Most pay last month's bill in full, and some do not: their debts remain.
    debts = defaultdict(Decimal)
    for number, month, *_, charge_paid, opening, _ in rows["charges"]:
        if month == END_MONTH:
            debts[number] += opening - charge_paid
    assert 0 < sum(1 for debt in debts.values() if debt > 0) < len(debts) / 2


def test_payers_and_debtors_make_penalties_and_recalculations_appear(app):
    seed(app, "--accounts", "200", "--months", "12", "--end-month", END)
    charges = billing_rows(app)["charges"]
    penalties = [row for row in charges if row[2] == "penalty"]
    assert penalties and all(row[3] is None and row[4] is None for row in penalties)
    assert any(row[5] > 0 for row in penalties)
    assert any(row[6] < 0 for row in charges) and any(row[6] > 0 for row in charges)
    assert any(row[8] > 0 for row in charges)  # benefits


# --- the demo subscriber's accounts ---------------------------------------------------------------


def test_the_demo_accounts_show_the_special_cases(app):
    seed(app, "--end-month", END)
    rows = billing_rows(app)
    assert len(rows["accounts"]) == demo.DEFAULT_ACCOUNTS
    assert len({row[1] for row in rows["charges"]}) == demo.DEFAULT_MONTHS
    meters = defaultdict(list)
    for _, number, code, _, _, zones, _, _, _, verification, remote, status in rows["meters"]:
        meters[number, code].append((zones, verification, remote, status))
    # Иванов: a three-zone meter, read by hand, all meters verified, and a debt with penalties.
    [(zones, _, remote, status)] = meters["1080000001", "electricity"]
    assert (zones, remote, status) == (3, False, Meter.ACTIVE)
    assert all(
        verification > END_MONTH
        for (number, _), found in meters.items()
        if number == "1080000001"
        for _, verification, _, _ in found
    )
    # Петрова: a remote-read meter and a cold-water meter past its verification date.
    assert [remote for _, _, remote, _ in meters["1080000002", "electricity"]] == [True]
    cold_water = meters["1080000002", "cold_water"]
    assert any(verification < END_MONTH for _, verification, _, _ in cold_water)
    # …read last in the month before its verification date: charged by average since.
    (overdue,) = [row for row in rows["meters"] if row[1] == "1080000002" and row[9] < END_MONTH]
    last_read = max(month for meter, _, month, *_ in rows["readings"] if meter == overdue[0])
    read_by = DEFAULT_READING_WINDOW[1]
    assert (
        last_read.replace(day=read_by) <= overdue[9] < add_months(last_read, 1).replace(day=read_by)
    )
    end_rows = [row for row in rows["charges"] if row[1] == END_MONTH]
    ivanov = [row for row in end_rows if row[0] == "1080000001"]
    assert sum(opening - paid for *_, paid, opening, _ in ivanov) > 0  # last months unpaid
    assert [row[5] > 0 for row in ivanov if row[2] == "penalty"] == [True]
    assert any(row[7] for row in ivanov)  # a recalculation with its reason, on the last bill
    petrova = [row for row in end_rows if row[0] == "1080000002"]
    assert not any(row[2] == "penalty" for row in petrova)
    assert any(row[8] > 0 for row in petrova if row[2] == "capital_repair")
    # The closed account stopped being billed and settled its bill.
    kuznetsov = [row for row in rows["charges"] if row[0] == "1080000004"]
    last_month = max(row[1] for row in kuznetsov)
    assert last_month < END_MONTH
    assert sum(row[-1] for row in kuznetsov if row[1] == last_month) <= 0
    statuses = {status for (number, _), found in meters.items() for *_, status in found}
    assert statuses == {Meter.ACTIVE, Meter.REMOVED}
    assert all(
        status == Meter.REMOVED
        for (number, _), found in meters.items()
        if number == "1080000004"
        for *_, status in found
    )
    # The contacts are those of before.
    assert [number for number, email in rows["contacts"] if email == demo.DEMO_EMAIL] == [
        "1080000001",
        "1080000002",
    ]
    landlord = [number for number, email in rows["contacts"] if email == demo.LANDLORD_EMAIL]
    assert landlord == [f"10800000{n:02d}" for n in range(5, 17)]


# --- determinism and options ----------------------------------------------------------------------


def test_the_same_seed_and_end_month_give_the_same_rows(app):
    seed(app, *SMALL)
    first = digest(billing_rows(app))
    with app.app_context():
        empty_tables()
    seed(app, *SMALL)
    assert digest(billing_rows(app)) == first
    with app.app_context():
        empty_tables()
    seed(app, *SMALL, "--seed", "7")
    assert digest(billing_rows(app)) != first


def test_an_account_is_the_same_whatever_the_number_of_accounts(app, monkeypatch):
    """Each account draws from its own generator, so chunking changes nothing."""
    seed(app, "--accounts", "30", "--months", "3", "--end-month", END)
    whole = billing_rows(app)
    with app.app_context():
        empty_tables()
    monkeypatch.setattr(demo, "CHUNK_ACCOUNTS", 7)
    seed(app, "--accounts", "30", "--months", "3", "--end-month", END)
    assert billing_rows(app) == whole


def test_the_end_month_is_the_last_month_before_the_current_one_of_the_settlement_centre(app):
    # 22:30 UTC on 31 December is already 1 January in Simferopol (UTC+3): December is billed.
    with time_machine.travel(datetime(2026, 12, 31, 22, 30, tzinfo=UTC), tick=False):
        result = seed(app, "--accounts", "5", "--months", "2")
    assert "Месяцы: 11.2026–12.2026" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.max(Charge.month))) == date(2026, 12, 1)
        latest = db.session.scalar(select(func.max(Payment.paid_on)))
    assert latest <= date(2026, 12, 31)


@pytest.mark.parametrize("value", ["2026-13", "ноябрь", "11.2026"])
def test_a_wrong_end_month_is_refused(app, value):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--end-month", value])
    assert result.exit_code == 2
    assert "ГГГГ-ММ" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Account.id))) == 0


def test_a_database_with_accounts_gets_nothing(app):
    with app.app_context():
        db.session.add(
            Account(number="7770000001", owner_surname="Орлов", address="г. Саки", status="active")
        )
        db.session.commit()
    result = seed(app, *SMALL)
    assert "В базе уже есть лицевые счета; демонстрационные данные не добавлены." in result.output
    rows = billing_rows(app)
    assert [row[0] for row in rows["accounts"]] == ["7770000001"]
    assert all(not rows[name] for name in ("services", "meters", "readings", "charges", "payments"))


def test_services_already_in_the_catalogue_are_kept(app):
    with app.app_context():
        db.session.add(Service(code="electricity", name="Электроэнергия", unit="кВт·ч"))
        db.session.commit()
    result = seed(app, *SMALL)
    assert "услуги 7" in result.output
    rows = billing_rows(app)
    assert ("electricity", "Электроэнергия") in [row[:2] for row in rows["services"]]
    assert any(row[2] == "electricity" for row in rows["charges"])


def test_new_rows_get_ids_after_the_seeded_ones(app):
    """The seed writes account and meter ids itself; the sequences must continue after them."""
    seed(app, "--accounts", "5", "--months", "1", "--end-month", END)
    with app.app_context():
        account = Account(number="7770000001", owner_surname="Орлов", address="г. Саки")
        db.session.add(account)
        db.session.flush()
        meter = Meter(
            external_id="M-new",
            account_id=account.id,
            service_id=db.session.scalar(select(Service.id).where(Service.code == "cold_water")),
            serial_number="1",
            digits=5,
        )
        db.session.add(meter)
        db.session.commit()
        assert account.id == 6
        assert meter.id == db.session.scalar(select(func.count(Meter.id)))


def test_the_seed_is_logged_as_data_received_from_the_accounting_system(app):
    with time_machine.travel(datetime(2026, 11, 27, 9, 30, tzinfo=UTC), tick=False):
        seed(app, *SMALL)
    with app.app_context():
        (logged,) = db.session.scalars(select(BillingImport)).all()
        assert last_received() == datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    assert (logged.result, logged.rejected) == (BillingImport.DONE, 0)
    assert logged.rows == logged.inserted > 40
