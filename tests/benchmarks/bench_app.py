"""The WSGI application the page benchmark serves: the portal plus a logged-in no-op.

    gunicorn -c gunicorn.conf.py --pythonpath tests/benchmarks 'bench_app:create_bench_app()'

The portal as `wsgi.py` builds it (settings from LKABONENT_* variables), and one route that
exists only here, never in the shipped code: /__bench__/noop does what every page of the cabinet
does before it renders anything (the session is read, Flask-Login's user loader checks the
user and its live session record, the linked accounts of the selector are loaded) and then
answers a few bytes of text. The benchmark reports every page as a ratio to it: what a page
costs beyond being a logged-in page of the cabinet. Importing this module builds nothing.
"""

from flask import Flask, Response
from flask_login import current_user

from lkabonent import create_app
from lkabonent.cabinet.services import account_choice
from lkabonent.extensions import login_manager

NOOP_PATH = "/__bench__/noop"


def bench_noop():
    """The cabinet's common work without rendering: login required, accounts loaded."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    choice = account_choice(current_user)
    selected = choice.selected.number if choice.selected else "-"
    return Response(f"{len(choice.accounts)} {selected}\n", mimetype="text/plain")


def create_bench_app() -> Flask:
    """The portal with the no-op route added."""
    app = create_app()
    app.add_url_rule(NOOP_PATH, "bench_noop", bench_noop, methods=["GET"])
    return app
