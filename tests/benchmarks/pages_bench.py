"""Benchmark of the cabinet's pages under gunicorn on the 100,000-account demo.

    make bench
    .venv/bin/python tests/benchmarks/pages_bench.py --db sqlite --only main --repeats 1 \\
        --duration 3

What is served: tests/benchmarks/bench_app.py (the portal plus a logged-in no-op) by gunicorn
with the production settings of gunicorn.conf.py (sync workers, 2 × cores + 1 of them; only
worker recycling after N requests is switched off, as it would restart workers in the middle of
a run), pinned to core 0 (`taskset -c 0`), as are the PostgreSQL backends of its connections
(only those: the PostgreSQL server and its other sessions keep their cores); wrk runs on core 1.
The subscriber bench@lkabonent.test has exactly the three accounts 1080000001–1080000003, and
logs in over HTTP as a browser does.

What is measured, for every URL of URLS below:

- req/s: `wrk -t2 -c32 -d10s`, with the session cookie (and `HX-Request: true` for an htmx
  fragment); p50 and p99 latency: a second run at 8 connections (`-c8`, --latency-duration);
- ×trivial and ×no-op: req/s over that of the two references measured on the same server in the
  same repeat: /healthz (no session; one «SELECT 1») and the logged-in no-op (session, user and
  linked accounts loaded, nothing rendered). A page's ×no-op, which has a target, is over the
  no-op measured around it: the mean of the no-op's runs just before and just after the page's;
- ×frame: req/s over that of a third route, the no-op's work and then the cabinet's frame
  rendered around an empty page (bench_app.py). The issue sets no target on it: it shows what
  a page costs beyond the frame every page renders, for the decision on the SQLite target;
- 100k/100: req/s of the page on the 100,000-account demo over req/s of the same page on a
  100-account demo of the same seed.

Each figure is the median of --repeats (3) repeats. The interleaving, so that what is compared is
measured close in time: per database, both demos (100,000 and 100 accounts) are served at once,
by two gunicorn instances on core 0, but only one of them is ever under load; the other one's
workers sleep in accept(). A repeat goes through the URLs in the order of URLS (references
first) and measures each page on both demos back to back, the 100,000-account one first in odd
repeats and second in even ones (drift and order effects cancel out), then its latency at 8
connections on the 100,000-account demo; a run of the no-op comes before the first page and
after each page's two runs. So a page's two figures of the 100k/100 ratio are seconds apart, as
are those of its ×no-op (its ×trivial and ×frame: a few minutes at most). This VM's speed drifts
by half within minutes (the no-op measured 881, 502 and 1,285 req/s at the start of three
repeats of one run, the pages after it far less apart): a reference taken minutes before a page
made its ratio swing as much. The references are measured on the 100,000-account demo only.
SQLite is measured first, then PostgreSQL. After every wrk run the benchmark waits until the
server's processes stop using CPU: the requests still queued on wrk's connections when it stops
are served all the same, and on the shared core they made whichever demo came second look
20–50 % slower.

Before measuring, each server's database is read into the page cache (the SQLite file, or every
table and index with pg_prewarm), every URL is checked to answer 200 with the cookie (wrk counts
a 302 to the login page as a success; a 404, a page not written yet, is reported as «not
available» and not measured) and warmed with a short wrk run. The demo databases are built on
the first run as `make bench-import` builds them, and shared with it: instance/bench-100k.sqlite
and instance/bench-100.sqlite, PostgreSQL lkabonent_bench and lkabonent_bench_100 (about 10
minutes); each later run only applies new migrations (`flask db upgrade`).

Targets (the issue): the logged-in no-op at least 25 % of the trivial route on SQLite and 15 % on
PostgreSQL; every page at least 40 % of the no-op on SQLite and 30 % on PostgreSQL; p99 at 8
connections under 150 ms on SQLite; every page on 100,000 accounts at least 80 % of the same page
on 100 accounts (no more than 20 % slower). The exit code is 1 when a target is missed or a page
answers other than 200 or 404, 2 when the benchmark itself cannot run. The whole run takes about
55 minutes (27 per database). Other work on the machine skews every figure: the «cpu %» column
shows the least share of the server core that the server itself got in a page's runs. This is not
a test (pytest collects only test_*.py) and CI does not run it.
"""

import argparse
import html
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from bench_app import FRAME_PATH, NOOP_PATH
from import_bench import (
    DEFAULT_END_MONTH,
    DEFAULT_MONTHS,
    DEFAULT_PG_SERVER,
    DEFAULT_SEED,
    INSTANCE,
    ROOT,
    Database,
    Spec,
    Unavailable,
    describe_code,
    describe_machine,
    ensure_demo,
    log,
    parse_month,
)
from sqlalchemy import delete, func, select, text

