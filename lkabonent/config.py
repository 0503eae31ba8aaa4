"""Default settings.

Each can be overridden, in this order, by ``instance/config.py`` and by an environment variable
with the prefix ``LKABONENT_`` (``LKABONENT_MAIL_PORT=2525``). README.md lists them all.
"""

# Signs sessions and derives the outbox encryption key. Required outside debug and testing.
SECRET_KEY = None
# SQLAlchemy URL; empty means the SQLite file instance/lkabonent.sqlite.
DATABASE_URL = ""

# The portal's address as subscribers reach it, for links in mails (https://lk.example.ru).
# Required outside debug and testing, where the address of the request stands in for it.
PUBLIC_URL = ""

# Reverse proxies in front of the portal (nginx: 1) whose X-Forwarded-For and X-Forwarded-Proto
# are trusted: the client's address is the one the last of them saw. 0 trusts none: the address
# is that of the connection. Count only proxies you run; a client can send those headers too.
TRUSTED_PROXIES = 0

# The portal's log on stderr: a line per request (lkabonent/requestlog.py) at INFO.
LOG_LEVEL = "INFO"

# The organisation named on every page and in every mail.
ORGANIZATION_NAME = "ГУП РК «КР ЕИРЦ»"
SUBSCRIBER_SERVICE_CONTACTS = (
    "Абонентская служба: пн–пт с 8:00 до 17:00, телефон +7 (3652) 00-00-00"
)

# Outgoing mail. An empty MAIL_SERVER prints mails to the terminal (allowed in debug mode only).
MAIL_SERVER = ""
MAIL_PORT = 25
MAIL_USE_TLS = False
MAIL_USE_SSL = False
MAIL_USERNAME = None
MAIL_PASSWORD = None
MAIL_DEFAULT_SENDER = "Личный кабинет абонента <noreply@lkabonent.local>"
MAIL_SUPPRESS_SEND = False
MAIL_TIMEOUT = 10  # seconds to wait for the SMTP server before the mail stays queued

# Emailed passwords (registration and «Забыли пароль?").
REGISTRATION_PASSWORD_TTL = 1800  # seconds
REGISTRATION_PASSWORD_MAX_ATTEMPTS = 5  # wrong tries before the emailed password is burned

# Rate limits (Flask-Limiter notation). Storage "memory://" is per process; point
# RATELIMIT_STORAGE_URI at Redis (redis://127.0.0.1:6379/0) when several workers run.
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_STRATEGY = "moving-window"
RATELIMIT_HEADERS_ENABLED = True
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
PASSWORD_REQUEST_LIMIT_PER_EMAIL = "1 per minute; 5 per hour"
PASSWORD_REQUEST_LIMIT_PER_CLIENT = "20 per hour"
# Failed password entries (login and emailed passwords) per client address.
PASSWORD_FAILURE_LIMIT_PER_CLIENT = "20 per minute; 100 per hour"

# Failed logins per account, counted in the database by the login typed (known or not): after
# so many within the window (seconds), «Войти» with that login is refused until the oldest of
# them leaves the window; «Забыли пароль?» still works.
LOGIN_FAILURES_PER_ACCOUNT = 10
LOGIN_FAILURE_WINDOW = 900

# A session ends after this many seconds without a request (idle), and this many seconds after
# the login whatever happens (absolute). Activity is recorded once a minute at most.
SESSION_IDLE_TIMEOUT = 1800
SESSION_ABSOLUTE_TIMEOUT = 43200

# Failed «Привязать» attempts, counted in the database.
LINK_FAILURES_PER_USER_PER_HOUR = 5
LINK_FAILURES_PER_ACCOUNT_PER_DAY = 10

# argon2id parameters (OWASP minimum: 19 MiB, t=2, p=1).
ARGON2_TIME_COST = 2
ARGON2_MEMORY_COST = 19456  # KiB
ARGON2_PARALLELISM = 1

# Version of the personal data processing policy (templates/help/privacy.html) stored with
# every consent; change it whenever the text changes.
PRIVACY_POLICY_VERSION = "2026-11-27"

# Housekeeping (`flask maintenance purge`): days to keep, after which rows are deleted —
# sessions after they ended or expired, emailed passwords after they expired, mail after it was
# sent, failed «Привязать» attempts and failed logins (their limits look back a day at most)
# after they were made.
ENDED_SESSION_RETENTION_DAYS = 30
EMAILED_PASSWORD_RETENTION_DAYS = 7
SENT_MAIL_RETENTION_DAYS = 30
LINK_FAILURE_RETENTION_DAYS = 30
LOGIN_FAILURE_RETENTION_DAYS = 30

ACCOUNTS_PER_PAGE = 10
PAYMENTS_PER_PAGE = 12

# The payee printed on the receipt and encoded in its payment QR code (ГОСТ Р 56042-2014).
PAYEE = {
    "name": "ГУП РК «Крымский республиканский единый информационно-расчетный центр»",
    "inn": "9102000000",
    "kpp": "910201001",
    "account": "40602810000000000000",  # расчетный счет, 20 digits
    "bank": "РНКБ БАНК (ПАО)",
    "bic": "043510607",
    "correspondent_account": "30101810335100000607",
    "contacts": "295000, г. Симферополь, ул. Примерная, д. 1; +7 (3652) 00-00-00; eirc.example.ru",
}
# A month's bill is due by this day of the next month (1–28: a day every month has).
PAYMENT_DUE_DAY = 10
# PDFs of receipts a subscriber may download (Flask-Limiter notation): each costs a third of a
# second of a worker's time, a page a few milliseconds.
RECEIPT_PDF_LIMIT_PER_USER = "20 per minute"
# Local time of the settlement centre: months and days of the reading window begin by it, and
# exported files carry it.
TIME_ZONE = "Europe/Simferopol"
# Development only: accept readings on any day, so the demo can be tried outside the window.
READING_WINDOW_ALWAYS_OPEN = False

# `flask billing import`: rows sent to the database at a time, and how many errors are printed.
IMPORT_BATCH_ROWS = 5000
IMPORT_ERRORS_SHOWN = 50

# A form's CSRF token lives as long as its session: an open form does not expire by itself.
WTF_CSRF_TIME_LIMIT = None

# In production, with Secure cookies and no SESSION_COOKIE_DOMAIN, the name gets the prefix
# "__Host-": browsers then refuse the cookie unless it comes over HTTPS from this very host.
SESSION_COOKIE_NAME = "lkabonent_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = True  # switched off in debug mode, which serves plain HTTP
REMEMBER_COOKIE_DURATION = 0  # no "remember me": a session lives on the server only
# Strict-Transport-Security in production, seconds (2 years); 0 leaves the header out.
HSTS_MAX_AGE = 63072000
