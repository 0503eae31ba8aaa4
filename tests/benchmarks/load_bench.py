"""Load benchmark of the portal as deployed: `make bench-load` (BENCH_ARGS=--help).

    make bench-load
    make bench-load BENCH_ARGS="--duration 10"

It runs in the stack that .ci/deploy-check builds and checks first (`.ci/deploy-check --serve`):
the shipped nginx site over HTTPS in front of gunicorn with gunicorn.conf.py (5 sync workers on
2 cores), PostgreSQL and Redis on loopback, the settings of deploy/lkabonent.env. Outside the
check's network namespace, where PostgreSQL is, it fills the check's new database with the demo
(`flask demo seed`) and makes the page benchmark's subscriber (pages_bench.prepare_subscriber);
then, inside it, where nginx listens on 127.0.0.1:443, it logs in as a browser does and loads
each page of PAGES, one after the other:

- `wrk --timeout 10s` with 200 connections for --duration (60) seconds: req/s, p50 and p99;
- the same again while another client (127.0.0.2) tries wrong passwords at «Войти», 100 a
  second: an attacker guessing passwords.

Targets: no socket errors and no answer other than 2xx in any run; the burst is throttled (every
answer 429 beyond what LKABONENT_PASSWORD_FAILURE_LIMIT_PER_CLIENT lets through, and nothing
else but the form's 422); under the burst each page's p99 at most twice its p99 without it.
Most of the burst never reaches the portal: nginx's flood guard (deploy/nginx.conf) answers it
429 itself. The burst's 429s are counted apart by who answered: the portal's carry its
X-Request-ID, nginx's own page does not. The portal's limit counts a wrong password once its
answer is made, so the requests that passed its check meanwhile, one per gunicorn worker at
most, get through too: they are added to what the limit lets through. The exit code is 1 when
a target is missed, 2 when the benchmark cannot run. It needs root (the network namespace), wrk
(`apt-get install wrk`) and what .ci/deploy-check needs; it takes about 9 minutes. This is not
a test, and CI does not run it.
"""

import argparse
import http.client
import math
import os
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from import_bench import ROOT, Database, Unavailable, log
from limits import parse_many
from pages_bench import (
    COOKIE_NAME,
    Run,
    children,
    log_in,
    login_form,
    need_tool,
    parse_wrk,
    prepare_subscriber,
    send,
)

from lkabonent import HOST_PREFIX
from lkabonent import config as default_config

# The pages loaded: (name, path, logged in).
PAGES = (
    ("start", "/", False),
    ("login form", "/login", False),
    ("privacy policy", "/help/privacy", False),
    ("main page", "/cabinet/", True),
)
CONNECTIONS, THREADS, TIMEOUT = 200, 2, "10s"
BURST_RATE = 100  # wrong logins a second
# Attempts in flight at most: under the load an answer takes seconds, and the attacker does not
# wait for one before sending the next.
BURST_CONNECTIONS = 400
BURST_CLIENT = "127.0.0.2"  # the attacker's address: the pages' client is 127.0.0.1
P99_UNDER_BURST = 2.0  # at most this many times the page's p99 without the burst
# The burst's answers that throttle it, by who answered (the portal's carry an X-Request-ID).
NGINX_429, PORTAL_429, FORM_422 = "429 from nginx", "429 from the portal", "422"
# The session cookie in production: Secure, bound to the host.
PRODUCTION_COOKIE = HOST_PREFIX + COOKIE_NAME
HOST = "127.0.0.1"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--duration", type=float, default=60, help="seconds of each wrk run (default 60)"
    )
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def prepare() -> None:
    """Outside the namespace: the demo and the subscriber in the check's database."""
    database = Database("postgresql", os.environ["LKABONENT_DATABASE_URL"])
    log(f"the demo into {database.database} (flask demo seed)")
    subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "demo", "seed"], check=True)  # noqa: S603
    prepare_subscriber(database)


