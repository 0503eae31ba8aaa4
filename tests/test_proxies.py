"""Behind reverse proxies (TRUSTED_PROXIES): the client's address and scheme come from the
proxies' X-Forwarded-* headers, counted from the last proxy, so that what a client forges before
them changes nothing; without trusted proxies the headers are ignored."""

from flask import jsonify, request
from sqlalchemy import select

from conftest import LOGIN, PASSWORD, make_user
from lkabonent.extensions import db
from lkabonent.models import UserSession

CLIENT = "203.0.113.9"
FORGED = "198.51.100.66"


def who(app):
    """A route that says what the application sees of the request."""
    app.add_url_rule(
        "/__test__/who",
        "who",
        lambda: jsonify(address=request.remote_addr, scheme=request.scheme),
    )
    return app


def seen(app, headers: dict) -> dict:
    return app.test_client().get("/__test__/who", headers=headers).get_json()


def test_without_trusted_proxies_the_forwarded_headers_are_ignored(make_app):
    app = who(make_app())
    headers = {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"}
    assert seen(app, headers) == {"address": "127.0.0.1", "scheme": "http"}


def test_behind_one_proxy_the_client_is_the_one_it_saw(make_app):
    app = who(make_app(TRUSTED_PROXIES=1))
    proxied = {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"}
    assert seen(app, proxied) == {"address": CLIENT, "scheme": "https"}
    # A client that sends its own X-Forwarded-For: nginx appends the address it saw.
    forged = {"X-Forwarded-For": f"{FORGED}, {CLIENT}", "X-Forwarded-Proto": "http, https"}
    assert seen(app, forged) == {"address": CLIENT, "scheme": "https"}


def test_behind_two_proxies_the_second_to_last_entry_is_the_client(make_app):
    app = who(make_app(TRUSTED_PROXIES=2))
    headers = {"X-Forwarded-For": f"{FORGED}, {CLIENT}, 10.0.0.2"}
    assert seen(app, headers)["address"] == CLIENT


def test_the_session_keeps_the_address_the_proxy_saw(make_app, make_client):
    app = make_app(TRUSTED_PROXIES=1)
    make_user(app, LOGIN)
    client = make_client(app, headers={"X-Forwarded-For": f"{FORGED}, {CLIENT}"})
    assert client.login(LOGIN, PASSWORD).status_code == 303
    with app.app_context():
        assert db.session.scalars(select(UserSession.client_ip)).all() == [CLIENT]


def test_forged_addresses_do_not_escape_the_limit_per_client(make_app, make_client, mailbox):
    """Point 12: one client that varies a forged X-Forwarded-For is still one client."""
    app = make_app(TRUSTED_PROXIES=1, PASSWORD_REQUEST_LIMIT_PER_CLIENT="3 per hour")
    for number in range(3):
        forger = make_client(app, headers={"X-Forwarded-For": f"10.9.9.{number}, {CLIENT}"})
        assert forger.request_password(f"user{number}@example.ru").status_code == 200
    forger = make_client(app, headers={"X-Forwarded-For": f"10.9.9.9, {CLIENT}"})
    assert forger.request_password("user3@example.ru").status_code == 429
    other = make_client(app, headers={"X-Forwarded-For": "192.0.2.7"})
    assert other.request_password("user4@example.ru").status_code == 200
    assert len(mailbox) == 4
