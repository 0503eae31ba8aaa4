"""Billing accounts in a cabinet: linking by contact or by owner, unlinking, listing."""

import enum
import math
import re
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import Integer, Row, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..extensions import db, read
from ..models import Account, AccountContact, AccountLink, LinkFailure, User

NUMBER_PATTERN = re.compile(r"[0-9A-Z]{10}")


class LinkOutcome(enum.Enum):
    """What «Привязать» came to."""

    LINKED = "linked"
    ALREADY_LINKED = "already_linked"
    REFUSED = "refused"  # wrong number, wrong surname or closed account: one answer for all
    TOO_MANY = "too_many"  # the user's failures within the hour reached the limit
    NUMBER_LOCKED = "number_locked"  # the failures on this number within the day did


@dataclass(frozen=True)
class AccountChoice:
    """The user's linked accounts, ordered by number, and the one the cabinet shows (None
    when nothing is linked). The rows carry id, number, address and status."""

    accounts: list
    selected: Row | None


@dataclass(frozen=True)
class Page:
    """One page of a table: its rows, its number (from 1) and the number of pages."""

    items: list
    number: int
    pages: int


# Cyrillic capitals that look like Latin ones, typed on a Russian keyboard layout.
CYRILLIC_LOOKALIKES = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")


def normalize_account_number(raw: str) -> str:
    """The account number without the spaces and dashes people type into it, in Latin capitals."""
    return re.sub(r"[\s\-‐‑‒–—]", "", raw).upper().translate(CYRILLIC_LOOKALIKES)


def normalize_surname(raw: str) -> str:
    """A surname for comparison: trimmed, case-insensitive, Ё read as Е, hyphens kept."""
    return " ".join(raw.split()).casefold().replace("ё", "е")


def link_by_contact(user: User) -> int:
    """Link the accounts whose contact is the user's login; never re-link an unlinked one."""
    already = select(AccountLink.account_id).where(AccountLink.user_id == user.id)
    account_ids = db.session.scalars(
        select(AccountContact.account_id)
        .where(AccountContact.email == user.email, AccountContact.account_id.not_in(already))
        .distinct()
    ).all()
    linked = 0
    for account_id in account_ids:
        try:
            with db.session.begin_nested():
                db.session.add(
                    AccountLink(
                        user_id=user.id, account_id=account_id, source=AccountLink.BY_CONTACT
                    )
                )
            linked += 1
        except IntegrityError:
            continue  # a concurrent login of the same user linked it first
    return linked


def _recent_failures(column, value, period: timedelta) -> int:
    """How many failed links match ``column == value`` within the last ``period``."""
    return db.session.scalar(
        select(func.count(LinkFailure.id)).where(
            column == value, LinkFailure.created_at > utcnow() - period
        )
    )


def link_account(user: User, number: str, surname: str, client_ip: str | None) -> LinkOutcome:
    """«Привязать»: link the account if the owner's surname matches and the account is active.

    ``number`` is normalised already. Failures are recorded and limited per user and per number.
    """
    config = current_app.config
    # Concurrent attempts of one user wait for each other here, so that they cannot all pass
    # the check below before any of them records its failure. A write that changes nothing
    # takes the lock on both databases: on PostgreSQL it locks the user's row, on SQLite it
    # starts the write transaction (one writer at a time), until the commit or the rollback.
    db.session.execute(update(User).where(User.id == user.id).values(id=User.id))
    if (
        _recent_failures(LinkFailure.user_id, user.id, timedelta(hours=1))
        >= config["LINK_FAILURES_PER_USER_PER_HOUR"]
    ):
        current_app.logger.warning(
            "account link over the limit per user: user=%s number=%s client=%s",
            user.id,
            number,
            client_ip,
        )
        return LinkOutcome.TOO_MANY
    if (
        _recent_failures(LinkFailure.account_number, number, timedelta(days=1))
        >= config["LINK_FAILURES_PER_ACCOUNT_PER_DAY"]
    ):
        current_app.logger.warning(
            "account link over the limit per number: user=%s number=%s client=%s",
            user.id,
            number,
            client_ip,
        )
        return LinkOutcome.NUMBER_LOCKED

    account = db.session.scalar(select(Account).where(Account.number == number))
    link = account and db.session.scalar(
        select(AccountLink).where(
            AccountLink.user_id == user.id, AccountLink.account_id == account.id
        )
    )
    if link and link.unlinked_at is None:
        return LinkOutcome.ALREADY_LINKED
    if (
        account is None
        or account.status != Account.ACTIVE
        or normalize_surname(account.owner_surname) != normalize_surname(surname)
    ):
        db.session.add(LinkFailure(user_id=user.id, account_number=number, client_ip=client_ip))
        current_app.logger.warning(
            "account link refused: user=%s number=%s client=%s", user.id, number, client_ip
        )
        return LinkOutcome.REFUSED

    if link:
        link.unlinked_at = None
        link.source = AccountLink.BY_OWNER
        return LinkOutcome.LINKED
    try:
        with db.session.begin_nested():
            db.session.add(
                AccountLink(user_id=user.id, account_id=account.id, source=AccountLink.BY_OWNER)
            )
    except IntegrityError:
        return LinkOutcome.ALREADY_LINKED  # a double submit: the first request linked it
    return LinkOutcome.LINKED


