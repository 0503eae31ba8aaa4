"""Server-side session records behind Flask's signed cookie.

The cookie carries a random token; the database keeps its SHA-256 and whether the session has
ended. Logging out or changing the password ends the record, so a copied cookie stops working.
A record also expires by itself: SESSION_IDLE_TIMEOUT after its last request, and at the latest
SESSION_ABSOLUTE_TIMEOUT after the login. Requests move the idle limit on at most once a minute,
so that a page view seldom writes.
"""

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

import ua_parser
from flask import current_app, request, session
from flask_login import login_user, logout_user
from sqlalchemy import bindparam, select, update

from ..clock import utcnow
from ..extensions import db, login_manager
from ..forms import new_csrf_token
from ..models import User, UserSession

TOKEN_KEY = "sid"


def _digest(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _end_current_record() -> None:
    """End this browser's session record on the server, if it has a live one."""
    token = session.get(TOKEN_KEY)
    if token:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _digest(token), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def start_session(user: User) -> None:
    """Log the user in on a fresh session: nothing from before the login carries over.

    A session this browser had before (logging in again while logged in) ends too, so that a
    copy of its cookie cannot outlive the next «Выйти».
    """
    _end_current_record()
    session.clear()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        UserSession(
            token_hash=_digest(token),
            user=user,
            created_at=now,
            last_seen_at=now,
            expires_at=_expiry(now, now),
            client_ip=request.remote_addr,
            user_agent=(request.user_agent.string or "")[:300],
        )
    )
    session[TOKEN_KEY] = token
    new_csrf_token()
    login_user(user)


# A request moves the idle limit on only when the last one it recorded is older than this.
TOUCH_INTERVAL = timedelta(minutes=1)


def _expiry(created_at: datetime, seen_at: datetime) -> datetime:
    """When a session seen last at ``seen_at`` expires: the idle limit, capped by the absolute."""
    config = current_app.config
    return min(
        seen_at + timedelta(seconds=config["SESSION_IDLE_TIMEOUT"]),
        created_at + timedelta(seconds=config["SESSION_ABSOLUTE_TIMEOUT"]),
    )


def live_sessions():
    """A select of the session records that are live now: not ended and not expired."""
    return select(UserSession).where(
        UserSession.ended_at.is_(None), UserSession.expires_at > utcnow()
    )


def current_record_id() -> int | None:
    """The id of this request's live session record, if any."""
    token = session.get(TOKEN_KEY)
    if not token:
        return None
    return db.session.scalar(
        live_sessions()
        .where(UserSession.token_hash == _digest(token))
        .with_only_columns(UserSession.id)
    )


def had_session() -> bool:
    """Whether this browser was logged in, though its session is not live any more."""
    return TOKEN_KEY in session


def end_session() -> None:
    """Log out: end the record on the server and forget the cookie's contents."""
    _end_current_record()
    logout_user()
    session.clear()


def end_other_sessions(user: User) -> int:
    """End every live session of the user but this request's own; how many ended."""
    keep = current_record_id()
    return db.session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
            UserSession.id != (keep or 0),
            UserSession.expires_at > utcnow(),
        )
        .values(ended_at=utcnow())
    ).rowcount


def user_sessions(user: User) -> list[tuple[UserSession, bool]]:
    """The user's live sessions, each with whether it is this request's own; that one first,
    then the latest active."""
    own = _digest(session.get(TOKEN_KEY, ""))
    records = db.session.scalars(
        live_sessions()
        .where(UserSession.user_id == user.id)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    return sorted(
        ((record, record.token_hash == own) for record in records),
        key=lambda pair: not pair[1],
    )


@lru_cache(maxsize=256)
def browser_of(user_agent: str | None) -> str:
    """The browser and system a User-Agent names, as «Chrome 131, Windows 10»."""
    parsed = ua_parser.parse(user_agent or "")
    names = [
        " ".join(filter(None, (part.family, part.major)))
        for part in (parsed.user_agent, parsed.os)
        if part is not None and part.family != "Other"
    ]
    return ", ".join(names) or "Неизвестный браузер"


# Every logged-in request runs it: built once, as building a select costs more than running it.
_LIVE_USER = (
    select(User, UserSession.id, UserSession.created_at, UserSession.last_seen_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        User.is_enabled.is_(True),
        UserSession.token_hash == bindparam("token_hash"),
        UserSession.ended_at.is_(None),
        UserSession.expires_at > bindparam("now"),
    )
)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the user only while the session record is live.

    When the request is the first to use the database and the record's last request is more
    than a minute old, this one is recorded and the idle limit moved on, in a transaction of
    its own. A request that has already begun to change things is never committed from here:
    it skips the update, and the next request makes it.
    """
    token = session.get(TOKEN_KEY)
    if not token or not user_id.isdigit():
        return None
    first = not db.session().in_transaction()
    now = utcnow()
    row = db.session.execute(
        _LIVE_USER, {"user_id": int(user_id), "token_hash": _digest(token), "now": now}
    ).first()
    if row is None:
        return None
    user, record_id, created_at, last_seen_at = row
    if first and now - last_seen_at >= TOUCH_INTERVAL:
        db.session.execute(
            update(UserSession)
            .where(UserSession.id == record_id)
            .values(last_seen_at=now, expires_at=_expiry(created_at, now))
        )
        db.session.commit()
    return user
