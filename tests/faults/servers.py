"""The servers a fault test owns, so that stopping one harms no other test: a PostgreSQL cluster,
a Redis and an SMTP server on free ports of loopback, and the portal served by gunicorn (or run
as `flask`) in its production configuration, with a browser's share of HTTP to talk to it."""

import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import suppress
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import redis
from aiosmtpd.controller import Controller

from conftest import CSRF_TOKEN, MailSink, free_port
from lkabonent import config as default_config

ROOT = Path(__file__).resolve().parents[2]
# Debian's PostgreSQL server programs (initdb, pg_ctl): postgresql-<major>, the newest installed.
POSTGRES_BIN = max(
    glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(path.split("/")[-2]), default=""
)
STARTUP_SECONDS = 60


def wait_for(ready, what: str, timeout: float = STARTUP_SECONDS) -> None:
    """Poll ``ready()`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(0.05)


def refuses_connections(port: int) -> bool:
    """Whether nothing listens on the loopback port any more."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


# --- PostgreSQL --------------------------------------------------------------------------------


def _as_postgres(command: list[str]) -> list[str]:
    """initdb and the server refuse to run as root: as root, run them as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _private_directory(prefix: str) -> Path:
    """A fresh directory in /tmp that the PostgreSQL programs may write (pytest's own temporary
    directories are closed to other users)."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    return directory


class PostgresCluster:
    """A PostgreSQL cluster in a directory of its own, listening on a free port of loopback
    (and on a Unix socket in that directory only). Trust authentication, user postgres;
    fsync off: a test's data need not survive a crash of the machine."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()

    @classmethod
    def initialize(cls) -> "PostgresCluster":
        """A new, stopped cluster (initdb: about 3 s here)."""
        cluster = cls(_private_directory("lkabonent-pg-"))
        cls._run(
            POSTGRES_BIN + "/initdb",
            "--pgdata",
            str(cluster.data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",
            "--no-sync",
        )
        return cluster

    def copy(self) -> "PostgresCluster":
        """A stopped copy of this stopped cluster, on another port: a fraction of initdb's time."""
        twin = PostgresCluster(_private_directory("lkabonent-pg-"))
        self._run("cp", "-a", str(self.data), str(twin.data))
        return twin

    @staticmethod
    def _run(*command: str) -> None:
        arguments = _as_postgres(list(command))
        done = subprocess.run(arguments, capture_output=True, text=True)  # noqa: S603
        assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}{done.stderr}"

    def url(self) -> str:
        """The SQLAlchemy URL of the cluster's database «postgres»."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        log = str(self.directory / "server.log")
        self._run(
            POSTGRES_BIN + "/pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        """Stop at once, as an administrator's restart does: open sessions are cut."""
        self._run(POSTGRES_BIN + "/pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def remove(self) -> None:
        if self.running():
            self.stop()
        shutil.rmtree(self.directory)


# --- Redis and SMTP ----------------------------------------------------------------------------


class RedisServer:
    """redis-server on a free port of loopback, without persistence."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            shutil.which("redis-server"),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
        wait_for(self.answers, "redis-server did not answer")

    def answers(self) -> bool:
        with suppress(redis.ConnectionError):
            return bool(redis.Redis.from_url(self.url).ping())
        return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


class SmtpServer:
    """aiosmtpd on one free port of loopback that can be stopped and started again; the
    messages it received, over all its runs, in ``messages``."""

    def __init__(self):
        self.port = free_port()
        self.sink = MailSink()
        self.controller: Controller | None = None

    @property
    def messages(self) -> list:
        return self.sink.messages

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None


# --- the portal as it runs in production --------------------------------------------------------

SECRET_KEY = "fault tests' secret key, long enough for production"
# Requisites that differ from config.py's example ones, which production refuses.
PAYEE = {**default_config.PAYEE, "name": "Получатель для тестов отказов"}


def portal_environment(database_url: str, **settings) -> dict[str, str]:
    """The environment of a production portal on ``database_url``: this process's, without
    its LKABONENT_*, GUNICORN_* and FLASK_* variables, plus the settings production requires
    and ``settings`` (names without the LKABONENT_ prefix, values as JSON text)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("LKABONENT_", "GUNICORN_", "FLASK_"))
    }
    values = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_URL": "http://127.0.0.1",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": free_port(),  # nothing listens there unless a test says otherwise
        "SESSION_COOKIE_SECURE": False,  # plain HTTP on loopback
        "PAYEE": PAYEE,
        **settings,
    }
    env |= {
        f"LKABONENT_{name}": value if isinstance(value, str) else json.dumps(value)
        for name, value in values.items()
    }
    return env | {"FLASK_APP": "lkabonent"}


def flask_command(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    """`flask ARGUMENTS` in the project's folder, as cron would run it."""
    return subprocess.run(  # noqa: S603 - this interpreter's flask
        [sys.executable, "-m", "flask", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
    )


class Gunicorn:
    """The portal under gunicorn with the project's gunicorn.conf.py, on a free port; its
    output in ``log_path``."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 1):
        self.port = free_port()
        self.log_path = log_path
        self.env = env | {
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start gunicorn without waiting for it: several start faster side by side."""
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "wsgi:app",
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - this interpreter's gunicorn
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self) -> None:
        wait_for(self.ready, f"gunicorn did not answer /healthz (see {self.log_path})")

    def ready(self) -> bool:
        assert self.process.poll() is None, f"gunicorn exited; see {self.log_path}"
        with suppress(OSError):
            return Browser().get(self.url("/healthz")).status == 200
        return False

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STARTUP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: str


class Browser:
    """What a browser without JavaScript does over HTTP: it keeps cookies (every server here is
    on loopback, so one jar for all), sends forms with the CSRF token of its session, and does
    not follow redirects, so that a test sees them."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, form: dict | None = None) -> Response:
        parts = urllib.parse.urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=STARTUP_SECONDS)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(form)
        try:
            connection.request(
                method, parts.path + (f"?{parts.query}" if parts.query else ""), body, headers
            )
            answer = connection.getresponse()
            response = Response(answer.status, answer.headers, answer.read().decode())
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or ():
            cookie = SimpleCookie(header)
            for name, morsel in cookie.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response

    def get(self, url: str) -> Response:
        return self.request("GET", url)

    def post(self, url: str, form: dict) -> Response:
        """POST a form with the CSRF token of this browser's session, read from a page of the
        same server as a browser gets it with the form."""
        parts = urllib.parse.urlsplit(url)
        page = self.get(f"{parts.scheme}://{parts.netloc}/help/privacy").body
        return self.request("POST", url, {**form, "csrf_token": CSRF_TOKEN.search(page).group(1)})