def linked_account(user: User, number: str) -> Account | None:
    """The user's linked account with this number; None for anyone else's or a missing one."""
    if not NUMBER_PATTERN.fullmatch(number):
        return None  # not a number at all (PostgreSQL would also refuse a NUL in it)
    return db.session.scalar(
        select(Account)
        .join(AccountLink, AccountLink.account_id == Account.id)
        .where(
            Account.number == number,
            AccountLink.user_id == user.id,
            AccountLink.unlinked_at.is_(None),
        )
    )


def unlink_account(user: User, account: Account) -> None:
    """«Отвязать»: hide the account from the cabinet and keep it from being linked back."""
    db.session.execute(
        update(AccountLink)
        .where(AccountLink.user_id == user.id, AccountLink.account_id == account.id)
        .values(unlinked_at=utcnow())
    )


_LINKED = (AccountLink.user_id == bindparam("user_id"), AccountLink.unlinked_at.is_(None))
_LINKED_COUNT = select(func.count(AccountLink.id)).where(*_LINKED)
_LINKED_PAGE = (
    select(Account)
    .join(AccountLink, AccountLink.account_id == Account.id)
    .where(*_LINKED)
    .order_by(Account.number)
    .limit(bindparam("limit", type_=Integer))
    .offset(bindparam("offset", type_=Integer))
)


def linked_accounts(user: User, page: int, per_page: int) -> Page:
    """One page of the user's linked accounts, ordered by number; out-of-range pages clamp."""
    total = read(_LINKED_COUNT, {"user_id": user.id}).scalar_one()
    pages = max(1, math.ceil(total / per_page))
    number = min(max(page, 1), pages)
    params = {"user_id": user.id, "limit": per_page, "offset": (number - 1) * per_page}
    return Page(items=db.session.scalars(_LINKED_PAGE, params).all(), number=number, pages=pages)


# Every page of the cabinet runs it: built once (building a select costs more than running it).
_CHOICE = (
    select(Account.id, Account.number, Account.address, Account.status, AccountLink.selected_at)
    .join(AccountLink, AccountLink.account_id == Account.id)
    .where(AccountLink.user_id == bindparam("user_id"), AccountLink.unlinked_at.is_(None))
    .order_by(Account.number)
)


def account_choice(user: User, requested: str | None = None) -> AccountChoice | None:
    """The accounts of the cabinet's selector and the one shown: the ``requested`` number,
    else the one the user last chose, else the first. None when ``requested`` is not one of
    the user's linked accounts (the caller answers 404, as for a missing one)."""
    rows = read(_CHOICE, {"user_id": user.id}).all()
    if requested is not None:
        chosen = next((row for row in rows if row.number == requested), None)
        return None if chosen is None else AccountChoice(rows, chosen)
    remembered = [row for row in rows if row.selected_at is not None]
    if remembered:
        return AccountChoice(rows, max(remembered, key=lambda row: row.selected_at))
    return AccountChoice(rows, rows[0] if rows else None)


def choose_account(user: User, number: str) -> bool:
    """Remember the account the user chose in the selector; False if it is not theirs. The
    caller commits."""
    linked = (
        select(AccountLink.id)
        .join(Account, Account.id == AccountLink.account_id)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.unlinked_at.is_(None),
            Account.number == number,
        )
        .scalar_subquery()
    )
    return bool(
        db.session.execute(
            update(AccountLink).where(AccountLink.id == linked).values(selected_at=utcnow())
        ).rowcount
    )