from lkabonent import config as default_config
from lkabonent import create_app
from lkabonent.demo import KNOWN_ACCOUNTS
from lkabonent.extensions import db
from lkabonent.models import Account, AccountLink, Meter, User, UserSession
from lkabonent.passwords import hash_password, needs_rehash, verify_password

# --- what is measured -----------------------------------------------------------------------

# Every URL measured: (name, path, htmx). The first three are the references (the third one
# informational); {meter_id} is a meter of account 1080000001, looked up in each database.
URLS = (
    ("trivial", "/healthz", False),
    ("no-op", NOOP_PATH, False),
    ("frame", FRAME_PATH, False),
    ("main", "/cabinet/", False),
    ("accounts", "/cabinet/accounts", False),
    ("accounts fragment", "/cabinet/accounts?page=1", True),
    ("charges", "/cabinet/charges", False),
    ("charges fragment", "/cabinet/charges?month=2026-09", True),
    ("charts", "/cabinet/charges/consumption", False),
    ("charts fragment", "/cabinet/charges/consumption", True),
    ("debt", "/cabinet/debt", False),
    ("payments", "/cabinet/payments", False),
    ("payments fragment", "/cabinet/payments?page=2", True),
    ("meters", "/cabinet/meters/", False),
    ("meter", "/cabinet/meters/{meter_id}", False),
    ("meter fragment", "/cabinet/meters/{meter_id}", True),
)
TRIVIAL, NOOP, FRAME = URLS[0][0], URLS[1][0], URLS[2][0]
REFERENCES = (TRIVIAL, NOOP, FRAME)

# The demos: the and a small one of the same seed and months.
LARGE, SMALL = "100k", "100"
SIZES = {LARGE: 100_000, SMALL: 100}
SQLITE_FILES = {LARGE: "bench-100k.sqlite", SMALL: "bench-100.sqlite"}  # in instance/
PG_DATABASES = {LARGE: "lkabonent_bench", SMALL: "lkabonent_bench_100"}

# Targets of the issue, per database.
NOOP_OVER_TRIVIAL = {"sqlite": 0.25, "postgresql": 0.15}
PAGE_OVER_NOOP = {"sqlite": 0.40, "postgresql": 0.30}
P99_MS = {"sqlite": 150.0}  # at 8 connections; no target on PostgreSQL
LARGE_OVER_SMALL = 0.80  # a page on 100,000 accounts at most 20 % slower than on 100

# The load: wrk on core 1, gunicorn and PostgreSQL on core 0.
SERVER_CORE, CLIENT_CORE = 0, 1
THREADS, CONNECTIONS, LATENCY_CONNECTIONS = 2, 32, 8

# The subscriber the benchmark logs in as.
BENCH_EMAIL = "bench@lkabonent.test"
BENCH_PASSWORD = "bench pages password 2026"  # a demo database's own user
BENCH_ACCOUNTS = tuple(number for number, *_ in KNOWN_ACCOUNTS[:3])
COOKIE_NAME = default_config.SESSION_COOKIE_NAME
# Requisites that differ from config.py's example ones, which production refuses.
BENCH_PAYEE = {**default_config.PAYEE, "name": "Получатель для нагрузочного теста"}

GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
LOGS = INSTANCE / "bench"  # gunicorn's log of each server, as bench-import keeps its files


@dataclass(frozen=True)
class Url:
    name: str
    path: str
    htmx: bool

    @property
    def is_reference(self) -> bool:
        return self.name in REFERENCES


@dataclass
class Run:
    """What one wrk run reported."""

    rps: float
    p50_ms: float
    p99_ms: float
    cpu_share: float = 0.0  # of the server core that the server's processes used
    problem: str = ""  # non-2xx/3xx answers, socket errors


@dataclass
class Result:
    """One line of a table: the runs of a URL on one database, over the repeats."""

    url: Url
    status: dict[str, int] = field(default_factory=dict)  # per demo, from the check
    note: str = ""  # why it is not measured, or what looked wrong
    rps: dict[str, list[float]] = field(default_factory=lambda: {LARGE: [], SMALL: []})
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    cpu_share: list[float] = field(default_factory=list)  # of the req/s runs
    noop_rps: list[float] = field(default_factory=list)  # of a page: the no-op around it
    problems: list[str] = field(default_factory=list)

    @property
    def available(self) -> bool:
        return not self.note and all(code == 200 for code in self.status.values())


# --- small helpers --------------------------------------------------------------------------


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def ratios(numerators: list[float], denominators: list[float]) -> list[float]:
    """Repeat by repeat: each ratio of figures measured in the same repeat."""
    return [a / b for a, b in zip(numerators, denominators, strict=False) if b]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def need_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise Unavailable(f"{name} is not installed (apt-get install {name})")
    return found


