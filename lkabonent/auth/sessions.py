"""Server-side session records behind Flask's signed cookie.

The cookie carries a random token; the database keeps its SHA-256 and whether the session has
ended. Logging out or changing the password ends the record, so a copied cookie stops working.
"""

import hashlib
import secrets

from flask import request, session
from flask_login import login_user, logout_user
from sqlalchemy import bindparam, select, update

from ..clock import utcnow
from ..extensions import db, login_manager
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
    db.session.add(
        UserSession(
            token_hash=_digest(token),
            user=user,
            client_ip=request.remote_addr,
            user_agent=(request.user_agent.string or "")[:300],
        )
    )
    session[TOKEN_KEY] = token
    login_user(user)


def current_record_id() -> int | None:
    """The id of this request's live session record, if any."""
    token = session.get(TOKEN_KEY)
    if not token:
        return None
    return db.session.scalar(
        select(UserSession.id).where(
            UserSession.token_hash == _digest(token), UserSession.ended_at.is_(None)
        )
    )


def end_session() -> None:
    """Log out: end the record on the server and forget the cookie's contents."""
    _end_current_record()
    logout_user()
    session.clear()


def end_other_sessions(user: User) -> None:
    """End every live session of the user but this request's own."""
    keep = current_record_id()
    db.session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
            UserSession.id != (keep or 0),
        )
        .values(ended_at=utcnow())
    )


# Every logged-in request runs it: built once, as building a select costs more than running it.
_LIVE_USER = (
    select(User)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        User.is_enabled.is_(True),
        UserSession.token_hash == bindparam("token_hash"),
        UserSession.ended_at.is_(None),
    )
)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the user only while the session record is live."""
    token = session.get(TOKEN_KEY)
    if not token or not user_id.isdigit():
        return None
    return db.session.scalar(_LIVE_USER, {"user_id": int(user_id), "token_hash": _digest(token)})
