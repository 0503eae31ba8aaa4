"""WSGI entry point: `gunicorn wsgi:app`. The settings come from LKABONENT_* variables (README.md);
behind nginx, LKABONENT_TRUSTED_PROXIES=1 makes create_app() take the client's address from it
(werkzeug's ProxyFix)."""

from lkabonent import create_app

app = create_app()
