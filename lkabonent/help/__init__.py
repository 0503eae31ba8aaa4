"""Help texts («Подробнее о …») and the personal data policy."""

from flask import Blueprint

bp = Blueprint("help", __name__, url_prefix="/help")

from . import views  # noqa: E402, F401  (routes register on import)
