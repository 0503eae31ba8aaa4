"""The cabinet: its main page, the billing accounts linked to it and their charges, debt and
payments; Приборы учета is a blueprint of its own inside this one."""

from flask import Blueprint

bp = Blueprint("cabinet", __name__, url_prefix="/cabinet")

from .. import meters  # noqa: E402  (its views use the cabinet's)
from . import views  # noqa: E402, F401  (routes register on import)

bp.register_blueprint(meters.bp)
