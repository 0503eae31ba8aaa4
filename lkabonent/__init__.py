"""lkabonent: the subscriber self-service portal («Личный кабинет абонента»)."""

import os
import secrets
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as default_config
from .cabinet.finance import month_param
from .cabinet.receipt import PAYEE_FIELDS
from .cli import register_commands
from .errors import register_errorhandlers
from .extensions import csrf, db, limiter, login_manager, mail, migrate
from .forms import csrf_token
from .links import register_static_versions, template_url_for
from .mail import public_url
from .maintenance import RETENTIONS
from .models import Payment, render_item
from .payment_qr import PaymentQRError
from .payment_qr import check as check_qr_field
from .requestlog import configure_logging, register_request_log, request_id, user_id
from .text import (
    date_ru,
    days_left_ru,
    duration_ru,
    moment_ru,
    money_ru,
    month_genitive_ru,
    month_ru,
    number_ru,
    password_lifetime,
    plural_ru,
)

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MIN_SECRET_KEY_LENGTH = 32
# A cookie's name prefix that makes browsers bind it to HTTPS and to the host that set it.
HOST_PREFIX = "__Host-"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints, error pages, commands."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    configure(app, test_config)
    configure_logging(app)
    register_request_log(app)  # first: its id serves the others, its line comes last
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_response_headers(app)
    register_static_versions(app)
    trust_proxies(app)
    app.jinja_env.globals.update(
        organization=app.config["ORGANIZATION_NAME"],
        public_url=public_url,
        password_lifetime=password_lifetime,
        duration_ru=duration_ru,
        plural_ru=plural_ru,
        days_left_ru=days_left_ru,
        channel_labels=Payment.CHANNELS,
        url_for=template_url_for(),
        csrf_token=csrf_token,
        request_id=request_id,
    )
    # Flask-WTF hands its csrf_token to the templates as a context variable too; registered
    # after it (register_extensions runs csrf.init_app above), ours wins.
    app.context_processor(lambda: {"csrf_token": csrf_token})
    app.jinja_env.filters.update(
        moment_ru=moment_ru,
        date_ru=date_ru,
        month_ru=month_ru,
        month_genitive_ru=month_genitive_ru,
        money=money_ru,
        number=number_ru,
        month_param=month_param,
    )
    return app


def configure(app: Flask, test_config: dict | None) -> None:
    """Defaults, then instance/config.py and LKABONENT_* variables (or the test settings)."""
    app.config.from_object("lkabonent.config")
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("LKABONENT")
    else:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    production = not (app.debug or app.testing)

    # from_prefixed_env reads values as JSON: a key of digits would arrive as a number.
    if app.config["SECRET_KEY"] is not None:
        app.config["SECRET_KEY"] = str(app.config["SECRET_KEY"])
    if not app.config["SECRET_KEY"]:
        if production:
            raise RuntimeError(
                "Не задан секретный ключ. Укажите его в переменной окружения "
                "LKABONENT_SECRET_KEY (например, вывод `python3 -c 'import secrets; "
                "print(secrets.token_hex(32))'`) или в instance/config.py."
            )
        app.config["SECRET_KEY"] = _development_key(app)
    if production and len(app.config["SECRET_KEY"]) < MIN_SECRET_KEY_LENGTH:
        raise RuntimeError(
            f"Секретный ключ LKABONENT_SECRET_KEY слишком короткий: нужно не меньше "
            f"{MIN_SECRET_KEY_LENGTH} случайных символов."
        )
    if production and not app.config["MAIL_SERVER"]:
        raise RuntimeError(
            "Не задан почтовый сервер. Укажите LKABONENT_MAIL_SERVER (и при необходимости "
            "LKABONENT_MAIL_PORT, LKABONENT_MAIL_USERNAME, LKABONENT_MAIL_PASSWORD)."
        )
    if production and not app.config["PUBLIC_URL"]:
        raise RuntimeError(
            "Не задан адрес портала для ссылок в письмах. Укажите LKABONENT_PUBLIC_URL, "
            "например https://lk.example.ru."
        )

    if app.config["PUBLIC_URL"]:
        _check_public_url(app.config["PUBLIC_URL"])
    _check_payee(app.config["PAYEE"], production)
    config = app.config
    for setting, low, high, meaning in WHOLE_NUMBERS + tuple(
        (retention.setting, 0, None, "срок хранения в днях для `flask maintenance purge`")
        for retention in RETENTIONS
    ):
        _check_whole_number(setting, config[setting], low, high, meaning)

    url = app.config["DATABASE_URL"] or "sqlite:///" + os.path.join(
        app.instance_path, "lkabonent.sqlite"
    )
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    options = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30}
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", options)
    if app.debug:
        app.config["SESSION_COOKIE_SECURE"] = False  # `make run` serves plain HTTP
    name = app.config["SESSION_COOKIE_NAME"]
    if (
        production
        and app.config["SESSION_COOKIE_SECURE"]
        and not app.config["SESSION_COOKIE_DOMAIN"]
        and not name.startswith(HOST_PREFIX)
    ):
        app.config["SESSION_COOKIE_NAME"] = HOST_PREFIX + name


