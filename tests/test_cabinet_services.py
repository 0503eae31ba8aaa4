"""The cabinet's services without HTTP: normalising input, linking, unlinking and listing."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError

from conftest import NOW, make_accounts, make_user, meeting, run_together
from lkabonent.cabinet.services import (
    LinkOutcome,
    link_account,
    link_by_contact,
    linked_account,
    linked_accounts,
    normalize_account_number,
    normalize_surname,
    unlink_account,
)
from lkabonent.demo import DEMO_EMAIL
from lkabonent.extensions import db
from lkabonent.models import Account, AccountContact, AccountLink, LinkFailure, User


def new_user(app, email_address: str) -> User:
    """A cabinet written by conftest's make_user, as a row of this test's session."""
    return db.session.get(User, make_user(app, email_address))


def active_numbers(user: User) -> set[str]:
    return set(
        db.session.scalars(
            select(Account.number)
            .join(AccountLink, AccountLink.account_id == Account.id)
            .where(AccountLink.user_id == user.id, AccountLink.unlinked_at.is_(None))
        )
    )


def link_rows(user: User | None = None) -> list[AccountLink]:
    query = select(AccountLink)
    if user is not None:
        query = query.where(AccountLink.user_id == user.id)
    return list(db.session.scalars(query))


# --- normalising input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "1080000001",
        " 1080000001 ",
        "108 000 0001",
        "108-000-0001",
        "108\u00a0000\u00a00001",  # non-breaking spaces copied from a PDF receipt
        "108\t0000001\n",
        "108\u20100000\u2011001",  # hyphen, non-breaking hyphen
        "108\u20120000\u2013001",  # figure dash, en dash
        "108\u20140000001",  # em dash
        "1 0 8 - 0 0 0 0 - 0 0 1",
    ],
)
def test_account_number_loses_spaces_and_dashes(raw):
    assert normalize_account_number(raw) == "1080000001"


def test_account_number_letters_become_upper_case():
    assert normalize_account_number("108abcd01a") == "108ABCD01A"
    assert normalize_account_number("xxxx-yy-nnnk") == "XXXXYYNNNK"


@pytest.mark.parametrize(
    ("typed", "latin"),
    [
        ("АВЕКМНОРСТУХ", "ABEKMHOPCTYX"),
        ("авекмнорстух", "ABEKMHOPCTYX"),
        ("1О8ООООOO1", "1O8OOOOOO1"),  # Cyrillic О among Latin O
        ("1о8-оооо-оо1", "1O8OOOOOO1"),
        ("108АВ 00 0С1", "108AB000C1"),
    ],
)
def test_account_number_cyrillic_look_alikes_become_latin(typed, latin):
    """Letters typed on a Russian layout that look like Latin capitals are the Latin ones."""
    assert normalize_account_number(typed) == latin


def test_account_number_other_cyrillic_letters_stay_for_the_form_to_refuse():
    assert normalize_account_number("108ДЖ00001") == "108ДЖ00001"


def test_account_number_keeps_other_characters_for_the_form_to_refuse():
    assert normalize_account_number("108.000.0001") == "108.000.0001"
    assert normalize_account_number("108/0000001") == "108/0000001"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("иванов", "Иванов"),
        ("ИВАНОВ", "Иванов"),
        ("  Иванов  ", "Иванов"),
        ("Семенов", "Семёнов"),
        ("СЕМЁНОВ", "Семенов"),
        ("ёлкин", "Елкин"),
        ("Петрова  Водкина", "Петрова Водкина"),
        ("\tПетрова\u00a0Водкина ", "Петрова Водкина"),
        ("петрова-водкина", "Петрова-Водкина"),
    ],
)
def test_surnames_that_match(typed, stored):
    assert normalize_surname(typed) == normalize_surname(stored)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Петрова Водкина", "Петрова-Водкина"),
        ("ПетроваВодкина", "Петрова-Водкина"),
        ("Петрова", "Петрова-Водкина"),
        ("Иванова", "Иванов"),
        ("Иванов", "Ivanov"),
    ],
)
def test_surnames_that_differ(typed, stored):
    assert normalize_surname(typed) != normalize_surname(stored)


def test_normalized_surname_form():
    assert normalize_surname("  Семёнова - Тян-Шанская ") == "семенова - тян-шанская"


# --- linking by contact ---------------------------------------------------------------------------


def test_link_by_contact_links_the_contact_accounts_once(app, app_context, accounts):
    user = new_user(app, DEMO_EMAIL)
    assert link_by_contact(user) == 2
    db.session.commit()
    assert active_numbers(user) == {"1080000001", "1080000002"}
    assert {link.source for link in link_rows(user)} == {AccountLink.BY_CONTACT}
    # Idempotent: the next login links nothing more and duplicates nothing.
    assert link_by_contact(user) == 0
    db.session.commit()
    assert len(link_rows(user)) == 2


def test_link_by_contact_matches_contacts_written_in_any_case(app, app_context, accounts):
    """The accounting system may write «Demo@LKabonent.TEST»; logins are lower case."""
    account = db.session.scalar(select(Account).where(Account.number == "1080000003"))
    contact = AccountContact(account_id=account.id, email=" Demo@LKabonent.TEST ")
    db.session.add(contact)
    db.session.commit()
    assert contact.email == DEMO_EMAIL
    user = new_user(app, DEMO_EMAIL)
    assert link_by_contact(user) == 3
    db.session.commit()
    assert active_numbers(user) == {"1080000001", "1080000002", "1080000003"}


def test_link_by_contact_ignores_other_addresses(app, app_context, accounts):
    user = new_user(app, "someone@example.ru")
    assert link_by_contact(user) == 0
    assert link_rows() == []


def test_link_by_contact_picks_up_a_contact_added_later(app, app_context, accounts):
    user = new_user(app, DEMO_EMAIL)
    link_by_contact(user)
    db.session.commit()
    db.session.add(AccountContact(account_id=accounts["1080000003"].id, email=DEMO_EMAIL))
    db.session.commit()
    assert link_by_contact(user) == 1
    db.session.commit()
    assert active_numbers(user) == {"1080000001", "1080000002", "1080000003"}


def test_link_by_contact_does_not_relink_an_unlinked_account(app, app_context, accounts):
    user = new_user(app, DEMO_EMAIL)
    link_by_contact(user)
    db.session.commit()
    unlink_account(user, accounts["1080000001"])
    db.session.commit()
    assert link_by_contact(user) == 0
    db.session.commit()
    assert active_numbers(user) == {"1080000002"}
    assert len(link_rows(user)) == 2  # the unlinked row stays, as a memory of the choice


def test_link_by_contact_does_not_touch_other_users(app, app_context, accounts):
    family = new_user(app, "family@example.ru")
    assert link_account(family, "1080000001", "Иванов", None) is LinkOutcome.LINKED
    db.session.commit()
    user = new_user(app, DEMO_EMAIL)
    assert link_by_contact(user) == 2
    db.session.commit()
    assert active_numbers(family) == {"1080000001"}
    assert active_numbers(user) == {"1080000001", "1080000002"}


# --- «Привязать» ----------------------------------------------------------------------------------


def test_link_account_links_by_number_and_surname(app, app_context, accounts):
    user = new_user(app, "owner@example.ru")
    assert link_account(user, "1080000003", "семенов", "192.0.2.1") is LinkOutcome.LINKED
    db.session.commit()
    [link] = link_rows(user)
    assert link.account.number == "1080000003"
    assert link.source == AccountLink.BY_OWNER
    assert link.unlinked_at is None
    assert linked_account(user, "1080000003").id == accounts["1080000003"].id
    assert db.session.scalar(select(func.count(LinkFailure.id))) == 0


def test_link_account_twice_is_already_linked(app, app_context, accounts):
    user = new_user(app, "owner@example.ru")
    assert link_account(user, "1080000001", "Иванов", None) is LinkOutcome.LINKED
    db.session.commit()
    assert link_account(user, "1080000001", "Иванов", None) is LinkOutcome.ALREADY_LINKED
    db.session.commit()
    assert len(link_rows(user)) == 1


def test_an_account_linked_by_contact_is_already_linked(app, app_context, accounts):
    user = new_user(app, DEMO_EMAIL)
    link_by_contact(user)
    db.session.commit()
    assert link_account(user, "1080000002", "Петрова", None) is LinkOutcome.ALREADY_LINKED


@pytest.mark.parametrize(
    ("number", "surname"),
    [
        ("1080000009", "Иванов"),  # no such account
        ("1080000001", "Петров"),  # somebody else's surname
        ("1080000001", "Иванова"),
        ("1080000004", "Кузнецов"),  # closed account, right surname
    ],
)
def test_link_account_refuses_and_records_the_failure(app, app_context, accounts, number, surname):
    user = new_user(app, "guess@example.ru")
    assert link_account(user, number, surname, "192.0.2.7") is LinkOutcome.REFUSED
    db.session.commit()
    assert link_rows() == []
    [failure] = db.session.scalars(select(LinkFailure)).all()
    assert (failure.user_id, failure.account_number, failure.client_ip) == (
        user.id,
        number,
        "192.0.2.7",
    )


def test_too_many_failures_per_user_in_an_hour(app, app_context, accounts, time_machine):
    time_machine.move_to(NOW, tick=False)
    user = new_user(app, "guess@example.ru")
    limit = app.config["LINK_FAILURES_PER_USER_PER_HOUR"]
    for attempt in range(limit):
        outcome = link_account(user, f"10800001{attempt:02d}", "Иванов", None)
        assert outcome is LinkOutcome.REFUSED
        db.session.commit()
    # Now even the right number and surname are not checked.
    assert link_account(user, "1080000001", "Иванов", None) is LinkOutcome.TOO_MANY
    db.session.commit()
    assert link_rows() == []
    assert db.session.scalar(select(func.count(LinkFailure.id))) == limit
    # Another user is not affected by this user's failures.
    other = new_user(app, "other@example.ru")
    assert link_account(other, "1080000002", "Петрова", None) is LinkOutcome.LINKED
    db.session.commit()
    # An hour later the user may try again.
    time_machine.move_to(NOW + timedelta(minutes=59), tick=False)
    assert link_account(user, "1080000001", "Иванов", None) is LinkOutcome.TOO_MANY
    time_machine.move_to(NOW + timedelta(hours=1, seconds=1), tick=False)
    assert link_account(user, "1080000001", "Иванов", None) is LinkOutcome.LINKED


def test_too_many_failures_per_account_number_in_a_day(app, app_context, accounts, time_machine):
    time_machine.move_to(NOW, tick=False)
    limit = app.config["LINK_FAILURES_PER_ACCOUNT_PER_DAY"]
    guessers = [new_user(app, f"guess{index}@example.ru") for index in range(limit)]
    for index, user in enumerate(guessers):  # one try each: no user reaches its own limit
        assert link_account(user, "1080000001", f"Неиванов{index}", None) is LinkOutcome.REFUSED
        db.session.commit()
    owner = new_user(app, "owner@example.ru")
    assert link_account(owner, "1080000001", "Иванов", None) is LinkOutcome.NUMBER_LOCKED
    db.session.commit()
    # Other numbers are not blocked for the same user.
    assert link_account(owner, "1080000002", "Петрова", None) is LinkOutcome.LINKED
    db.session.commit()
    time_machine.move_to(NOW + timedelta(hours=23, minutes=59), tick=False)
    assert link_account(owner, "1080000001", "Иванов", None) is LinkOutcome.NUMBER_LOCKED
    time_machine.move_to(NOW + timedelta(days=1, seconds=1), tick=False)
    assert link_account(owner, "1080000001", "Иванов", None) is LinkOutcome.LINKED


def test_the_per_user_limit_is_told_before_the_per_number_one(app, app_context, accounts):
    """A user over both limits is told to wait the hour of the per-user limit."""
    for index in range(app.config["LINK_FAILURES_PER_ACCOUNT_PER_DAY"]):
        other = new_user(app, f"guess{index}@example.ru")
        assert link_account(other, "1080000001", "Нет", None) is LinkOutcome.REFUSED
        db.session.commit()
    user = new_user(app, "guess@example.ru")
    for index in range(app.config["LINK_FAILURES_PER_USER_PER_HOUR"]):
        assert link_account(user, f"10800001{index:02d}", "Нет", None) is LinkOutcome.REFUSED
        db.session.commit()
    assert link_account(user, "1080000001", "Иванов", None) is LinkOutcome.TOO_MANY


def test_successful_links_do_not_count_against_the_limit(app, app_context, time_machine):
    time_machine.move_to(NOW, tick=False)
    limit = app.config["LINK_FAILURES_PER_USER_PER_HOUR"]
    rows = make_accounts(app, limit + 2)
    user = new_user(app, "many@example.ru")
    for row in rows:
        assert link_account(user, row.number, "Орлов", None) is LinkOutcome.LINKED
        db.session.commit()
    assert len(active_numbers(user)) == limit + 2


def test_owner_can_link_back_an_unlinked_account(app, app_context, accounts):
    user = new_user(app, DEMO_EMAIL)
    link_by_contact(user)
    db.session.commit()
    unlink_account(user, accounts["1080000001"])
    db.session.commit()
    assert linked_account(user, "1080000001") is None
    assert link_account(user, "1080000001", "Иванов", None) is LinkOutcome.LINKED
    db.session.commit()
    rows = {link.account.number: link for link in link_rows(user)}
    assert len(rows) == 2  # the old row came back, no second one
    assert rows["1080000001"].unlinked_at is None
    assert rows["1080000001"].source == AccountLink.BY_OWNER
    assert active_numbers(user) == {"1080000001", "1080000002"}


def test_unlinked_account_still_needs_the_right_surname(app, app_context, accounts):
    user = new_user(app, DEMO_EMAIL)
    link_by_contact(user)
    db.session.commit()
    unlink_account(user, accounts["1080000001"])
    db.session.commit()
    assert link_account(user, "1080000001", "Петрова", None) is LinkOutcome.REFUSED
    db.session.commit()
    assert active_numbers(user) == {"1080000002"}


def test_family_members_link_the_same_account(app, app_context, accounts):
    husband = new_user(app, "husband@example.ru")
    wife = new_user(app, "wife@example.ru")
    assert link_account(husband, "1080000002", "Петрова", None) is LinkOutcome.LINKED
    db.session.commit()
    assert link_account(wife, "1080000002", "петрова", None) is LinkOutcome.LINKED
    db.session.commit()
    assert len(link_rows()) == 2
    # Unlinking in one cabinet leaves the other alone.
    unlink_account(husband, accounts["1080000002"])
    db.session.commit()
    assert active_numbers(husband) == set()
    assert active_numbers(wife) == {"1080000002"}


def test_linked_account_is_only_the_users_own(app, app_context, accounts):
    user = new_user(app, "owner@example.ru")
    stranger = new_user(app, "stranger@example.ru")
    link_account(user, "1080000001", "Иванов", None)
    db.session.commit()
    assert linked_account(user, "1080000001").id == accounts["1080000001"].id
    assert linked_account(stranger, "1080000001") is None
    assert linked_account(user, "1080000002") is None
    assert linked_account(user, "1080000099") is None


# --- the list -------------------------------------------------------------------------------------


def test_linked_accounts_pages_of_ten_ordered_by_number(app, app_context):
    rows = make_accounts(app, 23)
    user = new_user(app, "landlord@example.ru")
    for row in reversed(rows):  # linked in the opposite order
        link_account(user, row.number, "Орлов", None)
    db.session.commit()
    numbers = sorted(row.number for row in rows)

    first = linked_accounts(user, 1, 10)
    assert (first.number, first.pages) == (1, 3)
    assert [row.number for row in first.items] == numbers[:10]
    second = linked_accounts(user, 2, 10)
    assert [row.number for row in second.items] == numbers[10:20]
    last = linked_accounts(user, 3, 10)
    assert (last.number, [row.number for row in last.items]) == (3, numbers[20:])


@pytest.mark.parametrize(("asked", "shown"), [(0, 1), (-5, 1), (4, 3), (999, 3)])
def test_linked_accounts_clamps_out_of_range_pages(app, app_context, asked, shown):
    rows = make_accounts(app, 21)
    user = new_user(app, "landlord@example.ru")
    for row in rows:
        link_account(user, row.number, "Орлов", None)
    db.session.commit()
    page = linked_accounts(user, asked, 10)
    assert (page.number, page.pages) == (shown, 3)
    assert len(page.items) == (10 if shown == 1 else 1)


def test_linked_accounts_exact_multiple_of_the_page_size(app, app_context):
    rows = make_accounts(app, 20)
    user = new_user(app, "landlord@example.ru")
    for row in rows:
        link_account(user, row.number, "Орлов", None)
    db.session.commit()
    assert linked_accounts(user, 5, 10).pages == 2
    assert len(linked_accounts(user, 5, 10).items) == 10


def test_linked_accounts_of_nobody_is_one_empty_page(app, app_context, accounts):
    user = new_user(app, "empty@example.ru")
    page = linked_accounts(user, 3, 10)
    assert (page.items, page.number, page.pages) == ([], 1, 1)


def test_linked_accounts_only_active_links_of_this_user(app, app_context):
    rows = make_accounts(app, 12)
    user = new_user(app, "landlord@example.ru")
    neighbour = new_user(app, "neighbour@example.ru")
    for row in rows[:11]:
        link_account(user, row.number, "Орлов", None)
    link_account(neighbour, rows[11].number, "Орлов", None)
    db.session.commit()
    unlink_account(user, rows[0])
    db.session.commit()
    page = linked_accounts(user, 1, 10)
    assert page.pages == 1
    assert [row.number for row in page.items] == [row.number for row in rows[1:11]]
    assert [row.number for row in linked_accounts(neighbour, 1, 10).items] == [rows[11].number]


# --- concurrency ----------------------------------------------------------------------------------


def lock_user_row(user_id: int) -> None:
    """Take the lock «Привязать» takes first, as link_account does: a write that changes nothing
    (PostgreSQL locks the row, SQLite starts the write transaction)."""
    db.session.execute(update(User).where(User.id == user_id).values(id=User.id))


def test_concurrent_link_of_the_same_account_makes_one_link(app, app_context, accounts):
    """Two requests of one user at once make one link: both reach the lock together, the second
    waits there until the first has committed its link, then finds it «already linked»."""
    user_id = make_user(app, "double@example.ru")
    db.session.remove()
    outcomes = []

    def attempt():
        with app.app_context():
            user = db.session.get(User, user_id)
            outcome = link_account(user, "1080000001", "Иванов", "192.0.2.1")
            db.session.commit()
            outcomes.append(outcome)

    # Both threads meet before the lock, so that they reach it together.
    errors = run_together(db.engine, meeting("UPDATE users"), [attempt, attempt])
    assert errors == []
    assert sorted(outcome.value for outcome in outcomes) == ["already_linked", "linked"]
    assert db.session.scalar(select(func.count(AccountLink.id))) == 1
    assert db.session.scalar(select(func.count(LinkFailure.id))) == 0


def test_link_attempts_of_one_user_wait_for_each_other(app, accounts):
    """The failure limit cannot be outrun by parallel attempts: «Привязать» first takes a lock
    for the user (the row on PostgreSQL, the write transaction on SQLite), so a second attempt
    waits until the first has recorded its failure and committed.

    Here the first attempt holds the lock and does not let go: the second waits out its short
    lock wait and fails, on both databases, instead of checking the limit beside the first."""
    user_id = make_user(app, "parallel@example.ru")
    with app.app_context():
        lock_user_row(user_id)  # the first attempt, still inside its transaction
        with app.app_context():  # a second request: another session and connection
            user = db.session.get(User, user_id)
            postgresql = db.engine.dialect.name == "postgresql"
            if postgresql:
                db.session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            else:
                busy_timeout = db.session.scalar(text("PRAGMA busy_timeout"))
                db.session.execute(text("PRAGMA busy_timeout = 200"))
            try:
                with pytest.raises(
                    OperationalError, match="lock timeout" if postgresql else "database is locked"
                ):
                    link_account(user, "1080000002", "Неверная", "192.0.2.1")
            finally:
                db.session.rollback()
                if not postgresql:  # the connection goes back to the pool: restore its wait
                    db.session.execute(text(f"PRAGMA busy_timeout = {busy_timeout}"))
        db.session.rollback()
        assert db.session.scalar(select(func.count(LinkFailure.id))) == 0
