"""The `flask` commands: demo data, and the migrations that build and match the schema."""

import pytest
from sqlalchemy import Column, Integer, Table, func, inspect, select

from conftest import empty_tables, settings
from lkabonent import create_app
from lkabonent.cabinet.services import NUMBER_PATTERN
from lkabonent.demo import DEMO_EMAIL, LANDLORD_EMAIL
from lkabonent.extensions import db
from lkabonent.models import Account, AccountContact

SEEDED = "Добавлено демонстрационных лицевых счетов"
NOT_SEEDED = "В базе уже есть лицевые счета; демонстрационные данные не добавлены."
TABLES = {
    "users",
    "emailed_passwords",
    "consents",
    "user_sessions",
    "accounts",
    "account_contacts",
    "account_links",
    "link_failures",
    "login_failures",
    "outgoing_mail",
    "services",
    "charges",
    "payments",
    "meters",
    "readings",
    "reading_exports",
    "billing_imports",
    "alembic_version",
}


def run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def snapshot(app):
    """Every account and contact, in a comparable form."""
    with app.app_context():
        accounts = db.session.execute(
            select(Account.number, Account.owner_surname, Account.status, Account.address).order_by(
                Account.number
            )
        ).all()
        contacts = db.session.execute(
            select(Account.number, AccountContact.email)
            .join(AccountContact, AccountContact.account_id == Account.id)
            .order_by(Account.number, AccountContact.email)
        ).all()
        return [tuple(row) for row in accounts], [tuple(row) for row in contacts]


# --- flask demo seed ------------------------------------------------------------------------------


def test_demo_seed_fills_an_empty_database(app):
    result = run(app, "demo", "seed")
    assert result.exit_code == 0
    accounts, contacts = snapshot(app)
    assert f"{SEEDED}: {len(accounts)}." in result.output
    assert len(accounts) >= 34
    by_number = {
        number: (surname, status, address) for number, surname, status, address in accounts
    }
    assert by_number["1080000001"][:2] == ("Иванов", Account.ACTIVE)
    assert by_number["1080000002"][:2] == ("Петрова", Account.ACTIVE)
    assert by_number["1080000003"][:2] == ("Семёнов", Account.ACTIVE)
    assert by_number["1080000004"][:2] == ("Кузнецов", Account.CLOSED)
    assert sorted(number for number, email in contacts if email == DEMO_EMAIL) == [
        "1080000001",
        "1080000002",
    ]
    # A contact of more than a page of accounts, to show the paged table.
    landlord = [number for number, email in contacts if email == LANDLORD_EMAIL]
    assert len(landlord) > app.config["ACCOUNTS_PER_PAGE"]
    assert "1080000001" not in landlord
    # Every number is one the «Привязать» form accepts, and every account has an address.
    assert all(NUMBER_PATTERN.fullmatch(number) for number in by_number)
    assert all(address.startswith(("г. ", "пгт ")) for _, _, address in by_number.values())
    assert {status for _, status, _ in by_number.values()} == {Account.ACTIVE, Account.CLOSED}


def test_demo_seed_twice_adds_nothing_and_says_so(app):
    run(app, "demo", "seed")
    before = snapshot(app)
    result = run(app, "demo", "seed")
    assert result.exit_code == 0
    assert NOT_SEEDED in result.output
    assert snapshot(app) == before


def test_demo_seed_leaves_a_database_with_accounts_alone(app):
    with app.app_context():
        db.session.add(
            Account(number="7770000001", owner_surname="Орлов", address="г. Саки", status="active")
        )
        db.session.commit()
    result = run(app, "demo", "seed")
    assert NOT_SEEDED in result.output
    accounts, contacts = snapshot(app)
    assert [row[0] for row in accounts] == ["7770000001"] and contacts == []


def test_demo_seed_is_deterministic(app):
    run(app, "demo", "seed")
    first = snapshot(app)
    with app.app_context():
        empty_tables()
    assert snapshot(app) == ([], [])
    run(app, "demo", "seed")
    assert snapshot(app) == first


# --- migrations -----------------------------------------------------------------------------------


@pytest.fixture
def fresh_sqlite_app(tmp_path, smtp_server):
    """An application on an empty SQLite file of its own."""
    path = tmp_path / "fresh.sqlite"
    app = create_app(settings("sqlite:///" + str(path), smtp_server.port))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_db_upgrade_builds_the_schema_on_an_empty_sqlite_file(fresh_sqlite_app):
    with fresh_sqlite_app.app_context():
        assert inspect(db.engine).get_table_names() == []
    result = run(fresh_sqlite_app, "db", "upgrade")
    assert result.exit_code == 0, result.output
    with fresh_sqlite_app.app_context():
        inspector = inspect(db.engine)
        assert set(inspector.get_table_names()) == TABLES
        columns = {column["name"] for column in inspector.get_columns("account_links")}
        assert {"user_id", "account_id", "source", "unlinked_at"} <= columns
        # The schema works: the demo data goes in.
    assert SEEDED in run(fresh_sqlite_app, "demo", "seed").output
    with fresh_sqlite_app.app_context():
        assert db.session.scalar(select(func.count(Account.id))) >= 34


def test_migrations_match_the_models_on_a_fresh_sqlite_file(fresh_sqlite_app):
    run(fresh_sqlite_app, "db", "upgrade")
    result = run(fresh_sqlite_app, "db", "check")
    assert result.exit_code == 0, result.output


def test_migrations_match_the_models_on_the_test_database(app):
    """On PostgreSQL when LKABONENT_TEST_DATABASE_URL is set: types are compared there too."""
    result = run(app, "db", "check")
    assert result.exit_code == 0, result.output


def test_db_check_fails_for_a_model_without_a_migration(app):
    """The check above is no formality: a table the migrations lack makes it fail."""
    table = Table("unmigrated_things", db.metadata, Column("id", Integer, primary_key=True))
    try:
        result = run(app, "db", "check")
    finally:
        db.metadata.remove(table)
    assert result.exit_code != 0
    assert "unmigrated_things" in result.output
