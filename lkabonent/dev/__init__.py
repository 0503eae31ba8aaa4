"""Development helpers, registered only in debug mode."""

from flask import Blueprint

bp = Blueprint("dev", __name__, url_prefix="/dev")

from . import views  # noqa: E402, F401  (routes register on import)
