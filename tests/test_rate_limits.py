"""Rate limits in shared storage: a limit reached through one application holds in another."""

import uuid

import pytest
import redis

from conftest import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_limits():
    """Settings that keep rate limits in the local Redis, under a prefix of this test's own."""
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = f"lkabonent-test-{uuid.uuid4().hex}"
    yield {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)


def test_limit_reached_in_one_app_holds_in_another(make_app, make_client, mailbox, redis_limits):
    first = make_client(make_app(**redis_limits))
    assert first.request_password("shared@example.ru").status_code == 200
    keys = redis.Redis.from_url(REDIS_URL).keys(f"*{redis_limits['RATELIMIT_KEY_PREFIX']}*")
    assert keys, "the limit was not written to Redis"

    second = make_client(make_app(**redis_limits))
    response = second.request_password("shared@example.ru")
    assert response.status_code == 429
    assert "Слишком много попыток" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert len(mailbox) == 1


def test_limits_fall_back_to_memory_when_the_storage_is_down(make_app, make_client, mailbox):
    """With Redis unreachable the forms keep working, and the limits still apply, counted in
    the process's memory (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED) until Redis is back."""
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0")
    client = make_client(app)
    assert client.request_password("fallback@example.ru").status_code == 200
    response = client.request_password("fallback@example.ru")
    assert response.status_code == 429
    assert "Слишком много попыток" in response.get_data(as_text=True)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert client.request_password("other@example.ru").status_code == 200
    assert [message["To"] for message in mailbox] == ["fallback@example.ru", "other@example.ru"]
