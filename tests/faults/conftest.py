"""Fault tests: the portal while a server it needs is stopped, restarted or shared, and while
gunicorn is told to stop. Every module starts the servers it breaks (tests/faults/servers.py)
on free ports of loopback, so that stopping one harms no other test, and marks its tests
`faults`. They own their databases, so they need no second run on PostgreSQL: `make test` runs
them in its first pass only (`-m "not faults"` in the second).

Here tests/conftest.py's fixtures (make_app, app, client, accounts) work on the module's own
PostgreSQL cluster: a copy of one migrated once per run.
"""

import shutil

import flask_migrate
import pytest

from conftest import free_port, settings
from lkabonent import create_app
from lkabonent.extensions import db

from .servers import POSTGRES_BIN, PostgresCluster, RedisServer


@pytest.fixture(scope="session")
def postgres_template():
    """A stopped PostgreSQL cluster whose database «postgres» is migrated (`flask db upgrade`):
    what every module's cluster is copied from."""
    if not POSTGRES_BIN:
        pytest.skip("PostgreSQL's server programs are not installed (apt-get install postgresql)")
    cluster = PostgresCluster.initialize()
    try:
        cluster.start()
        app = create_app(settings(cluster.url(), free_port()))
        with app.app_context():
            flask_migrate.upgrade()
            db.engine.dispose()
        cluster.stop()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="module")
def postgres(postgres_template):
    """This module's own running PostgreSQL cluster, migrated."""
    cluster = postgres_template.copy()
    cluster.start()
    yield cluster
    cluster.remove()


@pytest.fixture(scope="module")
def database_url(postgres):
    """The database of tests/conftest.py's fixtures: this module's cluster. Their make_app
    empties its tables after each test."""
    return postgres.url()


@pytest.fixture(scope="module")
def redis_server():
    """This module's own running Redis."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer()
    server.start()
    yield server
    server.stop()
