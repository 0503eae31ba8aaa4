"""A log line per request, and a request id that ties it to the errors it caused and to the
error page the subscriber sees (and may quote to the subscriber service).

    2026-11-27T10:00:00Z INFO 3f2a9c01d4e5b6a7 lkabonent.requests: GET /cabinet/ 200 user=12 4.1 ms

The line holds the method, the path (never the query string, which may carry an address), the
status, the user's id (never a login, password or cookie) and the time taken. Behind trusted
proxies the id nginx gives ($request_id, sent as X-Request-ID) is kept, so that its access log
and ours share it; otherwise the portal makes one. Every response says it in X-Request-ID.
"""

import logging
import re
import secrets
import time

from flask import Flask, g, has_request_context, request
from flask_login import current_user

logger = logging.getLogger("lkabonent.requests")

# What an id from the proxy may look like (nginx's $request_id: 32 hex digits).
PROXY_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
# Characters that could start a forged line in the log, or hide one.
_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
FORMAT = "%(asctime)s %(levelname)s %(request_id)s %(name)s: %(message)s"


def user_id() -> str | None:
    """The logged-in user's id, None for a visitor. Static files need no user (and loading one
    would cost a query per file): None for them too."""
    if request.endpoint != "static" and current_user.is_authenticated:
        return current_user.get_id()
    return None


def request_id() -> str:
    """This request's id, "-" outside a request."""
    return g.get("request_id", "-") if has_request_context() else "-"


class RequestIdFilter(logging.Filter):
    """Gives every record the id of the request it was logged in."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        return True


class LogFormatter(logging.Formatter):
    """Lines in UTC with the request id. Line breaks and control characters in a message are
    escaped, so that nothing a client sends (a path, an address) can forge a line; a traceback
    keeps its lines."""

    converter = time.gmtime

    def __init__(self):
        super().__init__(FORMAT, datefmt="%Y-%m-%dT%H:%M:%SZ")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = _BREAKS.sub(
            lambda found: found.group().encode("unicode_escape").decode(), record.message
        )
        return super().formatMessage(record)


HANDLER_NAME = "lkabonent"
# The portal's own loggers, and Flask-Limiter's: it says there when its storage (Redis) stops
# answering and the limits fall back to the process's memory, and when it is back, and would
# otherwise drop the lines (it gives its logger a NullHandler).
LOGGERS = ("lkabonent", "flask-limiter")


def configure_logging(app: Flask) -> None:
    """The portal's log to stderr, which systemd's journal keeps, at LOG_LEVEL, in one format,
    instead of Flask's default handler; once per process, however many applications it
    builds."""
    for name in LOGGERS:
        log = logging.getLogger(name)
        log.setLevel(app.config["LOG_LEVEL"])
        if not any(handler.get_name() == HANDLER_NAME for handler in log.handlers):
            handler = logging.StreamHandler()
            handler.set_name(HANDLER_NAME)
            handler.setFormatter(LogFormatter())
            handler.addFilter(RequestIdFilter())
            log.handlers = [handler]


def register_request_log(app: Flask) -> None:
    """Give each request its id first of all, and log it last of all."""
    trusted = bool(app.config["TRUSTED_PROXIES"])

    @app.before_request
    def start():
        g.request_started = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        g.request_id = (
            given if trusted and PROXY_REQUEST_ID.fullmatch(given) else secrets.token_hex(8)
        )

    @app.after_request
    def log(response):
        if "request_id" not in g:  # a response made before start() ran
            g.request_id = secrets.token_hex(8)
        response.headers["X-Request-ID"] = g.request_id
        started = g.get("request_started")
        took = f"{(time.perf_counter() - started) * 1000:.1f} ms" if started else "-"
        logger.info(
            "%s %s %s user=%s %s",
            request.method,
            request.path,
            response.status_code,
            user_id() or "-",
            took,
        )
        return response
