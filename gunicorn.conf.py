"""Gunicorn settings for lkabonent: `gunicorn -c gunicorn.conf.py wsgi:app`.

The production configuration for a small VPS (2 cores) with nginx in front on the same host:
deploy/lkabonent-web.service starts gunicorn with it, docs/deployment.md tells the rest. Each
setting that differs between machines can be changed by the environment variable named beside
it (in /etc/lkabonent/lkabonent.env), so that one file serves the server, the page benchmark
(tests/benchmarks/pages_bench.py) and the CI's deployment check (.ci/deploy-check). The
application itself reads LKABONENT_* (README.md).
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return value in ("1", "true", "yes", "on") if value else default


# Where to listen: loopback, for a reverse proxy (nginx) on the same host that terminates TLS.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: one request per process at a time. The pages are CPU-bound (ORM queries on a
# local database, Jinja, argon2 at login, WeasyPrint for a receipt's PDF), so threads would only
# queue behind the GIL: gthread workers did not serve CPU-bound pages faster on these machines
# (the page benchmark's method, /work/shared/design/TOOLS.md). What sync workers cannot take is a
# slow client, which would hold a whole process; nginx in front reads each request whole before
# it passes it on and takes the response at once (its buffering, on by default), so a worker is
# busy only while it computes. As many workers as keep the cores busy while others wait for the
# database: gunicorn's classic 2 × cores + 1, i.e. 5 on 2 cores (about 85 MB of memory each, seen
# after serving pages; a worker that has drawn a receipt's PDF holds WeasyPrint too).
worker_class = "sync"
workers = _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1)

# A worker silent for this long is killed and replaced (a stuck request); pages answer in
# milliseconds, the slowest command-like requests (login: argon2 ≈40 ms) well under a second.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On restart or shutdown (SIGTERM, SIGHUP), requests in progress get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# No keep-alive setting: sync workers close the connection after every response whatever it
# says, and nginx opens a new one per request to the upstream anyway (HTTP/1.0 unless told
# otherwise). On loopback a connection costs a few tens of microseconds, a page milliseconds.

# Replace each worker after so many requests (plus a random part, so that they do not all
# restart at once): bounds the growth of any slow leak. 0 switches it off.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# The application is built in each worker, after the fork: no database connection or other
# state is ever shared between processes.
preload_app = False

# Heartbeat files in memory rather than on a disk that may stall (/dev/shm exists on Linux).
if os.path.isdir("/dev/shm"):  # noqa: S108 - gunicorn's own advice for its heartbeat files
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# The proxy on loopback is trusted with X-Forwarded-* (gunicorn's default, stated here).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs go to stderr, which systemd's journal keeps. The access log is off by default: the proxy
# writes one already; GUNICORN_ACCESSLOG=true writes it here too.
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
accesslog = "-" if _flag("GUNICORN_ACCESSLOG", False) else None

# Gunicorn 25.1+ opens a control socket for `gunicornc`, by default at one fixed path in the
# user's home or runtime directory, which a second instance on the host (a benchmark, a staging
# copy) would take over. Off unless GUNICORN_CONTROL_SOCKET names a path for this instance.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]

proc_name = "lkabonent"
