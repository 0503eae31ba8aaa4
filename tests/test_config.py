"""create_app(): required settings outside debug, where settings come from, debug defaults, and
the security headers of every response."""

import json
import os
import re

import pytest
from flask import Flask

from conftest import LOGIN, PASSWORD, logged_in, make_user
from lkabonent import create_app


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """A clean instance folder and an environment without LKABONENT_* or FLASK_DEBUG."""
    folder = tmp_path / "instance"
    folder.mkdir()
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(folder))
    for name in list(os.environ):
        if name.startswith("LKABONENT_") or name == "FLASK_DEBUG":
            monkeypatch.delenv(name)
    return folder


def sqlite_url(tmp_path) -> str:
    return "sqlite:///" + str(tmp_path / "config-test.sqlite")


# The settlement centre's own requisites, which production needs instead of config.py's example.
PAYEE = {
    "name": "ООО «Водоканал»",
    "inn": "9102123456",
    "kpp": "910201001",
    "account": "40702810500000012345",
    "bank": "РНКБ БАНК (ПАО)",
    "bic": "043510607",
    "correspondent_account": "30101810335100000607",
    "contacts": "+7 (3652) 11-22-33",
}


# --- required settings ----------------------------------------------------------------------------


def test_production_without_secret_key_refuses_to_start(instance, tmp_path):
    with pytest.raises(RuntimeError, match="LKABONENT_SECRET_KEY"):
        create_app({"MAIL_SERVER": "smtp.example.ru", "DATABASE_URL": sqlite_url(tmp_path)})
    assert not (instance / "dev-secret-key").exists()


def test_production_without_mail_server_refuses_to_start(instance, tmp_path):
    with pytest.raises(RuntimeError, match="LKABONENT_MAIL_SERVER"):
        create_app({"SECRET_KEY": "k" * 32, "DATABASE_URL": sqlite_url(tmp_path)})


def test_production_from_the_environment_without_a_key_refuses(instance, monkeypatch):
    monkeypatch.setenv("LKABONENT_MAIL_SERVER", "smtp.example.ru")
    with pytest.raises(RuntimeError, match="LKABONENT_SECRET_KEY"):
        create_app()


def test_production_with_a_short_secret_key_refuses_to_start(instance, tmp_path):
    with pytest.raises(RuntimeError, match="LKABONENT_SECRET_KEY слишком короткий"):
        create_app(
            {
                "SECRET_KEY": "k" * 31,
                "MAIL_SERVER": "smtp.example.ru",
                "PUBLIC_URL": "https://lk.example.ru",
                "DATABASE_URL": sqlite_url(tmp_path),
            }
        )


def test_production_without_public_url_refuses_to_start(instance, tmp_path):
    with pytest.raises(RuntimeError, match="LKABONENT_PUBLIC_URL"):
        create_app(
            {
                "SECRET_KEY": "k" * 32,
                "MAIL_SERVER": "smtp.example.ru",
                "DATABASE_URL": sqlite_url(tmp_path),
            }
        )


def test_production_with_all_required_settings_starts(instance, tmp_path):
    app = create_app(
        {
            "SECRET_KEY": "k" * 32,
            "MAIL_SERVER": "smtp.example.ru",
            "PUBLIC_URL": "https://lk.example.ru",
            "DATABASE_URL": sqlite_url(tmp_path),
            "PAYEE": PAYEE,
        }
    )
    assert not app.debug and not app.testing
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert "dev" not in app.blueprints


PRODUCTION = {"SECRET_KEY": "k" * 32, "MAIL_SERVER": "smtp.example.ru", "PAYEE": PAYEE}


def production_app(tmp_path, **overrides):
    return create_app(
        {
            **PRODUCTION,
            "PUBLIC_URL": "https://lk.example.ru",
            "DATABASE_URL": sqlite_url(tmp_path),
            **overrides,
        }
    )


