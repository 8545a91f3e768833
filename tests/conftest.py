"""Fixtures: a fresh app and database per test, on SQLite and on a real PostgreSQL server, on
the offline payment gateway unless a folder switches ``gateway_kind`` to ``stripe``
(localstripe behind a fault-injecting proxy, see ``tests/processor.py``).

``TEST_DATABASES=sqlite`` (or ``postgresql``) narrows a local run to one backend.
"""

from __future__ import annotations

import itertools
import os
import shutil

import pytest
from sqlalchemy import create_engine, text

from admin_app import create_app
from admin_app.extensions import db
from tests.pg import PostgresServer
from tests.processor import FaultyProxy, OfflineProcessor, StripeProcessor, stripe_config

pytest_plugins = ["tests.localstripe"]

BACKENDS = [b for b in os.environ.get("TEST_DATABASES", "sqlite,postgresql").split(",") if b]
_db_names = itertools.count()


def _migrate(url: str, instance_dir: str) -> None:
    """Build the schema through the real Alembic migrations."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "SECRET_KEY": "test", "OFFLINE_GATEWAY_URL": "sqlite://",
                      "JOBS_IMMEDIATE": True})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    _migrate(f"sqlite:///{path}", str(path.parent))
    return str(path)


@pytest.fixture(scope="session")
def pg_server():
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server) -> str:
    admin = create_engine(pg_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE app_template"))
    admin.dispose()
    _migrate(pg_server.url("app_template"), pg_server.dir)
    return "app_template"


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """The database server a test runs on: each test runs on every one of ``BACKENDS``."""
    return request.param


@pytest.fixture
def database_url(backend, request, tmp_path):
    """A database with the migrated schema, new for each test."""
    if backend == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_template")
    name = f"test_{os.getpid()}_{next(_db_names)}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield server.url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def gateway_kind() -> str:
    """The payment gateway the panel runs on: ``offline``, or ``stripe`` where a folder's
    conftest says so."""
    return "offline"


@pytest.fixture
def stripe_proxy(localstripe):
    """localstripe behind a proxy that can fail on demand (``processor.set_down``...)."""
    proxy = FaultyProxy(localstripe)
    yield proxy
    proxy.stop()


@pytest.fixture
def app_config(database_url, tmp_path, gateway_kind, request) -> dict:
    config = {"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "SECRET_KEY": "test",
              "WTF_CSRF_ENABLED": False, "DEFAULT_CURRENCY": "USD",
              # Every test signs in from 127.0.0.1: the sign-in rate limit has its own test.
              "RATELIMIT_ENABLED": False,
              "OFFLINE_GATEWAY_URL": f"sqlite:///{tmp_path / 'offline_gateway.sqlite3'}",
              "JOBS_URL": f"sqlite:///{tmp_path / 'jobs.sqlite3'}"}
    if gateway_kind == "stripe":
        config.update(stripe_config(request.getfixturevalue("stripe_proxy").url))
    return config


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def processor(app, gateway_kind, request):
    """The payment processor behind the panel, as the tests see it (``tests/processor.py``)."""
    if gateway_kind == "stripe":
        return StripeProcessor(request.getfixturevalue("localstripe"),
                               request.getfixturevalue("stripe_proxy"))
    return OfflineProcessor()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(client, app):
    """``login(role)`` creates an admin user of that role and signs the client in as them."""
    from tests.factories import make_admin

    def _login(role: str = "owner"):
        user = make_admin(role=role)
        response = client.post("/admin/login", data={"email": user.email, "password": "secret-pw"})
        assert response.status_code == 302, response.data
        return user

    return _login
