"""What the forms of every blueprint share."""

from functools import lru_cache

from flask import current_app, g, session
from flask_wtf.csrf import generate_csrf
from itsdangerous import URLSafeTimedSerializer

REQUIRED = "Заполните это поле."


def csrf_token() -> str:
    """The signed CSRF token the templates put in forms and htmx headers, as Flask-WTF's
    generate_csrf makes it, but signed once per session in each worker rather than once per
    page.

    The tokens do not expire (WTF_CSRF_TIME_LIMIT is None): a signature made earlier is as
    valid as a new one, and signing costs a quarter of the layout's rendering. With a time
    limit set, every request signs anew, as Flask-WTF does; so does a page with a FlaskForm,
    which its view builds, and which signs the token, before the template renders."""
    config = current_app.config
    field = config["WTF_CSRF_FIELD_NAME"]  # the raw token's key in the session, and in g
    if field in g or config["WTF_CSRF_TIME_LIMIT"] is not None:
        return generate_csrf()
    if field not in session:
        generate_csrf()  # gives the session its raw token; the signature below replaces it
    token = _signed(config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, session[field])
    setattr(g, field, token)  # what the FlaskForm fields of this request put in (generate_csrf)
    return token


def new_csrf_token() -> None:
    """Give a session that starts (the login, after ``session.clear()``) its CSRF token now, so
    that the cookie which starts it holds it: made by the first page instead, it would have
    that page sign and send the whole session cookie again. Forgets any token this request
    signed for the session before."""
    g.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)
    generate_csrf()


@lru_cache(maxsize=4096)
def _signed(secret: str, raw: str) -> str:
    return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)
