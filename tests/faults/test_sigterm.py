"""SIGTERM to gunicorn, as systemd stops or restarts the service: the request in flight
finishes and is answered, then gunicorn exits cleanly and the port takes no more connections.

The request is held in flight for as long as the test needs: the test locks the users table in
the module's PostgreSQL, so that loading the subscriber waits for the lock."""

import signal
import threading

import pytest
from sqlalchemy import create_engine, text

from conftest import LOGIN, PASSWORD, make_user

from .servers import Browser, Gunicorn, portal_environment, refuses_connections, wait_for

pytestmark = pytest.mark.faults

WAITING_FOR_A_LOCK = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")


@pytest.fixture
def portal(postgres, tmp_path):
    """The portal under gunicorn, one worker, on the module's PostgreSQL."""
    server = Gunicorn(portal_environment(postgres.url()), tmp_path / "gunicorn.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def engine(postgres):
    engine = create_engine(postgres.url())
    yield engine
    engine.dispose()


def test_sigterm_lets_the_request_in_flight_finish(app, portal, engine):
    make_user(app, LOGIN)
    browser = Browser()
    login = browser.post(portal.url("/login"), {"email": LOGIN, "password": PASSWORD})
    assert login.status == 303, login.body
    answers = []
    in_flight = threading.Thread(
        target=lambda: answers.append(browser.get(portal.url("/cabinet/")))
    )
    with (
        engine.connect() as locker,
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher,
    ):
        locker.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
        in_flight.start()
        wait_for(
            lambda: watcher.execute(WAITING_FOR_A_LOCK).scalar() == 1,
            "the request did not reach the locked table",
        )

        portal.process.send_signal(signal.SIGTERM)
        # The master logs the signal, then closes its listener and passes SIGTERM on to the
        # worker, which finishes its request before it exits.
        wait_for(lambda: "Handling signal: term" in portal.log(), "gunicorn did not take SIGTERM")
        assert in_flight.is_alive() and not answers  # still held by the lock
        locker.rollback()

    in_flight.join(timeout=30)
    [answer] = answers
    assert answer.status == 200
    assert LOGIN in answer.body
    assert portal.process.wait(timeout=30) == 0
    assert "Worker exiting" in portal.log()
    assert refuses_connections(portal.port)