class Client:
    """HTTPS requests to nginx from one local address, trusting the check's certificate
    authority: on a new connection each, or on the calling thread's own connection, kept open
    between its requests (``keep_open``) as a client that sends many does."""

    def __init__(self, address: str):
        self.address = address
        self.tls = ssl.create_default_context(cafile=os.environ["DEPLOY_CHECK_CA"])
        self.kept = threading.local()

    def connect(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            HOST, context=self.tls, timeout=30, source_address=(self.address, 0)
        )

    def request(
        self,
        path: str,
        cookie: str = "",
        htmx: bool = False,
        form: dict | None = None,
        keep_open: bool = False,
    ):
        if not keep_open:
            return send(self.connect(), path, PRODUCTION_COOKIE, cookie, htmx, form)
        if getattr(self.kept, "connection", None) is None:
            self.kept.connection = self.connect()
        try:
            return send(self.kept.connection, path, PRODUCTION_COOKIE, cookie, htmx, form, True)
        except (OSError, http.client.HTTPException):
            self.kept.connection.close()  # closed by nginx (keepalive_requests): a new one next
            self.kept.connection = None
            raise


def wrk(path: str, cookie: str, seconds: float) -> Run:
    """One wrk run against a page, with the session cookie if given."""
    command = [
        need_tool("wrk"),
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        TIMEOUT,
        "--latency",
    ]
    if cookie:
        command += ["-H", f"Cookie: {PRODUCTION_COOKIE}={cookie}"]
    result = subprocess.run(  # noqa: S603 - wrk from PATH
        [*command, f"https://{HOST}{path}"], capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise Unavailable(f"wrk failed: {result.stderr.strip() or result.stdout.strip()}")
    return parse_wrk(result.stdout)


def login_burst(seconds: float, answers: Counter) -> None:
    """Wrong passwords at «Войти» from BURST_CLIENT, BURST_RATE a second for ``seconds``, on up
    to BURST_CONNECTIONS connections kept open; the statuses (429 by who answered it) or the
    errors counted in ``answers``. Attempts that could not be sent in time (all connections
    waiting for their answers) are left out when the time is up."""
    attacker = Client(BURST_CLIENT)
    cookie, token = login_form(attacker.request, PRODUCTION_COOKIE)
    form = {"email": "guess@lkabonent.test", "password": "wrong password", "csrf_token": token}

    counting = threading.Lock()

    def attempt() -> None:
        try:
            status, response, _ = attacker.request(
                "/login", cookie=cookie, form=form, keep_open=True
            )
            answer = str(status)
            if status == 429:
                answer = PORTAL_429 if response.getheader("X-Request-ID") else NGINX_429
        except (OSError, http.client.HTTPException) as error:
            answer = type(error).__name__
        with counting:
            answers[answer] += 1

    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=BURST_CONNECTIONS)
    for number in range(round(seconds * BURST_RATE)):
        delay = started + number / BURST_RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        pool.submit(attempt)
    pool.shutdown(cancel_futures=True)


def allowed_failures(seconds: float) -> int:
    """How many wrong passwords the per-client limit lets through in ``seconds``, at most: what
    it allows, and one in each worker that passed the check before the count went up."""
    limit = os.environ.get(
        "LKABONENT_PASSWORD_FAILURE_LIMIT_PER_CLIENT",
        default_config.PASSWORD_FAILURE_LIMIT_PER_CLIENT,
    )
    workers = len(children(int(os.environ["DEPLOY_CHECK_GUNICORN_PID"])))
    windows = parse_many(limit)
    return min(item.amount * math.ceil(seconds / item.get_expiry()) for item in windows) + workers


