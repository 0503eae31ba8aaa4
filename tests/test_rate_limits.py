"""Rate limits in shared storage: a limit reached through one application holds in another."""

import uuid

import pytest
import redis

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


def test_memory_storage_is_per_application(make_app, make_client, mailbox):
    """The default keeps limits in the process: documented, and the reason to set Redis."""
    assert make_client(make_app()).request_password("local@example.ru").status_code == 200
    assert make_client(make_app()).request_password("local@example.ru").status_code == 200
    assert len(mailbox) == 2
