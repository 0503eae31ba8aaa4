"""Double submissions on PostgreSQL: two requests with the same form at once (a double click,
two tabs) make one row, and the second gets a friendly answer, never a 500 — registration with
the emailed password, «Привязать», «Передать показания».

Requests go through Flask's test client in two threads, each with its own database connection
from the pool, on the module's own PostgreSQL cluster; a hook holds both threads at the
statement where they would race, so that they always reach it together."""

from datetime import UTC, datetime

import pytest
from cabinet_data import CabinetData
from sqlalchemy import func, select

from conftest import (
    LOGIN,
    Client,
    count,
    emailed_password,
    logged_in,
    make_user,
    meeting,
    run_together,
)
from lkabonent.extensions import db
from lkabonent.meters.views import REPLACED, STORED
from lkabonent.models import AccountLink, Reading, User

pytestmark = pytest.mark.faults


def together(app, statement_start: str, *requests) -> list:
    """The responses of ``requests`` (callables) run at once, meeting at the statement, in
    the order of their status codes."""
    responses = []
    with app.app_context():
        engine = db.engine
    errors = run_together(
        engine,
        meeting(statement_start),
        [lambda request=request: responses.append(request()) for request in requests],
    )
    assert errors == []
    return sorted(responses, key=lambda response: response.status_code)


def test_registering_twice_at_once_makes_one_cabinet(app, mailbox):
    email = "twice@example.ru"
    Client(app).request_password(email)
    form = {"email": email, "password": emailed_password(mailbox[-1]), "consent": "y"}
    first, second = Client(app), Client(app)

    # Both have checked the password; both now try to use it up.
    registered, refused = together(
        app,
        "UPDATE emailed_passwords SET used_at",
        lambda: first.post("/register/confirm", form),
        lambda: second.post("/register/confirm", form),
    )

    assert registered.status_code == 303
    assert registered.headers["Location"] == "/cabinet/"
    assert refused.status_code == 422
    assert "Этот пароль только что использован" in refused.get_data(as_text=True)
    assert count(app, User) == 1


def test_linking_one_account_twice_at_once_makes_one_link(app, accounts):
    make_user(app, LOGIN)
    form = {"number": "1080000003", "surname": "Семенов"}
    first, second = logged_in(Client(app)), logged_in(Client(app))

    # Both meet before the lock «Привязать» takes on the user.
    answered, linked = together(
        app,
        "UPDATE users",
        lambda: first.post("/cabinet/accounts/link", form),
        lambda: second.post("/cabinet/accounts/link", form),
    )

    assert linked.status_code == 303
    assert linked.headers["Location"] == "/cabinet/accounts"
    assert answered.status_code == 200
    assert "Этот лицевой счет уже привязан к вашему кабинету." in answered.get_data(as_text=True)
    assert count(app, AccountLink) == 1


def test_one_reading_sent_twice_at_once_is_stored_once(app, accounts, time_machine):
    time_machine.move_to(datetime(2026, 11, 20, 9, 0, tzinfo=UTC), tick=False)
    data = CabinetData(app)
    account_id = accounts["1080000001"].id
    meter_id = data.meter(account_id, data.service())
    data.subscriber(account_id)
    first, second = logged_in(Client(app)), logged_in(Client(app))
    url = f"/cabinet/meters/{meter_id}/readings"

    # Both find no reading of the month to replace, and insert one.
    responses = together(
        app,
        "INSERT INTO readings",
        lambda: first.post(url, {"zone1": "120"}, htmx=True),
        lambda: second.post(url, {"zone1": "120"}, htmx=True),
    )

    assert [response.status_code for response in responses] == [200, 200]
    pages = [response.get_data(as_text=True) for response in responses]
    assert sorted((STORED in page, REPLACED in page) for page in pages) == [
        (False, True),
        (True, False),
    ]
    with app.app_context():
        values = db.session.execute(
            select(Reading.value, func.count())
            .where(Reading.meter_id == meter_id)
            .group_by(Reading.value)
        ).all()
    assert values == [(120, 1)]
