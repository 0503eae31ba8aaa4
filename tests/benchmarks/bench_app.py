"""The WSGI application the page benchmark serves: the portal plus a logged-in no-op.

    gunicorn -c gunicorn.conf.py --pythonpath tests/benchmarks 'bench_app:create_bench_app()'

The portal as `wsgi.py` builds it (settings from LKABONENT_* variables), and two routes that
exist only here, never in the shipped code:

- /__bench__/noop does what every page of the cabinet does before it renders anything (the
  session is read, Flask-Login's user loader checks the user and its live session record, the
  linked accounts of the selector are loaded) and then answers a few bytes of text. The
  benchmark reports every page as a ratio to it, as the issue asks: what a page costs beyond
  being a logged-in page of the cabinet.
- /__bench__/frame does the same and then renders the cabinet's frame around an empty page
  (cabinet/layout.html: the header, the menu and the footer, with no account selector): what
  every page costs before it shows anything of its own. Not a reference of the issue; the
  benchmark prints the pages' ratios to it beside, for the decision its SQLite target waits for.

Importing this module builds nothing.
"""

from flask import Flask, Response, render_template
from flask_login import current_user

from lkabonent import create_app
from lkabonent.cabinet.services import account_choice
from lkabonent.extensions import login_manager

NOOP_PATH = "/__bench__/noop"
FRAME_PATH = "/__bench__/frame"
# The frame around an empty page; compiled once, as a template file would be.
FRAME_SOURCE = (
    '{% extends "cabinet/layout.html" %}{% block title %}Проверка{% endblock %}'
    "{% block content %}{% endblock %}"
)


def bench_noop():
    """The cabinet's common work without rendering: login required, accounts loaded."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    choice = account_choice(current_user)
    selected = choice.selected.number if choice.selected else "-"
    return Response(f"{len(choice.accounts)} {selected}\n", mimetype="text/plain")


def create_bench_app() -> Flask:
    """The portal with the no-op and frame routes added."""
    app = create_app()
    app.add_url_rule(NOOP_PATH, "bench_noop", bench_noop, methods=["GET"])
    frame = app.jinja_env.from_string(FRAME_SOURCE)

    def bench_frame():
        """The no-op's work, then the cabinet's frame around nothing."""
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return render_template(frame, choice=account_choice(current_user))

    app.add_url_rule(FRAME_PATH, "bench_frame", bench_frame, methods=["GET"])
    return app