def milliseconds(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def measure(options: argparse.Namespace) -> bool:
    """Inside the namespace: every page without and with the burst; the table; True if every
    target is met."""
    need_tool("wrk")
    client = Client(HOST)
    cookie = log_in(client.request, PRODUCTION_COOKIE)
    for _, path, logged_in in PAGES:
        status, _, _ = client.request(path, cookie=cookie if logged_in else "")
        if status != 200:
            raise Unavailable(f"{path} answered {status}, not 200")
    rows, ok = [], True
    for name, path, logged_in in PAGES:
        session = cookie if logged_in else ""
        log(f"{name} ({path}): {CONNECTIONS} connections for {options.duration:g} s")
        quiet = wrk(path, session, options.duration)
        log(f"{name} ({path}): the same, with {BURST_RATE} wrong logins a second")
        answers: Counter = Counter()
        burst = threading.Thread(target=login_burst, args=(options.duration, answers))
        burst.start()
        loud = wrk(path, session, options.duration)
        burst.join()
        problems = [
            f"{label}: {run.problem}"
            for label, run in (("alone", quiet), ("burst", loud))
            if run.problem
        ]
        other = sum(answers[answer] for answer in answers if answer not in (NGINX_429, PORTAL_429))
        if set(answers) - {NGINX_429, PORTAL_429, FORM_422}:
            problems.append(f"the burst got {dict(answers)}")
        if other > allowed_failures(options.duration):
            problems.append(f"{other} logins not throttled")
        ratio = loud.p99_ms / quiet.p99_ms
        if ratio > P99_UNDER_BURST:
            problems.append(f"p99 ×{ratio:.2f} under the burst")
        ok = ok and not problems
        rows.append((name, path, quiet, loud, ratio, answers, problems))

    print(
        f"\nThe portal as deployed (.ci/deploy-check): nginx (HTTPS) → gunicorn "
        f"(gunicorn.conf.py, {os.cpu_count()} cores) → PostgreSQL, Redis; wrk -t{THREADS} "
        f"-c{CONNECTIONS} -d{options.duration:g}s --timeout {TIMEOUT}; burst: {BURST_RATE} wrong "
        f"logins a second from {BURST_CLIENT}"
    )
    header = ("page", "req/s", "p50 ms", "p99 ms", "burst req/s", "p50 ms", "p99 ms", "p99 ×")
    print("  ".join(f"{cell:>11}" if index else f"{cell:<28}" for index, cell in enumerate(header)))
    for name, path, quiet, loud, ratio, answers, problems in rows:
        cells = (
            f"{name} {path}",
            f"{quiet.rps:,.0f}",
            milliseconds(quiet.p50_ms),
            milliseconds(quiet.p99_ms),
            f"{loud.rps:,.0f}",
            milliseconds(loud.p50_ms),
            milliseconds(loud.p99_ms),
            f"{ratio:.2f}",
        )
        print(
            "  ".join(f"{cell:>11}" if index else f"{cell:<28}" for index, cell in enumerate(cells))
        )
        logins = ", ".join(f"{answer}: {count}" for answer, count in sorted(answers.items()))
        rate = sum(answers.values()) / options.duration
        print(f"{'':<28}  the burst's answers ({rate:.0f} a second): {logins}")
        for problem in problems:
            print(f"{'':<28}  MISSED: {problem}")
    print(
        f"targets: no socket errors, only 2xx answers; the burst's answers 429 (nginx's flood "
        f"guard or the portal) beyond the portal's per-client limit and the workers' requests "
        f"in flight "
        f"({allowed_failures(options.duration)} in {options.duration:g} s), "
        f"422 before it; p99 under the burst ≤ {P99_UNDER_BURST:g} × p99 without it"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    if options.inside:
        return 0 if measure(options) else 1
    if "DEPLOY_CHECK_NETNS_PID" not in os.environ:
        raise Unavailable("run it by `make bench-load` (.ci/deploy-check --serve …)")
    prepare()
    # The measurement runs in the namespace of nginx: this script again, entered into it.
    inside = [
        need_tool("nsenter"),
        "--target",
        os.environ["DEPLOY_CHECK_NETNS_PID"],
        "--net",
        "--",
        sys.executable,
        str(Path(__file__).resolve()),
        "--inside",
        *(argv if argv is not None else sys.argv[1:]),
    ]
    return subprocess.run(inside, check=False).returncode  # noqa: S603


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (Unavailable, subprocess.CalledProcessError) as error:
        print(f"load_bench: {error}", file=sys.stderr)
        sys.exit(2)
