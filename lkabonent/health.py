"""/healthz: a trivial answer for load balancers, monitoring and the page benchmark.

It reads neither the session nor the database, so that it stays the cheapest request the
application serves (the page benchmark's reference). Checking the database is issue 6's.
"""

from flask import Blueprint

from .extensions import limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """«ok», as plain text."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}
