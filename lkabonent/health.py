"""/healthz: whether the portal can answer, for load balancers, monitoring and the page
benchmark (its trivial reference).

It reads no session: only asks the database for «SELECT 1», so that it stays the cheapest
request that proves the portal works. 200 «ok» while the database answers, 503 otherwise.
"""

from flask import Blueprint
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .errors import as_nobody
from .extensions import limiter, read

bp = Blueprint("health", __name__)

PLAIN_TEXT = {"Content-Type": "text/plain; charset=utf-8"}
_ONE = select(1)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """«ok», as plain text, or 503 «database unavailable» when the database does not answer."""
    try:
        read(_ONE).scalar_one()
    except SQLAlchemyError:
        as_nobody()  # a browser's session cookie must not turn this 503 into a 500
        return "database unavailable", 503, PLAIN_TEXT
    return "ok", 200, PLAIN_TEXT