def test_production_binds_the_session_cookie_to_https_and_the_host(instance, tmp_path):
    app = production_app(tmp_path)
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-lkabonent_session"
    # The CSRF token of a form is the first thing a session holds.
    cookie = app.test_client().get("/help/privacy").headers["Set-Cookie"]
    assert cookie.startswith("__Host-lkabonent_session=")
    attributes = {part.strip().split("=")[0] for part in cookie.split(";")[1:]}
    assert {"Secure", "HttpOnly", "Path"} <= attributes and "Domain" not in attributes


def test_production_asks_browsers_to_come_over_https_only(instance, tmp_path):
    response = production_app(tmp_path).test_client().get("/help/privacy")
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    off = production_app(tmp_path, HSTS_MAX_AGE=0).test_client().get("/help/privacy")
    assert "Strict-Transport-Security" not in off.headers


def test_the_cookie_keeps_its_name_where_it_cannot_carry_the_prefix(instance, tmp_path):
    """Over plain HTTP (debug, or Secure switched off) and with a domain of its own, browsers
    would refuse a "__Host-" cookie; nor does a test or debug application send HSTS."""
    plain = production_app(tmp_path, SESSION_COOKIE_SECURE=False)
    shared = production_app(tmp_path, SESSION_COOKIE_DOMAIN="example.ru")
    debug = create_app({"DEBUG": True, "DATABASE_URL": sqlite_url(tmp_path)})
    for app in (plain, shared, debug):
        assert app.config["SESSION_COOKIE_NAME"] == "lkabonent_session"
    testing = create_app({"TESTING": True, "DATABASE_URL": sqlite_url(tmp_path)})
    for app in (debug, testing):
        assert "Strict-Transport-Security" not in app.test_client().get("/healthz").headers


def test_production_refuses_the_example_payee(instance, tmp_path):
    settings = {**PRODUCTION, "PUBLIC_URL": "https://lk.example.ru"}
    del settings["PAYEE"]
    with pytest.raises(RuntimeError, match="в квитанции были бы примерные реквизиты"):
        create_app({**settings, "DATABASE_URL": sqlite_url(tmp_path)})


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"inn": "91020"}, "inn — Поле PayeeINN должно содержать 10 или 12 цифр, а не «91020»"),
        ({"inn": "91021234５6"}, "inn — Поле PayeeINN должно содержать 10 или 12 цифр"),
        ({"kpp": "9102010O1"}, "kpp — Поле KPP должно содержать 9 знаков"),
        ({"account": "4070281050000001234"}, "account — Поле PersonalAcc должно содержать 20 цифр"),
        ({"bic": 43510607}, "bic — нужна строка, а не 43510607"),
        ({"correspondent_account": ""}, "correspondent_account — не заполнено"),
        ({"name": "  "}, "name — не заполнено"),
        ({"bank": None}, "bank — не заполнено"),
        ({"contacts": "  "}, "contacts — не заполнено"),
        # What the payment QR code of a receipt could not carry.
        ({"name": "Н" * 161}, "name — Поле Name длиннее 160 знаков"),
        ({"bank": "РНКБ | БАНК"}, "bank — Поле BankName содержит знак «|»"),
    ],
)
def test_malformed_payee_requisites_are_refused_in_any_mode(instance, tmp_path, changes, reason):
    with pytest.raises(RuntimeError) as refusal:
        create_app(
            {"TESTING": True, "DATABASE_URL": sqlite_url(tmp_path), "PAYEE": {**PAYEE, **changes}}
        )
    assert "Неверные реквизиты получателя платежа LKABONENT_PAYEE" in str(refusal.value)
    assert reason in str(refusal.value)


@pytest.mark.parametrize("day", [0, 29, 31, "10", True, None])
def test_a_due_day_that_some_month_lacks_is_refused(instance, tmp_path, day):
    with pytest.raises(
        RuntimeError, match=r"LKABONENT_PAYMENT_DUE_DAY=.*нужно целое число от 1 до 28"
    ):
        create_app({"TESTING": True, "DATABASE_URL": sqlite_url(tmp_path), "PAYMENT_DUE_DAY": day})