# --- the databases and the subscriber ---------------------------------------------------------


def demo_databases(name: str) -> dict[str, Database]:
    """The benchmark's two demos on one database engine, by size."""
    if name == "sqlite":
        return {
            size: Database("sqlite", f"sqlite:///{INSTANCE / file}", INSTANCE / file)
            for size, file in SQLITE_FILES.items()
        }
    return {
        size: Database("postgresql", DEFAULT_PG_SERVER + database)
        for size, database in PG_DATABASES.items()
    }


def prepare_subscriber(database: Database) -> int | None:
    """Make the bench subscriber exist with its password and exactly the three accounts (and
    none of its earlier runs' sessions); return the id of a meter of 1080000001, if it has one."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": database.url}
    )
    try:
        with app.app_context():
            accounts = dict(
                db.session.execute(
                    select(Account.number, Account.id).where(Account.number.in_(BENCH_ACCOUNTS))
                ).all()
            )
            if len(accounts) != len(BENCH_ACCOUNTS):
                raise Unavailable(
                    f"{database.title}: {database.database or database.path} lacks the demo "
                    f"accounts {', '.join(BENCH_ACCOUNTS)}"
                )
            user = db.session.scalar(select(User).where(User.email == BENCH_EMAIL))
            if user is None:
                user = User(email=BENCH_EMAIL, password_hash=hash_password(BENCH_PASSWORD))
                db.session.add(user)
                db.session.flush()
            elif not verify_password(user.password_hash, BENCH_PASSWORD) or needs_rehash(
                user.password_hash
            ):
                user.password_hash = hash_password(BENCH_PASSWORD)
            user.is_enabled = True
            db.session.execute(delete(AccountLink).where(AccountLink.user_id == user.id))
            db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
            db.session.add_all(
                AccountLink(
                    user_id=user.id, account_id=accounts[number], source=AccountLink.BY_OWNER
                )
                for number in BENCH_ACCOUNTS
            )
            meter_id = db.session.scalar(
                select(func.min(Meter.id)).where(Meter.account_id == accounts[BENCH_ACCOUNTS[0]])
            )
            db.session.commit()
            return meter_id
    finally:
        with app.app_context():
            db.engine.dispose()


def warm_database(database: Database) -> None:
    """Read the database into the page cache: the VM evicts it often."""
    started = time.monotonic()
    if database.name == "sqlite":
        size = 0
        for suffix in ("", "-wal"):
            path = Path(f"{database.path}{suffix}")
            if path.exists():
                with open(path, "rb", buffering=0) as file:
                    while chunk := file.read(1 << 20):
                        size += len(chunk)
        log(
            f"{database.title}: read {database.path.name} ({size / 1e9:.1f} GB) in "
            f"{time.monotonic() - started:.0f} s"
        )
        return
    engine = database.engine(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            available = connection.scalar(
                text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_prewarm'")
            )
            if not available:
                log(f"{database.title}: no pg_prewarm here; the warm-up runs warm the cache")
                return
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
            blocks = connection.scalar(
                text(
                    "SELECT coalesce(sum(pg_prewarm(c.oid, 'read')), 0)::bigint FROM pg_class c "
                    "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i')"
                )
            )
    finally:
        engine.dispose()
    log(
        f"{database.title}: pg_prewarm read {database.database} ({blocks * 8192 / 1e9:.1f} GB) "
        f"in {time.monotonic() - started:.0f} s"
    )


def pin_backends(servers: dict[str, "Server"]) -> None:
    """Pin the PostgreSQL backends that serve the servers' connections to the server core (a
    backend lives as long as its connection, so nothing needs putting back), and tell each
    server its backends. Only the benchmark's own: the PostgreSQL server and its other
    sessions keep their cores. Possible for a server on this machine only."""
    databases = [server.database.database for server in servers.values()]
    engine = next(iter(servers.values())).database.engine()
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT pid, datname FROM pg_stat_activity "
                    "WHERE datname = ANY(:names) AND pid <> pg_backend_pid()"
                ),
                {"names": databases},
            ).all()
    finally:
        engine.dispose()
    pinned = 0
    for server in servers.values():
        server.backends = [pid for pid, name in rows if name == server.database.database]
        for pid in server.backends:
            try:
                # A pid of a server on another machine may name some local process: only a
                # local PostgreSQL backend is touched.
                if not Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"postgres"):
                    continue
                os.sched_setaffinity(pid, {SERVER_CORE})
                pinned += 1
            except OSError:
                continue
    if pinned < len(rows):
        log(
            f"PostgreSQL: pinned {pinned} of the {len(rows)} backends of the benchmark to core "
            f"{SERVER_CORE} (the others are not on this machine or not ours to move)"
        )


def children(parent: int) -> list[int]:
    """The processes whose parent is ``parent``."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError, ValueError):
            # pid (comm) state ppid …: comm may hold spaces, so split after its ')'.
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                pids.append(int(stat.parent.name))
    return pids


