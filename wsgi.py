"""WSGI entry point: `gunicorn wsgi:app`."""

from lkabonent import create_app

app = create_app()
