"""Registration and recovery by emailed password, login and password changes.

The functions work on the current database session and leave the commit to the caller, so that
what a request changes (and the mail it queues) is written at once or not at all.
"""

import math
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..cabinet.services import link_by_contact
from ..clock import utcnow
from ..extensions import db
from ..mail import normalize_email, queue_mail
from ..models import Consent, EmailedPassword, LoginFailure, OutgoingMail, User
from ..passwords import (
    dummy_hash,
    generate_emailed_password,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from .sessions import end_other_sessions


class AlreadyRegistered(Exception):
    """The address got a cabinet between asking for the password and using it."""


class LoginPaused(Exception):
    """Too many failed logins with this login lately: «Войти» waits ``seconds`` more."""

    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


class JustUsed(Exception):
    """The right emailed password, used up a moment ago by another request: the form was sent
    twice at once (a double click, two tabs)."""


def login_key(raw: str) -> str:
    """The login as it would be stored; input that is no address still gets a stable key."""
    try:
        return normalize_email(raw)
    except ValueError:
        return raw.strip().lower()


def find_user(email: str) -> User | None:
    """The cabinet registered with this (normalised) login."""
    if "\x00" in email:  # no login has one, and PostgreSQL refuses NUL in a query (a 500)
        return None
    return db.session.scalar(select(User).where(User.email == email))


def _cancel_emailed_passwords(email: str) -> None:
    """Cancel every emailed password of the address that is still usable."""
    db.session.execute(
        update(EmailedPassword)
        .where(
            EmailedPassword.email == email,
            EmailedPassword.used_at.is_(None),
            EmailedPassword.cancelled_at.is_(None),
        )
        .values(cancelled_at=utcnow())
    )


def request_emailed_password(email: str, purpose: str, client_ip: str | None) -> OutgoingMail:
    """«Получить пароль»: queue exactly one mail to the address, whether it has a cabinet or not.

    A new password goes out when it can be used for the purpose (registering a new address,
    recovering an existing cabinet); otherwise the mail says what the address can do instead.
    The password is generated and hashed either way, so both answers cost the same.
    """
    password = generate_emailed_password()
    password_hash = hash_password(password)
    has_cabinet = find_user(email) is not None
    ttl = current_app.config["REGISTRATION_PASSWORD_TTL"]
    if has_cabinet == (purpose == EmailedPassword.RESET):
        _cancel_emailed_passwords(email)
        now = utcnow()
        db.session.add(
            EmailedPassword(
                email=email,
                purpose=purpose,
                password_hash=password_hash,
                created_at=now,
                expires_at=now + timedelta(seconds=ttl),
                client_ip=client_ip,
            )
        )
        subject = (
            "Пароль для регистрации в личном кабинете"
            if purpose == EmailedPassword.REGISTER
            else "Пароль для входа в личный кабинет"
        )
        return queue_mail(
            email,
            subject,
            "emailed_password",
            password=password,
            purpose=purpose,
        )
    if has_cabinet:
        return queue_mail(email, "Личный кабинет с этим адресом уже есть", "already_registered")
    return queue_mail(email, "Личный кабинет с этим адресом не найден", "no_cabinet")


def redeem_emailed_password(email: str, purpose: str, password: str) -> EmailedPassword | None:
    """Use up the address's live emailed password if this is it; a wrong try counts against it.

    Unknown, expired, used, cancelled and burned passwords all give None, like a wrong one.
    The right password that a concurrent request used up in the meantime raises JustUsed.
    """
    now = utcnow()
    limit = current_app.config["REGISTRATION_PASSWORD_MAX_ATTEMPTS"]
    issued = db.session.scalar(
        select(EmailedPassword)
        .where(
            EmailedPassword.email == email,
            EmailedPassword.purpose == purpose,
            EmailedPassword.used_at.is_(None),
            EmailedPassword.cancelled_at.is_(None),
            EmailedPassword.expires_at > now,
            EmailedPassword.failed_attempts < limit,
        )
        .order_by(EmailedPassword.id.desc())
        .limit(1)
    )
    if issued is None:
        verify_password(dummy_hash(), password)
        return None
    if not verify_password(issued.password_hash, password):
        db.session.execute(
            update(EmailedPassword)
            .where(EmailedPassword.id == issued.id)
            .values(failed_attempts=EmailedPassword.failed_attempts + 1)
        )
        return None
    # A conditional update, so that of two concurrent requests only one uses the password.
    used = db.session.execute(
        update(EmailedPassword)
        .where(EmailedPassword.id == issued.id, EmailedPassword.used_at.is_(None))
        .values(used_at=now)
    )
    if used.rowcount != 1:
        raise JustUsed(email)
    return issued


def register(email: str, issued: EmailedPassword, client_ip: str | None) -> User:
    """Create the cabinet with the emailed password as its password; record the consent."""
    user = User(email=email, password_hash=issued.password_hash)
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError as error:
        raise AlreadyRegistered(email) from error
    db.session.add(
        Consent(
            user_id=user.id,
            policy_version=current_app.config["PRIVACY_POLICY_VERSION"],
            client_ip=client_ip,
        )
    )
    link_by_contact(user)
    return user


def recover(issued: EmailedPassword) -> User:
    """The emailed password becomes the cabinet's password; the old one and old sessions end."""
    user = find_user(issued.email)
    user.password_hash = issued.password_hash
    user.password_changed_at = utcnow()
    end_other_sessions(user)
    _forget_login_failures(user.email)
    link_by_contact(user)
    return user


def _login_pause(login: str) -> int:
    """Seconds until «Войти» with this login is allowed again; 0 if it is.

    It is paused while LOGIN_FAILURES_PER_ACCOUNT failures lie within the last
    LOGIN_FAILURE_WINDOW seconds, until the oldest of those leaves it.
    """
    config = current_app.config
    window = timedelta(seconds=config["LOGIN_FAILURE_WINDOW"])
    now = utcnow()
    oldest_counted = db.session.scalar(
        select(LoginFailure.created_at)
        .where(LoginFailure.login == login, LoginFailure.created_at > now - window)
        .order_by(LoginFailure.created_at.desc())
        .offset(config["LOGIN_FAILURES_PER_ACCOUNT"] - 1)
        .limit(1)
    )
    if oldest_counted is None:
        return 0
    return max(1, math.ceil((oldest_counted + window - now).total_seconds()))


def _forget_login_failures(login: str) -> None:
    """A successful login or recovery starts the count of failures anew."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.login == login))


def authenticate(email: str, password: str, client_ip: str | None) -> User | None:
    """The enabled user with this login and password; None for every kind of failure, which is
    counted against the login (known or not) in the database.

    Raises LoginPaused, without looking at the password, after too many recent failures.
    """
    # PostgreSQL refuses NUL in text; no login has one, so without it the count is the same.
    login = email.replace("\x00", "")[: LoginFailure.login.type.length]
    paused = _login_pause(login)
    if paused:
        raise LoginPaused(paused)
    user = find_user(email)
    if user is None:
        verify_password(dummy_hash(), password)
    elif verify_password(user.password_hash, password) and user.is_active:
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        _forget_login_failures(login)
        link_by_contact(user)
        return user
    db.session.add(LoginFailure(login=login, created_at=utcnow(), client_ip=client_ip))
    return None


@dataclass(frozen=True)
class Refusal:
    """Why a form was refused: the field to mark and the reason in Russian."""

    field: str
    message: str


def change_password(user: User, current: str, new: str) -> Refusal | None:
    """«Сменить пароль»: return the refusal, or None once the password is changed.

    The change ends the user's other sessions and emailed passwords and mails a notice.
    """
    if not verify_password(user.password_hash, current):
        return Refusal("current_password", "Текущий пароль указан неверно.")
    problem = password_problem(new, user.email)
    if problem:
        return Refusal("new_password", problem)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    end_other_sessions(user)
    _cancel_emailed_passwords(user.email)
    queue_mail(user.email, "Пароль личного кабинета изменен", "password_changed")
    return None