def cpu_ticks(pids: list[int]) -> int:
    """The CPU time the processes used so far, user and system, in clock ticks."""
    total = 0
    for pid in pids:
        with suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime and stime, fields 14 and 15
    return total


# --- the servers ------------------------------------------------------------------------------


class Server:
    """gunicorn serving bench_app on one demo database, pinned to the server core."""

    def __init__(self, database: Database, size: str, secret_key: str, extra_env: dict):
        self.database, self.size = database, size
        self.port = free_port()
        self.cookie = ""
        self.meter_id: int | None = None
        self.backends: list[int] = []  # PostgreSQL's processes that work for this server
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"gunicorn-{database.name}-{size}.log"
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("LKABONENT_", "GUNICORN_", "FLASK_"))
        }
        env |= {
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_MAX_REQUESTS": "0",  # no worker restarts in the middle of a run
            "LKABONENT_DATABASE_URL": database.url,
            "LKABONENT_SECRET_KEY": secret_key,
            "LKABONENT_MAIL_SERVER": "127.0.0.1",
            "LKABONENT_PUBLIC_URL": "http://127.0.0.1",
            "LKABONENT_SESSION_COOKIE_SECURE": "false",  # plain HTTP on loopback
            "LKABONENT_PAYEE": json.dumps(BENCH_PAYEE, ensure_ascii=False),
        }
        env |= extra_env  # --env: an experiment's settings
        command = [
            need_tool("taskset"),
            "-c",
            str(SERVER_CORE),
            str(GUNICORN),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--no-control-socket",
            "--pythonpath",
            str(Path(__file__).resolve().parent),
            "bench_app:create_bench_app()",
        ]
        with open(self.log_path, "w") as log_file:
            self.process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
                command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )

    @property
    def title(self) -> str:
        return f"{self.database.title} {self.size}"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def path(self, url: Url) -> str:
        """The URL's path on this server's demo (its meter id filled in)."""
        return url.path.format(meter_id=self.meter_id)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            with suppress(OSError):
                if self.request("/healthz")[0] == 200:
                    return
            time.sleep(0.2)
        raise Unavailable(f"{self.title}: gunicorn did not start; see {self.log_path}")

    def request(
        self, path: str, cookie: str = "", htmx: bool = False, form: dict | None = None
    ) -> tuple[int, http.client.HTTPResponse, str]:
        """One request: the status, the response (headers) and the body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        return send(connection, path, COOKIE_NAME, cookie, htmx, form)

    def login(self) -> None:
        """Log in through the login form, as a browser does; keep the session cookie."""
        try:
            self.cookie = log_in(self.request, COOKIE_NAME)
        except Unavailable as error:
            raise Unavailable(f"{self.title}: {error}; see {self.log_path}") from None
        status, _, body = self.request(NOOP_PATH, cookie=self.cookie)
        if status != 200 or not body.startswith(f"{len(BENCH_ACCOUNTS)} "):
            raise Unavailable(f"{self.title}: the logged-in no-op answered {status}: {body!r}")

    def workers(self) -> int:
        """How many worker processes the gunicorn master runs."""
        return len(children(self.process.pid))

    def pids(self) -> list[int]:
        """The processes that serve requests: the workers, and PostgreSQL's backends."""
        pids = children(self.process.pid)
        return pids + self.backends

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until the workers stop using CPU. When wrk stops, the requests still queued on
        its connections are served all the same: on the shared core, they would slow down
        whatever runs next (the other demo's measurement, say)."""
        deadline = time.monotonic() + timeout
        workers = children(self.process.pid)
        before = cpu_ticks(workers)
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = cpu_ticks(workers)
            if now == before:
                return
            before = now

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def send(
    connection: http.client.HTTPConnection,
    path: str,
    cookie_name: str,
    cookie: str = "",
    htmx: bool = False,
    form: dict | None = None,
    keep_open: bool = False,
) -> tuple[int, http.client.HTTPResponse, str]:
    """One request on a connection (HTTP or HTTPS), closed afterwards unless ``keep_open``: a
    GET, or a POST of the form from its own page, as a browser sends it (over HTTPS, Flask-WTF
    refuses a form without a Referer of the same site). The status, the response (headers) and
    the body."""
    headers = {"Cookie": f"{cookie_name}={cookie}"} if cookie else {}
    if htmx:
        headers["HX-Request"] = "true"
    try:
        if form is None:
            connection.request("GET", path, headers=headers)
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            scheme = "https" if isinstance(connection, http.client.HTTPSConnection) else "http"
            port = "" if connection.port == connection.default_port else f":{connection.port}"
            headers["Referer"] = f"{scheme}://{connection.host}{port}{path}"
            connection.request("POST", path, urllib.parse.urlencode(form), headers)
        response = connection.getresponse()
        return response.status, response, response.read().decode("utf-8", "replace")
    finally:
        if not keep_open:
            connection.close()


def login_form(request: Callable[..., tuple], cookie_name: str) -> tuple[str, str]:
    """GET /login by ``request`` (a path, then cookie= and form=, as Server.request): the
    session cookie and the form's CSRF token."""
    status, response, page = request("/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    cookie = session_cookie(response, cookie_name)
    if status != 200 or not token or not cookie:
        raise Unavailable(f"GET /login answered {status} without a form")
    return cookie, html.unescape(token[1])


def log_in(request: Callable[..., tuple], cookie_name: str) -> str:
    """Log the bench subscriber in through the login form, as a browser does; its session
    cookie."""
    cookie, token = login_form(request, cookie_name)
    status, response, _ = request(
        "/login",
        cookie=cookie,
        form={"email": BENCH_EMAIL, "password": BENCH_PASSWORD, "csrf_token": token},
    )
    cookie = session_cookie(response, cookie_name)
    if status not in (302, 303) or not cookie:
        raise Unavailable(f"the login answered {status}")
    return cookie


def session_cookie(response: http.client.HTTPResponse, name: str) -> str:
    cookies = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or ():
        cookies.load(header)
    return cookies[name].value if name in cookies else ""


@contextmanager
def serving(
    databases: dict[str, Database], secret_key: str, extra_env: dict
) -> Iterator[dict[str, Server]]:
    """Both demos of a database served at once; stopped whatever happens."""
    servers = {}
    try:
        for size, database in databases.items():
            servers[size] = Server(database, size, secret_key, extra_env)
        for server in servers.values():
            server.wait_ready()
        yield servers
    finally:
        for server in servers.values():
            server.stop()


# --- wrk --------------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(server: Server, url: Url, connections: int, seconds: float) -> Run:
    """`wrk` on the client core against one URL of ``server``; waits until the server is idle
    again."""
    command = [
        need_tool("taskset"),
        "-c",
        str(CLIENT_CORE),
        need_tool("wrk"),
        f"-t{min(THREADS, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
    ]
    if url.name != TRIVIAL:  # the trivial reference goes without a session
        command += ["-H", f"Cookie: {COOKIE_NAME}={server.cookie}"]
    if url.htmx:
        command += ["-H", "HX-Request: true"]
    pids = server.pids()
    ticks, started = cpu_ticks(pids), time.monotonic()
    result = subprocess.run(  # noqa: S603
        [*command, server.url(server.path(url))], capture_output=True, text=True, check=False
    )
    used = (cpu_ticks(pids) - ticks) / CLOCK_TICKS / (time.monotonic() - started)
    if result.returncode:
        raise Unavailable(f"wrk failed: {result.stderr.strip() or result.stdout.strip()}")
    server.wait_idle()
    run = parse_wrk(result.stdout)
    run.cpu_share = used
    return run


def parse_wrk(output: str) -> Run:
    found = re.search(r"Requests/sec:\s*([\d.]+)", output)
    if not found:
        raise Unavailable(f"wrk printed no Requests/sec:\n{output}")
    latencies = {
        percent: float(value) * UNIT_MS[unit] for percent, value, unit in LATENCY.findall(output)
    }
    problems = []
    if errors := re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output):
        problems.append(f"{errors[1]} non-2xx answers")
    if sockets := re.search(r"Socket errors: (.*)", output):
        problems.append(f"socket errors: {sockets[1].strip()}")
    return Run(
        rps=float(found[1]),
        p50_ms=latencies.get("50", float("nan")),
        p99_ms=latencies.get("99", float("nan")),
        problem="; ".join(problems),
    )


# --- measuring --------------------------------------------------------------------------------


def check_urls(servers: dict[str, Server], results: list[Result]) -> None:
    """Every URL with the cookie on both demos: 200 is measured, 404 is «not available» (not
    written yet), anything else a problem; so is a page that sets the session cookie again. A
    reference must answer 200."""
    for result in results:
        url = result.url
        for size, server in servers.items():
            path = server.path(url)
            if "{meter_id}" in url.path and server.meter_id is None:
                result.note = "not available: account 1080000001 has no meter"
                continue
            cookie = "" if url.name == TRIVIAL else server.cookie
            status, response, body = server.request(path, cookie=cookie, htmx=url.htmx)
            result.status[size] = status
            if 300 <= status < 400:
                result.problems.append(f"{path} redirects to {response.getheader('Location')}")
            if url.htmx and status == 200 and re.search(r"<html|<!doctype", body, re.I):
                result.problems.append("the fragment is a whole page")
            if cookie and session_cookie(response, COOKIE_NAME):
                # A browser keeps the new cookie; wrk would send the login's every time, and
                # every request would pay for what a browser's pays for once.
                result.problems.append(f"{path} sets the session cookie again")
        statuses = set(result.status.values())
        if url.is_reference and statuses != {200}:
            raise Unavailable(f"{url.name} ({url.path}) answered {sorted(statuses)}")
        if result.note or statuses == {200}:
            continue
        if statuses == {404}:
            result.note = "not available (404: not written yet?)"
        else:
            detail = ", ".join(f"{size}: HTTP {code}" for size, code in result.status.items())
            result.note = "; ".join([f"not measured: {detail}", *result.problems])
            result.problems.append(result.note)


def measure(engine_name: str, options: argparse.Namespace, secret_key: str) -> tuple[list, int]:
    """One database engine: serve both demos, check, warm, then the interleaved repeats."""
    databases = demo_databases(engine_name)
    meters = {size: prepare_subscriber(database) for size, database in databases.items()}
    for database in databases.values():
        warm_database(database)
    results = [Result(Url(*entry)) for entry in URLS if selected(entry[0], options.only)]
    with serving(databases, secret_key, options.env) as servers:
        title = servers[LARGE].database.title
        for size, server in servers.items():
            server.meter_id = meters[size]
            server.login()
        workers = servers[LARGE].workers()
        check_urls(servers, results)
        for result in results:
            if not result.available:
                log(f"{title}: {result.url.name}: {result.note}")
        measured = [result for result in results if result.available]
        log(f"{title}: warming up {len(measured)} URLs on both demos")
        for result in measured:
            for size in sizes_of(result.url):
                wrk(servers[size], result.url, LATENCY_CONNECTIONS, options.warmup)
        for repeat in range(1, options.repeats + 1):
            if engine_name == "postgresql":
                pin_backends(servers)  # the pools' connections, opened by now
            log(f"{title}: repeat {repeat} of {options.repeats}")
            measure_repeat(servers, measured, repeat, options)
        # The session must have lasted: otherwise wrk may have measured redirects.
        for server in servers.values():
            if server.request(NOOP_PATH, cookie=server.cookie)[0] != 200:
                raise Unavailable(f"{server.title}: the session ended during the run")
    return results, workers


def measure_repeat(
    servers: dict[str, Server], measured: list[Result], repeat: int, options: argparse.Namespace
) -> None:
    """Each URL in turn: req/s on both demos back to back (the large one first in odd repeats),
    then the latency at 8 connections on the large one. A page's runs come between two of the
    no-op, whose mean is the page's reference."""
    noop = next(result for result in measured if result.url.name == NOOP)

    def measure_noop() -> float:
        """One req/s run of the no-op; its failures count as the no-op's."""
        run = wrk(servers[LARGE], noop.url, CONNECTIONS, options.duration)
        if run.problem:
            noop.problems.append(f"{LARGE}: {run.problem}")
        return run.rps

    before = None  # the no-op's req/s just before the page
    for result in measured:
        url = result.url
        sizes = sizes_of(url)
        if not url.is_reference and before is None:
            before = measure_noop()
        for size in sizes if repeat % 2 else reversed(sizes):
            run = wrk(servers[size], url, CONNECTIONS, options.duration)
            result.rps[size].append(run.rps)
            result.cpu_share.append(run.cpu_share)
            if run.problem:
                result.problems.append(f"{size}: {run.problem}")
        around = ""
        if not url.is_reference:
            after = measure_noop()
            result.noop_rps.append((before + after) / 2)
            around = f", no-op around it: {result.noop_rps[-1]:,.0f}"
            before = after
        run = wrk(servers[LARGE], url, LATENCY_CONNECTIONS, options.latency_duration)
        result.p50_ms.append(run.p50_ms)
        result.p99_ms.append(run.p99_ms)
        if run.problem:
            result.problems.append(f"{LARGE} at {LATENCY_CONNECTIONS}: {run.problem}")
        small = f" (100 accounts: {result.rps[SMALL][-1]:,.0f})" if result.rps[SMALL] else ""
        log(
            f"  {url.name}: {result.rps[LARGE][-1]:,.0f} req/s{small}{around}, p99 at "
            f"{LATENCY_CONNECTIONS}: {run.p99_ms:.1f} ms, core {SERVER_CORE} used "
            f"{min(result.cpu_share[-len(sizes) :]):.0%}"
        )


def sizes_of(url: Url) -> tuple[str, ...]:
    """The demos a URL is measured on: the references on the large one only."""
    return (LARGE,) if url.is_reference else (LARGE, SMALL)


def selected(name: str, only: list[str] | None) -> bool:
    return name in REFERENCES or not only or name in only


# --- the table --------------------------------------------------------------------------------


def verdict(engine_name: str, result: Result, trivial: Result, noop: Result) -> tuple[str, bool]:
    """The result column: OK, or the targets missed; and whether it is a failure."""
    if not result.available:
        return result.note, bool(result.problems)
    missed = []
    if result.url.name == NOOP:
        ratio = median(ratios(result.rps[LARGE], trivial.rps[LARGE]))
        target = NOOP_OVER_TRIVIAL[engine_name]
        if ratio < target:
            missed.append(f"×trivial {ratio:.2f} < {target:.2f}")
    elif not result.url.is_reference:
        ratio = median(ratios(result.rps[LARGE], result.noop_rps))
        target = PAGE_OVER_NOOP[engine_name]
        if ratio < target:
            missed.append(f"×no-op {ratio:.2f} < {target:.2f}")
        scale = median(ratios(result.rps[LARGE], result.rps[SMALL]))
        if scale < LARGE_OVER_SMALL:
            missed.append(f"100k/100 {scale:.2f} < {LARGE_OVER_SMALL:.2f}")
    if engine_name in P99_MS and result.url.name not in (TRIVIAL, FRAME):
        p99 = median(result.p99_ms)
        if p99 >= P99_MS[engine_name]:
            missed.append(f"p99 {p99:.0f} ≥ {P99_MS[engine_name]:.0f} ms")
    missed += result.problems
    if missed:
        return "MISSED: " + "; ".join(missed), True
    return ("reference" if result.url.name in (TRIVIAL, FRAME) else "OK"), False


def number(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def print_table(engine_name: str, title: str, results: list[Result]) -> bool:
    """The table of one database; True if every target is met."""
    by_name = {result.url.name: result for result in results}
    trivial, noop, frame = by_name[TRIVIAL], by_name[NOOP], by_name[FRAME]
    header = (
        "page",
        "req/s",
        "×trivial",
        "×no-op",
        "×frame",
        f"p50 ms@{LATENCY_CONNECTIONS}",
        f"p99 ms@{LATENCY_CONNECTIONS}",
        "req/s 100",
        "100k/100",
        "range",
        "cpu %",
        "result",
    )
    lines, ok = [header], True
    for result in results:
        text_, failed = verdict(engine_name, result, trivial, noop)
        ok = ok and not failed
        if not result.available:
            lines.append((result.url.name, *("-" * 10), text_))
            continue
        large = result.rps[LARGE]
        scale = ratios(large, result.rps[SMALL])
        lines.append(
            (
                result.url.name + (" (htmx)" if result.url.htmx else ""),
                number(median(large), ",.0f"),
                number(median(ratios(large, trivial.rps[LARGE]))),
                number(median(ratios(large, result.noop_rps or noop.rps[LARGE]))),
                number(median(ratios(large, frame.rps[LARGE]))),
                number(median(result.p50_ms), ".1f"),
                number(median(result.p99_ms), ".1f"),
                number(median(result.rps[SMALL]), ",.0f"),
                number(median(scale)),
                f"{min(scale):.2f}–{max(scale):.2f}" if scale else "-",
                number(min(result.cpu_share, default=None), ".0%").rstrip("%"),
                text_,
            )
        )
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    print(f"\n{title}")
    for index, line in enumerate(lines):
        cells = [
            cell.ljust(width) if column in (0, len(header) - 1) else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    p99 = (
        f"p99 at {LATENCY_CONNECTIONS} connections < {P99_MS[engine_name]:.0f} ms; "
        if (engine_name in P99_MS)
        else ""
    )
    print(
        f"targets: no-op ×trivial ≥ {NOOP_OVER_TRIVIAL[engine_name]:.2f}; pages ×no-op ≥ "
        f"{PAGE_OVER_NOOP[engine_name]:.2f}; {p99}pages 100k/100 ≥ {LARGE_OVER_SMALL:.2f}. "
        "Medians of the repeats; range: 100k/100 over the repeats."
    )
    print(
        "×no-op of a page: over the mean of the no-op's runs just before and after it. "
        "×frame: over the no-op with the cabinet's frame rendered around an empty page; no "
        "target (bench_app.py)."
    )
    print(
        f"cpu %: the least share of core {SERVER_CORE} that the server (gunicorn's workers, and "
        "PostgreSQL's backends) used in a req/s run of the page; well below 100, something else "
        f"ran on the core. The trivial route's req/s over the repeats: "
        f"{min(trivial.rps[LARGE]):,.0f}–{max(trivial.rps[LARGE]):,.0f}."
    )
    return ok


# --- main -----------------------------------------------------------------------------------


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--db",
        default="both",
        choices=("sqlite", "postgresql", "both"),
        help="the database engine(s) (default: both)",
    )
    parser.add_argument(
        "--only",
        metavar="NAME[,NAME…]",
        help="measure only these pages (the references always): "
        + ", ".join(f"'{name}'" for name, *_ in URLS if name not in REFERENCES),
    )
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats (default: 3)")
    parser.add_argument(
        "--duration",
        type=float,
        default=10,
        help=f"seconds of each req/s run at {CONNECTIONS} connections (default: 10)",
    )
    parser.add_argument(
        "--latency-duration",
        type=float,
        default=3,
        help=f"seconds of each latency run at {LATENCY_CONNECTIONS} connections (default: 3)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=2,
        help="seconds of the warm-up run of each URL on each server (default: 2)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for both servers, to try a change, e.g. "
        "LKABONENT_SQLALCHEMY_ENGINE_OPTIONS='{\"pool_pre_ping\": false}' (repeatable)",
    )
    options = parser.parse_args(argv)
    try:
        options.env = dict(item.split("=", 1) for item in options.env)
    except ValueError:
        parser.error("--env: NAME=VALUE")
    options.db = ["sqlite", "postgresql"] if options.db == "both" else [options.db]
    if options.only:
        options.only = [name.strip() for name in options.only.split(",") if name.strip()]
        unknown = set(options.only) - {name for name, *_ in URLS}
        if unknown:
            parser.error(f"--only: no page {', '.join(sorted(unknown))}")
    if options.repeats < 1 or min(options.duration, options.latency_duration) < 1:
        parser.error("--repeats and the durations must be at least 1")
    return options


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    started = time.monotonic()
    load = os.getloadavg()[0]
    if os.cpu_count() < 2:
        raise Unavailable("the benchmark needs 2 cores: one for the server, one for wrk")
    need_tool("wrk")
    need_tool("taskset")
    code = describe_code()
    end_month = parse_month(DEFAULT_END_MONTH)
    demo_options = argparse.Namespace(copy_sqlite_from=None, pg_template=None)
    for engine_name in options.db:
        for size, database in demo_databases(engine_name).items():
            spec = Spec(SIZES[size], DEFAULT_MONTHS, DEFAULT_SEED, end_month)
            ensure_demo(database, spec, demo_options)

    secret_key = secrets.token_hex(32)
    tables = []
    for engine_name in options.db:
        large = demo_databases(engine_name)[LARGE]
        results, workers = measure(engine_name, options, secret_key)
        tables.append((engine_name, large, results))
    print(
        f"\nThe cabinet's pages under gunicorn: demos of {SIZES[LARGE]:,} and {SIZES[SMALL]} "
        f"accounts × {DEFAULT_MONTHS} months (seed {DEFAULT_SEED}, to "
        f"{DEFAULT_END_MONTH}), subscriber with {len(BENCH_ACCOUNTS)} accounts"
    )
    print(f"code: {code}")
    if describe_code() != code:
        print("WARNING: the code changed during the run; the runs measured different code")
    describe_machine([database for _, database, _ in tables])
    print(
        f"gunicorn: gunicorn.conf.py, {workers} sync workers on core "
        f"{SERVER_CORE}; wrk -t{THREADS} -c{CONNECTIONS} -d{options.duration:g}s on core "
        f"{CLIENT_CORE}; latency at -c{LATENCY_CONNECTIONS} -d{options.latency_duration:g}s; "
        f"{options.repeats} repeat(s)"
    )
    for name, value in options.env.items():
        print(f"experiment: {name}={value}")
    print(
        f"load average before the run: {load:.2f} (the benchmark's own is about 2 while it "
        "runs; other work on the machine skews every figure)"
    )
    ok = True
    for engine_name, database, results in tables:
        ok = print_table(engine_name, f"{database.title}:", results) and ok
    minutes, seconds = divmod(round(time.monotonic() - started), 60)
    print(f"\nthe run took {minutes} min {seconds} s")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (Unavailable, subprocess.CalledProcessError) as error:
        print(f"pages_bench: {error}", file=sys.stderr)
        sys.exit(2)
