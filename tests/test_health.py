"""/healthz and a database that does not answer: 200 while it answers, 503 otherwise; every
page then answers 503 in Russian, in the site's layout, with Retry-After, and logs the error."""

import re

import pytest

from conftest import LOGIN, Client, QueryCounter, free_port, logged_in, make_user
from lkabonent.extensions import db


def test_healthz_answers_ok_as_plain_text_without_a_session(app, client):
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as counter:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"
    assert response.mimetype == "text/plain"
    assert "Set-Cookie" not in response.headers
    assert [" ".join(statement.split()) for statement in counter.statements] == ["SELECT 1"]


@pytest.fixture
def down(make_app):
    """An application whose database does not answer: nothing listens on its port. (The first
    application the fixture makes is the one it empties the test database with.)"""
    make_app()
    return make_app(DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")


def test_healthz_answers_503_while_the_database_does_not(down):
    response = Client(down).get("/healthz")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "database unavailable"


@pytest.mark.parametrize("htmx", [False, True])
def test_a_page_that_needs_the_database_answers_503_in_russian(down, htmx, caplog):
    response = Client(down).post("/login", {"email": LOGIN, "password": "что-то"}, htmx=htmx)
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert "Сервис временно недоступен" in body
    assert "Повторите через несколько минут" in body
    assert ("<html" in body) is not htmx
    assert "Traceback" not in body and "psycopg" not in body
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert any("database unavailable" in record.getMessage() for record in caplog.records)


def test_a_logged_in_subscriber_gets_the_503_page_too(app, down):
    make_user(app, LOGIN)
    client = logged_in(Client(app))
    cookie = client.http.get_cookie(app.config["SESSION_COOKIE_NAME"])
    stranded = Client(down)
    stranded.http.set_cookie(cookie.key, cookie.value)
    response = stranded.get("/cabinet/")
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Сервис временно недоступен" in body
    # Shown to nobody in particular: the user could not be loaded.
    assert LOGIN not in body and not re.search(r">\s*Выйти\s*<", body)
    health = stranded.get("/healthz")
    assert health.status_code == 503
    assert health.get_data(as_text=True) == "database unavailable"
