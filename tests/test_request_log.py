"""A log line per request with its id, never a secret; the id in X-Request-ID and on the
error page; errors logged with it; nothing a client sends can forge a line."""

import logging
import re
import sys

import pytest

from conftest import LOGIN, PASSWORD, Client, make_user
from lkabonent.requestlog import LogFormatter, RequestIdFilter

REQUEST_LINE = "lkabonent.requests"


@pytest.fixture
def lines(caplog):
    """The request lines logged during the test."""
    caplog.set_level(logging.INFO, logger="lkabonent")
    return lambda: [record for record in caplog.records if record.name == REQUEST_LINE]


def test_a_line_per_request_with_its_id_the_user_and_no_secret(app, lines, caplog):
    user_id = make_user(app, LOGIN)
    client = Client(app)
    response = client.login(LOGIN, PASSWORD)
    assert response.status_code == 303
    page = client.get("/cabinet/?account=none&email=" + LOGIN)
    (*_, login_line, page_line) = lines()
    assert login_line.getMessage().startswith("POST /login 303 user=")
    assert re.fullmatch(rf"GET /cabinet/ 404 user={user_id} \d+\.\d ms", page_line.getMessage()), (
        page_line.getMessage()
    )
    assert page_line.request_id == page.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", page.headers["X-Request-ID"])
    # Neither the password, the login (the query string is not logged) nor the cookie.
    cookie = client.http.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    for secret in (PASSWORD, LOGIN, cookie):
        assert secret not in caplog.text


def test_each_request_gets_an_id_of_its_own(client, lines):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert [line.request_id for line in lines()] == [
        first.headers["X-Request-ID"],
        second.headers["X-Request-ID"],
    ]


@pytest.mark.parametrize(
    ("proxies", "given", "kept"),
    [
        (1, "0123456789abcdef0123456789abcdef", True),  # nginx's $request_id
        (0, "0123456789abcdef0123456789abcdef", False),  # no trusted proxy: a client's
        (1, "forged line 12345", False),
        (1, "short", False),
    ],
)
def test_the_proxys_request_id_is_kept_only_when_trusted(make_app, proxies, given, kept):
    app = make_app(TRUSTED_PROXIES=proxies)
    response = Client(app).get("/healthz", headers={"X-Request-ID": given})
    assert (response.headers["X-Request-ID"] == given) is kept


def test_an_error_shows_its_request_id_and_is_logged_with_it(make_app, lines, caplog):
    app = make_app(PROPAGATE_EXCEPTIONS=False)  # as in production: the error page answers

    @app.get("/__test__/broken")
    def broken():
        raise RuntimeError("something broke")

    response = Client(app).get("/__test__/broken")
    body = response.get_data(as_text=True)
    request_id = response.headers["X-Request-ID"]
    assert response.status_code == 500
    assert f"Код запроса: {request_id}" in body and "Traceback" not in body
    (error,) = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert error.request_id == request_id and "something broke" in error.exc_text
    assert lines()[-1].getMessage().startswith("GET /__test__/broken 500 ")


def test_a_404_page_has_no_request_id(client):
    # Another user's account and a missing one must answer the same page.
    assert "Код запроса" not in client.get("/no-such-page").get_data(as_text=True)


def test_line_breaks_a_client_sends_cannot_forge_a_line(client, lines):
    response = client.get("/cabinet/%0A2026-11-27T10:00:00Z%20INFO%20forged%e2%80%a8line")
    (line,) = lines()
    formatted = LogFormatter().format(line)
    assert "\n" not in formatted and "\u2028" not in formatted
    assert "/cabinet/\\n2026-11-27T10:00:00Z INFO forged\\u2028line" in formatted
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    request_id = response.headers["X-Request-ID"]
    assert re.match(rf"{stamp} INFO {request_id} lkabonent\.requests: GET ", formatted), formatted


def test_a_traceback_keeps_its_lines():
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.getLogger("lkabonent").makeRecord(
            "lkabonent",
            logging.ERROR,
            __file__,
            1,
            "failed\nhere",
            (),
            sys.exc_info(),
        )
    RequestIdFilter().filter(record)
    formatted = LogFormatter().format(record)
    assert "failed\\nhere" in formatted
    assert "\nTraceback (most recent call last):\n" in formatted
