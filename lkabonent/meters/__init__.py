"""Приборы учета and «Подать показания»: a blueprint inside the cabinet's (its login rule
applies), at /cabinet/meters."""

from flask import Blueprint

bp = Blueprint("meters", __name__, url_prefix="/meters")

from . import views  # noqa: E402, F401  (routes register on import)
