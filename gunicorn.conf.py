"""Gunicorn settings for lkabonent: `gunicorn -c gunicorn.conf.py wsgi:app`.

A minimal production configuration for a small VPS (2 cores) behind a reverse proxy on the same
host; the production issue refines it. Each setting can be changed by the environment variable
named beside it, so that one file serves the server and the page benchmark
(tests/benchmarks/pages_bench.py). The application itself reads LKABONENT_* (README.md).
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

# Sync workers: the pages are CPU-bound (ORM queries on a local database, Jinja), so one request
# per process at a time, and as many processes as keep the cores busy while others wait for the
# database or the client: gunicorn's classic 2 × cores + 1, i.e. 5 on 2 cores. gthread workers
# did not help CPU-bound pages here (/work/shared/design/TOOLS.md).
worker_class = "sync"
workers = _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1)

# A worker silent for this long is killed and replaced (a stuck request); pages answer in
# milliseconds, the slowest command-like requests (login: argon2 ≈40 ms) well under a second.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On restart or shutdown (SIGTERM, SIGHUP), requests in progress get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Keep-alive to the proxy, seconds: nginx reuses connections to the upstream.
keepalive = _int("GUNICORN_KEEPALIVE", 5)

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