@pytest.mark.parametrize("count", [-1, 6, "1", True, None, 1.0])
def test_a_number_of_trusted_proxies_that_is_not_one_is_refused(instance, tmp_path, count):
    with pytest.raises(
        RuntimeError, match=r"LKABONENT_TRUSTED_PROXIES=.*нужно целое число от 0 до 5"
    ):
        create_app(
            {"TESTING": True, "DATABASE_URL": sqlite_url(tmp_path), "TRUSTED_PROXIES": count}
        )


@pytest.mark.parametrize("days", [-1, "30", 1.5, None, True])
def test_a_retention_that_is_not_a_number_of_days_is_refused(instance, tmp_path, days):
    with pytest.raises(RuntimeError) as refusal:
        create_app(
            {
                "TESTING": True,
                "DATABASE_URL": sqlite_url(tmp_path),
                "SENT_MAIL_RETENTION_DAYS": days,
            }
        )
    assert (
        f"LKABONENT_SENT_MAIL_RETENTION_DAYS={days!r}: нужно целое число не меньше 0 (срок хранения"
        in str(refusal.value)
    )


@pytest.mark.parametrize(
    ("setting", "value", "span"),
    [
        ("SESSION_IDLE_TIMEOUT", 59, "не меньше 60"),
        ("SESSION_ABSOLUTE_TIMEOUT", "43200", "не меньше 60"),
        ("LOGIN_FAILURES_PER_ACCOUNT", 0, "не меньше 1"),
        ("LOGIN_FAILURE_WINDOW", 0, "не меньше 1"),
        ("LOGIN_FAILURE_RETENTION_DAYS", -1, "не меньше 0"),
    ],
)
def test_session_and_login_limits_out_of_range_are_refused(
    instance, tmp_path, setting, value, span
):
    with pytest.raises(RuntimeError, match=rf"LKABONENT_{setting}=.*нужно целое число {span}"):
        create_app({"TESTING": True, "DATABASE_URL": sqlite_url(tmp_path), setting: value})


def test_the_28th_is_a_due_day_every_month_has(instance, tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": sqlite_url(tmp_path), "PAYMENT_DUE_DAY": 28})
    assert app.config["PAYMENT_DUE_DAY"] == 28


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://lk.example.ru", "нужна схема http или https"),
        ("lk.example.ru", "нужна схема http или https"),
        ("javascript://lk.example.ru", "нужна схема http или https"),
        ("https://", "не указан хост"),
        ("https:///cabinet", "не указан хост"),
        ("https://lk.example.ru/lk", "после хоста не должно быть пути"),
        ("https://lk.example.ru/lk/", "после хоста не должно быть пути"),
        ("https://lk.example.ru//", "после хоста не должно быть пути"),
        ("https://lk.example.ru/?from=mail", "после хоста не должно быть пути, параметров"),
        ("https://lk.example.ru?", "после хоста не должно быть пути, параметров"),
        ("https://lk.example.ru#top", "параметров или фрагмента"),
        ("https://lk.example.ru/#", "параметров или фрагмента"),
        ("https://admin:secret@lk.example.ru", "имени пользователя и пароля"),
        ("https://lk.example.ru:port", "адрес не разбирается"),
        ("https://lk.example.ru ", "пробелов"),
    ],
)
@pytest.mark.parametrize("mode", ["production", "debug", "testing"])
def test_a_public_url_other_than_scheme_and_host_refuses_to_start(
    instance, tmp_path, url, reason, mode
):
    """Links in mails are PUBLIC_URL followed by the path: when it is set, in any mode, it is
    http(s), a host and at most a "/"; the message names the variable and shows an example."""
    settings = {"PUBLIC_URL": url, "DATABASE_URL": sqlite_url(tmp_path)}
    settings.update({"production": PRODUCTION, "debug": {"DEBUG": True}}.get(mode, {}))
    if mode == "testing":
        settings["TESTING"] = True
    with pytest.raises(RuntimeError) as refusal:
        create_app(settings)
    message = str(refusal.value)
    assert "LKABONENT_PUBLIC_URL" in message and reason in message
    assert "например https://lk.example.ru" in message


