"""Start page, login, registration and recovery by emailed password, password change."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import sessions, views  # noqa: E402, F401  (routes and the user loader register on import)
