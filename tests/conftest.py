"""Fixtures: the application on a migrated database (SQLite, or PostgreSQL when
LKABONENT_TEST_DATABASE_URL is set), a real SMTP server on loopback, and helpers that post forms
the way a browser and htmx do."""

import email
import email.policy
import os
import re
import socket
import threading
from datetime import UTC, datetime

import flask_migrate
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import event, func, select, text

from lkabonent import create_app
from lkabonent.demo import DEMO_EMAIL, KNOWN_ACCOUNTS
from lkabonent.extensions import db
from lkabonent.models import Account, AccountContact, OutgoingMail, User
from lkabonent.passwords import hash_password

# A fixed moment that tests move the clock to (time-machine) and from.
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get("LKABONENT_TEST_DATABASE_URL", "")
EMAILED_PASSWORD = re.compile(r"^([A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4})\r?$", re.MULTILINE)
CSRF_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
LOGIN = "abonent@example.ru"
PASSWORD = "Долгий путь домой 42"  # the password of every cabinet make_user writes by default


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + POSTGRES_URL if POSTGRES_URL else 'SQLite'}"


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a failure: a browser test that did not run proves nothing."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("CI") and reporter and reporter.stats.get("skipped"):
        reporter.write_line("CI: skipped tests count as failures.", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- mail -------------------------------------------------------------------------------------


class MailSink:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.sink = sink
    yield controller
    controller.stop()


@pytest.fixture
def mailbox(smtp_server):
    """The messages the SMTP server received during this test."""
    smtp_server.sink.messages.clear()
    return smtp_server.sink.messages


# What step two says when the password's mail could not be sent at once.
MAIL_FAILED = "Письмо не удалось отправить сразу"


def outbox(app) -> list[OutgoingMail]:
    """Every mail of the outbox, oldest first, detached."""
    with app.app_context():
        rows = db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()
        db.session.expunge_all()
        return list(rows)


def text_of(message) -> str:
    """The plain-text part of a received message."""
    return message.get_body(preferencelist=("plain",)).get_content()


def emailed_password(message) -> str:
    """The password standing on a line of its own in a mail."""
    found = EMAILED_PASSWORD.search(text_of(message))
    assert found, text_of(message)
    return found.group(1)


# --- database and application ------------------------------------------------------------------


def settings(database_url: str, smtp_port: int, **overrides) -> dict:
    """Test settings: production-like except a fast hasher and a local SMTP server."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test secret key",
        "DATABASE_URL": database_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8,
        "ARGON2_PARALLELISM": 1,
        "SESSION_COOKIE_SECURE": False,  # the test client speaks plain HTTP
        "RATELIMIT_STORAGE_URI": "memory://",
        **overrides,
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, smtp_server):
    """A database migrated once per run with `flask db upgrade`."""
    url = POSTGRES_URL or "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")
    app = create_app(settings(url, smtp_server.port))
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        flask_migrate.upgrade()
        db.engine.dispose()
    return url


def empty_tables() -> None:
    """Delete every row the test wrote, keeping the schema."""
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def make_app(database_url, smtp_server):
    """Build applications on the test database; tables are emptied after the test."""
    apps = []

    def build(**overrides):
        app = create_app(settings(database_url, smtp_server.port, **overrides))
        apps.append(app)
        return app

    yield build
    with apps[0].app_context():
        db.session.remove()
        empty_tables()
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def app_context(app):
    """An application context held for the whole test: only for tests that make no requests,
    which would reuse it and its ``g``."""
    with app.app_context():
        yield app


# --- requests ----------------------------------------------------------------------------------


class Client:
    """Flask's test client with the CSRF token and htmx headers a browser would send."""

    def __init__(self, app, headers=None):
        """``headers`` go with every request, e.g. the Host header a browser sends."""
        self.app = app
        self.http = app.test_client()
        self.headers = dict(headers or {})

    def csrf_token(self) -> str:
        page = self.http.get("/help/privacy", headers=self.headers).get_data(as_text=True)
        return CSRF_TOKEN.search(page).group(1)

    def get(self, url, htmx=False, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if htmx:
            headers["HX-Request"] = "true"
        return self.http.get(url, headers=headers, **kwargs)

    def post(self, url, data=None, htmx=False, csrf=True, **kwargs):
        """POST a form: htmx sends the CSRF token in the header its page configures
        (hx-headers), a browser without JavaScript as the form's hidden csrf_token field."""
        headers = {**self.headers, **kwargs.pop("headers", {})}
        data = dict(data or {})
        if csrf:
            if htmx:
                headers["X-CSRFToken"] = self.csrf_token()
            else:
                data["csrf_token"] = self.csrf_token()
        if htmx:
            headers["HX-Request"] = "true"
        return self.http.post(url, data=data, headers=headers, **kwargs)

    # The subscriber's steps.

    def request_password(self, email_address, flow="register", **kwargs):
        url = "/register" if flow == "register" else "/password/forgot"
        return self.post(url, {"email": email_address}, **kwargs)

    def register(self, email_address, mailbox, **kwargs):
        """Both steps of registration, reading the password from the mail."""
        response = self.request_password(email_address)
        assert response.status_code == 200, response.get_data(as_text=True)
        password = emailed_password(mailbox[-1])
        response = self.post(
            "/register/confirm",
            {"email": email_address, "password": password, "consent": "y"},
            **kwargs,
        )
        assert response.status_code in (200, 303), response.get_data(as_text=True)
        return password

    def login(self, email_address, password, **kwargs):
        return self.post("/login", {"email": email_address, "password": password}, **kwargs)


def logged_in(client: Client, email_address: str = LOGIN, password: str = PASSWORD) -> Client:
    """``client``, logged in to an existing cabinet."""
    response = client.login(email_address, password)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def masked(response, email_address) -> str:
    """The page with the address and the CSRF tokens (different in every session) blanked."""
    body = response.get_data(as_text=True).replace(email_address, "EMAIL")
    return re.sub(r'"[\w-]{20,}\.[\w-]+\.[\w-]+"', '"TOKEN"', body)


@pytest.fixture
def client(app):
    return Client(app)


@pytest.fixture
def make_client():
    return Client


# --- data --------------------------------------------------------------------------------------
#
# Rows are written in an application context of their own, closed before the test goes on: while
# a context of the application stays pushed, Flask reuses it for every test request, so all
# clients would share one ``g`` (Flask-Login's cached user, Flask-WTF's CSRF token). Rows handed
# back are detached from their session, with their columns loaded.


def make_user(app, email_address: str, password: str = PASSWORD, **fields) -> int:
    """A cabinet written straight to the database; returns its id."""
    with app.app_context():
        user = User(email=email_address, password_hash=hash_password(password), **fields)
        db.session.add(user)
        db.session.commit()
        return user.id


def make_accounts(
    app, count: int, start: int = 2000000001, surname: str = "Орлов"
) -> list[Account]:
    """``count`` active accounts with consecutive numbers, committed; the rows, detached."""
    rows = [
        Account(
            number=str(start + index),
            owner_surname=surname,
            status=Account.ACTIVE,
            address=f"г. Ялта, ул. Морская, д. {index + 1}",
        )
        for index in range(count)
    ]
    with app.app_context():
        db.session.add_all(rows)
        db.session.commit()
        for row in rows:
            db.session.refresh(row)
    return rows


def count(app, model) -> int:
    """How many rows of ``model`` the database holds."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def accounts(app):
    """The four accounts of the demo data, by number, detached; 1080000001 and 1080000002 have
    the contact demo@lkabonent.test."""
    rows = [
        Account(number=number, owner_surname=surname, status=status, address=address)
        for number, surname, status, address in KNOWN_ACCOUNTS
    ]
    with app.app_context():
        db.session.add_all(rows)
        db.session.flush()
        db.session.add_all(AccountContact(account_id=row.id, email=DEMO_EMAIL) for row in rows[:2])
        db.session.commit()
        for row in rows:
            db.session.refresh(row)
    return {row.number: row for row in rows}


def run_together(engine, hook, targets) -> list[Exception]:
    """Run the callables ``targets`` in threads at once, with ``hook`` listening to the engine's
    statements (before_cursor_execute) meanwhile, e.g. to hold them at a barrier; the errors
    they raised. Fails if one is still running after a minute."""
    errors = []

    def run(target):
        try:
            target()
        except Exception as error:  # reported to the test; a thread must not swallow it
            errors.append(error)

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    event.listen(engine, "before_cursor_execute", hook)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        event.remove(engine, "before_cursor_execute", hook)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def meeting(statement_start: str, parties: int = 2):
    """A hook for run_together: each thread, the first time it runs a statement that starts
    with ``statement_start``, waits there until ``parties`` threads have come, and all go on at
    once. Put the meeting where no thread holds a lock yet, or one may keep another from it."""
    together = threading.Barrier(parties, timeout=15)
    arrived = set()

    def meet(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith(statement_start) and threading.get_ident() not in arrived:
            arrived.add(threading.get_ident())
            together.wait()

    return meet


class QueryCounter:
    """Counts the SQL statements an engine executes inside ``with``; ``statements`` holds them.

    with QueryCounter(engine) as counter:
        ...
    assert counter.count == 2
    """

    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def _count(self, connection, cursor, statement, *args):
        self.statements.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)