def _public_url_problem(value) -> str | None:
    """Why a PUBLIC_URL is not the scheme and host only (like https://lk.example.ru), in
    Russian, or None. Mail links are the path appended to it: anything after the host would
    break them."""
    if not isinstance(value, str):
        return "нужна строка"
    if any(char.isspace() or not char.isprintable() for char in value):
        return "в адресе не должно быть пробелов и управляющих символов"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - a port that is not a number raises ValueError
    except ValueError:
        return "адрес не разбирается"
    if parts.scheme not in ("http", "https"):
        return "нужна схема http или https"
    if not parts.hostname:
        return "не указан хост"
    if parts.username is not None or parts.password is not None:
        return "в адресе не должно быть имени пользователя и пароля"
    if parts.path not in ("", "/") or "?" in value or "#" in value:
        return "после хоста не должно быть пути, параметров или фрагмента"
    return None


def _check_public_url(value) -> None:
    """Refuse to start with a PUBLIC_URL that is not the scheme and host only."""
    problem = _public_url_problem(value)
    if problem:
        raise RuntimeError(
            f"Неверный адрес портала LKABONENT_PUBLIC_URL={value!r}: {problem}. Укажите только "
            "схему и хост (при необходимости с портом), например https://lk.example.ru."
        )


def _check_payee(payee, production: bool) -> None:
    """Refuse to start with requisites a receipt could not carry (a receipt must never fail on
    them: the payment QR code's fields must hold them), or, in production, with the example
    requisites of config.py."""
    problems = []
    for key in (*PAYEE_FIELDS, "contacts"):
        value = payee.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(f"{key} — не заполнено")
        elif not isinstance(value, str):
            problems.append(f"{key} — нужна строка, а не {value!r}")
        elif key in PAYEE_FIELDS:
            try:
                check_qr_field(PAYEE_FIELDS[key], value)
            except PaymentQRError as error:
                problems.append(f"{key} — {error}")
    if problems:
        raise RuntimeError(
            "Неверные реквизиты получателя платежа LKABONENT_PAYEE: " + "; ".join(problems) + "."
        )
    if production and payee == default_config.PAYEE:
        raise RuntimeError(
            "Реквизиты получателя платежа не заданы: в квитанции были бы примерные реквизиты. "
            "Укажите PAYEE в instance/config.py или LKABONENT_PAYEE (JSON)."
        )


# More proxies in a row than any deployment of the portal has: a larger number is a mistake.
MAX_TRUSTED_PROXIES = 5

# Settings that must be whole numbers: the lowest and highest value (None: no bound), and what
# the number is, for the message that stops the portal from starting with a wrong one.
WHOLE_NUMBERS = (
    (
        "PAYMENT_DUE_DAY",
        1,
        28,
        "день следующего месяца, до которого оплачивается счет; он должен быть в каждом месяце",
    ),
    (
        "TRUSTED_PROXIES",
        0,
        MAX_TRUSTED_PROXIES,
        "сколько прокси перед порталом; 1 — портал за nginx на том же сервере",
    ),
    ("SESSION_IDLE_TIMEOUT", 60, None, "секунд без запросов, после которых сеанс завершается"),
    ("SESSION_ABSOLUTE_TIMEOUT", 60, None, "секунд после входа, после которых сеанс завершается"),
    (
        "LOGIN_FAILURES_PER_ACCOUNT",
        1,
        None,
        "неудачных входов с одним логином, после которых вход приостанавливается",
    ),
    ("LOGIN_FAILURE_WINDOW", 1, None, "за сколько секунд считаются неудачные входы"),
)


def _check_whole_number(setting: str, value, low: int, high: int | None, meaning: str) -> None:
    """Refuse to start with a setting that is not a whole number from ``low`` to ``high``
    (None: no upper bound); ``meaning`` says in Russian what the number is."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        span = f"от {low} до {high}" if high is not None else f"не меньше {low}"
        raise RuntimeError(
            f"Неверное значение LKABONENT_{setting}={value!r}: нужно целое число {span} "
            f"({meaning})."
        )


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client's address and scheme from their
    X-Forwarded-For and X-Forwarded-Proto, counting from the last proxy: entries a client put
    before them change nothing. Rate limits, sessions and consents then see the real client."""
    count = app.config["TRUSTED_PROXIES"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def _development_key(app: Flask) -> str:
    """The key `make run` keeps in instance/dev-secret-key, made on first use."""
    path = os.path.join(app.instance_path, "dev-secret-key")
    if not os.path.exists(path):
        with open(path, "w") as key_file:
            key_file.write(secrets.token_hex(32))
    with open(path) as key_file:
        return key_file.read().strip()


def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys and let readers work beside a writer."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def register_extensions(app: Flask) -> None:
    """Bind the extension instances to this application."""
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(PROJECT_ROOT, "migrations"),
        compare_type=True,
        render_item=render_item,
    )
    login_manager.init_app(app)
    # Sessions live on the server (auth/sessions.py); a changing mobile IP must not end them.
    login_manager.session_protection = None
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Routes: public and auth pages, the cabinet, help, and development helpers in debug."""
    from . import auth, cabinet, health, help

    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(cabinet.bp)
    app.register_blueprint(help.bp)
    if app.debug:
        from . import dev

        app.register_blueprint(dev.bp)


def register_response_headers(app: Flask) -> None:
    """Security headers on every response; nothing of a cabinet is kept in caches. In
    production, browsers are told to come over HTTPS only (HSTS)."""
    hsts = None
    if not (app.debug or app.testing) and app.config["HSTS_MAX_AGE"]:
        hsts = f"max-age={app.config['HSTS_MAX_AGE']}; includeSubDomains"

    @app.after_request
    def security_headers(response):
        headers = response.headers
        if hsts:
            headers.setdefault("Strict-Transport-Security", hsts)
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if user_id() is not None:
            headers["Cache-Control"] = "no-store"
        return response