def test_a_public_url_from_the_environment_is_checked(instance, monkeypatch, tmp_path):
    monkeypatch.setenv("LKABONENT_SECRET_KEY", "k" * 32)
    monkeypatch.setenv("LKABONENT_MAIL_SERVER", "smtp.example.ru")
    monkeypatch.setenv("LKABONENT_DATABASE_URL", sqlite_url(tmp_path))
    monkeypatch.setenv("LKABONENT_PUBLIC_URL", "https://lk.example.ru/cabinet")
    with pytest.raises(RuntimeError, match="LKABONENT_PUBLIC_URL"):
        create_app()


@pytest.mark.parametrize(
    "url",
    [
        "https://lk.example.ru/",
        "https://lk.example.ru",
        "http://lk.example.ru:8080",
        "http://127.0.0.1:5000/",
        "https://ЛК.пример.рф",
    ],
)
def test_a_public_url_of_scheme_and_host_is_accepted(instance, tmp_path, url):
    app = create_app({**PRODUCTION, "PUBLIC_URL": url, "DATABASE_URL": sqlite_url(tmp_path)})
    assert app.config["PUBLIC_URL"] == url


# --- where settings come from ---------------------------------------------------------------------


def test_environment_variables_are_read(instance, monkeypatch, tmp_path):
    monkeypatch.setenv("LKABONENT_SECRET_KEY", "1234567890" * 4)
    monkeypatch.setenv("LKABONENT_MAIL_SERVER", "smtp.example.ru")
    monkeypatch.setenv("LKABONENT_MAIL_PORT", "2525")
    monkeypatch.setenv("LKABONENT_MAIL_USE_TLS", "true")
    monkeypatch.setenv("LKABONENT_PUBLIC_URL", "https://lk.example.ru")
    monkeypatch.setenv("LKABONENT_DATABASE_URL", sqlite_url(tmp_path))
    monkeypatch.setenv("LKABONENT_ORGANIZATION_NAME", "ООО «Водоканал»")
    monkeypatch.setenv("LKABONENT_PAYEE", json.dumps(PAYEE, ensure_ascii=False))
    app = create_app()
    assert app.config["PAYEE"] == PAYEE
    # A string, though the JSON reader saw a number.
    assert app.config["SECRET_KEY"] == "1234567890" * 4
    assert app.config["MAIL_SERVER"] == "smtp.example.ru"
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["MAIL_USE_TLS"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"] == sqlite_url(tmp_path)
    assert app.jinja_env.globals["organization"] == "ООО «Водоканал»"
    assert not (instance / "dev-secret-key").exists()


def test_instance_config_is_read_and_the_environment_wins(instance, monkeypatch, tmp_path):
    (instance / "config.py").write_text(
        'SECRET_KEY = "from the instance folder, long enough to be used"\n'
        'MAIL_SERVER = "smtp.instance.example"\n'
        "MAIL_PORT = 587\n"
        'PUBLIC_URL = "https://lk.instance.example"\n'
        f'DATABASE_URL = "{sqlite_url(tmp_path)}"\n'
        "ACCOUNTS_PER_PAGE = 25\n"
        f"PAYEE = {PAYEE!r}\n",
        encoding="utf-8",
    )
    app = create_app()
    assert app.config["SECRET_KEY"] == "from the instance folder, long enough to be used"
    assert app.config["MAIL_SERVER"] == "smtp.instance.example"
    assert app.config["MAIL_PORT"] == 587
    assert app.config["ACCOUNTS_PER_PAGE"] == 25
    monkeypatch.setenv("LKABONENT_MAIL_PORT", "2525")
    assert create_app().config["MAIL_PORT"] == 2525


def test_test_settings_ignore_the_environment(instance, monkeypatch, tmp_path):
    monkeypatch.setenv("LKABONENT_MAIL_PORT", "2525")
    app = create_app({"TESTING": True, "DATABASE_URL": sqlite_url(tmp_path)})
    assert app.config["MAIL_PORT"] == 25


# --- debug mode -----------------------------------------------------------------------------------


def test_debug_mode_makes_and_reuses_a_development_key(instance):
    app = create_app({"DEBUG": True})
    key_file = instance / "dev-secret-key"
    key = key_file.read_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert app.config["SECRET_KEY"] == key
    assert create_app({"DEBUG": True}).config["SECRET_KEY"] == key
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert "dev" in app.blueprints  # /dev/mail


def test_flask_debug_needs_neither_key_nor_mail_server(instance, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")  # what `flask --debug run` sets
    app = create_app()
    assert app.debug
    assert app.config["SECRET_KEY"] == (instance / "dev-secret-key").read_text().strip()
    assert app.config["MAIL_SERVER"] == ""
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_the_default_database_is_in_the_instance_folder(instance):
    app = create_app({"DEBUG": True})
    expected = "sqlite:///" + os.path.join(str(instance), "lkabonent.sqlite")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == expected


def test_sqlite_waits_for_a_writer_and_every_engine_checks_its_connections(instance, tmp_path):
    sqlite = create_app({"DEBUG": True}).config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert sqlite["connect_args"] == {"timeout": 30} and sqlite["pool_pre_ping"] is True
    postgres = create_app(
        {"DEBUG": True, "DATABASE_URL": "postgresql+psycopg://u@127.0.0.1/x"}
    ).config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert "connect_args" not in postgres and postgres["pool_pre_ping"] is True


# --- security headers -----------------------------------------------------------------------------


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_security_headers(response):
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    ("url", "htmx", "status"),
    [
        ("/", False, 200),
        ("/register", True, 200),
        ("/help/privacy", False, 200),
        ("/no-such-page", False, 404),
        ("/no-such-page", True, 404),
        ("/cabinet/accounts", False, 303),
        ("/static/css/site.css", False, 200),
    ],
)
def test_security_headers_everywhere(client, url, htmx, status):
    response = client.get(url, htmx=htmx)
    response.close()  # a static file is streamed from an open file
    assert response.status_code == status
    assert_security_headers(response)


def test_security_headers_on_a_refused_post(client):
    response = client.post("/register", {"email": "x"}, csrf=False)
    assert response.status_code == 400
    assert_security_headers(response)


def test_pages_have_no_inline_script(client):
    for url in ("/", "/login", "/register", "/help/privacy", "/no-such-page"):
        body = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\ssrc=)", body), url
        assert not re.search(r"\son[a-z]+=", body), url
        assert 'style="' not in body, url


@pytest.mark.parametrize(
    ("url", "htmx", "status"),
    [
        ("/cabinet/", False, 200),
        ("/cabinet/accounts", True, 200),
        ("/cabinet/accounts/link", False, 200),
        ("/help/privacy", False, 200),
        ("/", False, 303),
        ("/cabinet/no-such-page", False, 404),
    ],
)
def test_logged_in_responses_are_not_cached(app, client, url, htmx, status):
    make_user(app, LOGIN)
    logged_in(client)
    response = client.get(url, htmx=htmx)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"
    assert_security_headers(response)


def test_the_login_answer_is_not_cached(app, client):
    make_user(app, LOGIN)
    response = client.login(LOGIN, PASSWORD)
    assert response.status_code == 303
    assert response.headers["Cache-Control"] == "no-store"
