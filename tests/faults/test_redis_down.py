"""Redis, where the rate limits are counted, stops: as documented (README, the
RATELIMIT_STORAGE_URI setting), the limits fall back to the process's memory and the site keeps
answering, its limits still applied."""

import pytest
import redis

from conftest import LOGIN, PASSWORD, make_user

from .servers import Browser, Gunicorn, portal_environment

pytestmark = pytest.mark.faults


@pytest.fixture
def portal(postgres, redis_server, tmp_path):
    """The portal under gunicorn, its rate limits in the module's Redis."""
    env = portal_environment(postgres.url(), RATELIMIT_STORAGE_URI=redis_server.url)
    server = Gunicorn(env, tmp_path / "gunicorn.log")
    server.start()
    yield server
    server.stop()


def test_with_redis_stopped_the_site_answers_and_limits_hold_in_memory(app, portal, redis_server):
    make_user(app, LOGIN)
    browser = Browser()
    assert browser.post(portal.url("/register"), {"email": "before@example.ru"}).status == 200
    assert redis.Redis.from_url(redis_server.url).keys("*"), "the limits are not kept in Redis"

    redis_server.stop()

    assert "Вход в личный кабинет" in browser.get(portal.url("/login")).body
    wrong = browser.post(portal.url("/login"), {"email": LOGIN, "password": "не тот пароль"})
    assert wrong.status == 422
    assert "Неверный логин или пароль." in wrong.body
    right = browser.post(portal.url("/login"), {"email": LOGIN, "password": PASSWORD})
    assert right.status == 303
    assert LOGIN in browser.get(portal.url("/cabinet/")).body
    form = {"email": "after@example.ru"}
    assert browser.post(portal.url("/register"), form).status == 200
    again = browser.post(portal.url("/register"), form)
    assert again.status == 429
    assert "Слишком много попыток" in again.body
    assert "falling back to in-memory storage" in portal.log()
