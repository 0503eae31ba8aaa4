"""The cabinet: its main page and the billing accounts linked to it."""

from flask import Blueprint

bp = Blueprint("cabinet", __name__, url_prefix="/cabinet")

from . import views  # noqa: E402, F401  (routes register on import)
