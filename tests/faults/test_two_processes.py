"""Two processes of the portal, each a gunicorn of its own, on one PostgreSQL database and one
Redis, as two servers behind a balancer: a rate limit reached through one holds through the
other, and a session ended through one is dead through the other."""

import pytest

from conftest import LOGIN, PASSWORD, make_user

from .servers import Browser, Gunicorn, portal_environment

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def portals(postgres, redis_server, tmp_path_factory):
    """Two gunicorns of the portal on the module's PostgreSQL and Redis."""
    env = portal_environment(postgres.url(), RATELIMIT_STORAGE_URI=redis_server.url)
    logs = tmp_path_factory.mktemp("gunicorn")
    servers = [Gunicorn(env, logs / f"portal-{name}.log") for name in ("a", "b")]
    try:
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_a_rate_limit_reached_through_one_process_holds_through_the_other(portals):
    first, second = portals
    browser = Browser()
    form = {"email": "twice@example.ru"}

    assert browser.post(first.url("/register"), form).status == 200
    response = browser.post(second.url("/register"), form)

    assert response.status == 429
    assert "Слишком много попыток" in response.body
    assert int(response.headers["Retry-After"]) > 0
    assert browser.post(second.url("/register"), {"email": "other@example.ru"}).status == 200


def test_a_session_ended_through_one_process_is_dead_through_the_other(app, portals):
    first, second = portals
    make_user(app, LOGIN)
    browser = Browser()
    login = browser.post(first.url("/login"), {"email": LOGIN, "password": PASSWORD})
    assert login.status == 303, login.body
    copied = dict(browser.cookies)
    assert LOGIN in browser.get(second.url("/cabinet/")).body

    assert browser.post(first.url("/logout"), {}).status == 303

    thief = Browser()
    thief.cookies = copied
    response = thief.get(second.url("/cabinet/"))
    assert response.status in (302, 303)
    assert response.headers["Location"].startswith("/login")
