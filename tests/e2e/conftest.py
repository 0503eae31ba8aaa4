"""Browser tests: Debian's Chromium, driven by Playwright, against the portal on loopback.

The application is served once per run by a thread, with production-like cookies, on the test
database of tests/conftest.py. Every test starts with an empty mailbox and fresh rate limits,
and leaves the tables empty.
"""

import os
import threading
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

from conftest import empty_tables, settings
from lkabonent import create_app
from lkabonent.extensions import db, limiter
from lkabonent.models import Account, AccountContact

from .demo import Demo, seed_demo
from .portal import AXE_PATH, AXE_SCRIPT, DESKTOP, Portal

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium (Playwright's own download does not work here)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def closing_responses(app):
    """`app` with every response closed once it is sent or dropped.

    When a browser resets a connection (a context closed while the favicon was still coming),
    Werkzeug's development server raises in the `finally` where it reads what is left of the
    request and never calls the response's `close()`: a static file stays open until the
    garbage collector finds it, and pytest fails whichever test it happens in. A generator's
    `finally` runs when it is finished, closed or collected, so the file is always closed."""

    def wsgi(environ, start_response):
        response = app(environ, start_response)
        try:
            yield from response
        finally:
            if hasattr(response, "close"):
                response.close()

    return wsgi


@pytest.fixture(scope="session")
def live_server(database_url, smtp_server):
    """The portal served by a thread for the whole run: its `app` and its base `url`."""
    app = create_app(settings(database_url, smtp_server.port, SESSION_COOKIE_SECURE=True))
    server = make_server("127.0.0.1", 0, closing_responses(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield SimpleNamespace(app=app, url=f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    thread.join()
    server.server_close()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def base_url(live_server):
    """Relative addresses in `page.goto` and `expect(...).to_have_url` point at the server."""
    return live_server.url


@pytest.fixture(autouse=True)
def fresh_state(live_server, mailbox):
    """Start with no mail and fresh rate limits; empty every table after the test."""
    limiter.reset()
    yield
    with live_server.app.app_context():
        empty_tables()
        db.session.remove()


@pytest.fixture
def screen(request):
    """Options of the browser context for the screen: the desktop unless parametrized."""
    return getattr(request, "param", DESKTOP)


@pytest.fixture
def make_portal(new_context, screen, mailbox, base_url):
    """Open a tab on the portal in a new browser context with these extra context options."""
    # Without the file, the route would fail inside Playwright and each audit wait forever.
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT} is missing: run `make node_modules/.installed`")

    def open_tab(**context_options) -> Portal:
        context = new_context(**screen, **context_options)
        context.route(base_url + AXE_PATH, lambda route: route.fulfill(path=AXE_SCRIPT))
        return Portal(
            context.new_page(),
            mailbox,
            javascript=context_options.get("java_script_enabled", True),
        )

    return open_tab


@pytest.fixture
def portal(make_portal):
    """A tab on the portal with JavaScript on."""
    return make_portal()


@pytest.fixture
def contact_accounts(live_server):
    """Create active accounts whose contact is the given email; return their numbers."""

    def create(count: int, email_address: str) -> list[str]:
        with live_server.app.app_context():
            accounts = [
                Account(
                    number=f"20800{index:05d}",
                    owner_surname="Смирнов",
                    address=f"г. Симферополь, ул. Гагарина, д. {index}",
                )
                for index in range(1, count + 1)
            ]
            db.session.add_all(accounts)
            db.session.flush()
            db.session.add_all(
                AccountContact(account_id=account.id, email=email_address) for account in accounts
            )
            db.session.commit()
            return [account.number for account in accounts]

    return create


@pytest.fixture
def demo(live_server) -> Demo:
    """The demo data, seeded for the test (tests/e2e/demo.py)."""
    return seed_demo(live_server.app)
