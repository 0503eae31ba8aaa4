"""PostgreSQL restarted between requests: the next request succeeds (the pool tests a
connection before it hands it out, pool_pre_ping); while the database is down, every page
answers 503 «Сервис временно недоступен», and the session survives the outage."""

import pytest

from conftest import LOGIN, Client, logged_in, make_user

pytestmark = pytest.mark.faults


@pytest.fixture
def subscriber(app):
    """A logged-in subscriber whose pooled database connection is open."""
    make_user(app, LOGIN)
    client = logged_in(Client(app))
    assert client.get("/cabinet/").status_code == 200
    return client


def test_the_first_request_after_a_restart_succeeds(subscriber, postgres):
    postgres.stop()
    postgres.start()

    response = subscriber.get("/cabinet/")

    assert response.status_code == 200
    assert LOGIN in response.get_data(as_text=True)  # still logged in


def test_while_the_database_is_down_pages_answer_503_then_work_again(subscriber, postgres):
    postgres.stop()
    try:
        page = subscriber.get("/cabinet/")
        health = subscriber.get("/healthz")
    finally:
        postgres.start()

    assert page.status_code == 503
    assert page.headers["Retry-After"] == "60"
    assert "Сервис временно недоступен" in page.get_data(as_text=True)
    assert health.status_code == 503
    response = subscriber.get("/cabinet/")
    assert response.status_code == 200
    assert LOGIN in response.get_data(as_text=True)
    assert subscriber.get("/healthz").get_data(as_text=True) == "ok"
