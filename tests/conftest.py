"""Fixtures: the app and its data, on SQLite and on a real PostgreSQL server, on the offline
payment gateway unless a folder switches ``gateway_kind`` to ``stripe`` (localstripe behind a
fault-injecting proxy, see ``tests/processor.py``).

Each test worker (pytest-xdist, one per core) keeps for the whole session: its own PostgreSQL
server, one database per backend (``tests/database_fixtures.py``), one app per configuration,
localstripe and the proxy. Between tests the data is reset rather than rebuilt: the database is
emptied back to its migrated state, the offline gateway's records and switches and localstripe
are emptied, the proxy passes again, the clock runs again, and the app gets back the config it
had and a new gateway object.

- ``backend``: a test that uses the database runs on each of ``BACKENDS``; page tests
  (tests/views, tests/browser) run on ``PAGE_BACKEND`` only, unless marked ``all_databases``
  (a page test about the database: search, filters, export).
- ``@pytest.mark.backends("sqlite")``: a test whose other backends add nothing runs on these.
- ``@pytest.mark.fresh_database``: a new database and an app of the test's own, for tests of
  real concurrent commits from threads.
- ``demo_data``: the demo clinic, seeded once per worker and backend, for tests that read it.
- Action tests choose their payment gateways in ``tests/actions/conftest.py``.

``TEST_DATABASES=sqlite`` (or ``postgresql``) narrows a local run to one backend;
``TEST_PAGE_DATABASE`` picks the page tests' backend.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

from admin_app import create_app
from admin_app.clock import freeze
from admin_app.extensions import db
from admin_app.jobs.engine import huey, init_jobs
from tests.databases import DemoData
from tests.processor import FaultyProxy, OfflineProcessor, StripeProcessor, stripe_config

pytest_plugins = ["tests.database_fixtures", "tests.localstripe", "tests.workers",
                  "tests.delivery_servers"]

BACKENDS = [b for b in os.environ.get("TEST_DATABASES", "sqlite,postgresql").split(",") if b]
PAGE_FOLDERS = ("views", "browser")
PAGE_BACKEND = os.environ.get("TEST_PAGE_DATABASE", "postgresql")
if PAGE_BACKEND not in BACKENDS:
    PAGE_BACKEND = BACKENDS[0]
# A real salted hash, computed once instead of scrypt's 0.1 s (AdminUser.set_password).
TEST_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"

# A loaded machine (two workers, servers, Chromium) is no reason for a property to fail.
settings.register_profile("tests", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "tests"))


def _is_page_test(path: Path) -> bool:
    parts = path.relative_to(Path(__file__).parent).parts
    return len(parts) > 1 and parts[0] in PAGE_FOLDERS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test that uses the database on every backend (page tests on one)."""
    if "backend" not in metafunc.fixturenames or "action_setup" in metafunc.fixturenames:
        return  # action tests pair backends with gateways (tests/actions/conftest.py)
    backends = BACKENDS
    if _is_page_test(metafunc.definition.path) and \
            metafunc.definition.get_closest_marker("all_databases") is None:
        backends = [PAGE_BACKEND]
    only = metafunc.definition.get_closest_marker("backends")
    if only is not None:
        backends = [b for b in backends if b in only.args] or backends[:1]
    metafunc.parametrize("backend", backends, indirect=True)


# --- the payment processor ---------------------------------------------------------------------
@pytest.fixture(scope="session")
def offline_gateway_url(worker_dir) -> str:
    return f"sqlite:///{os.path.join(worker_dir, 'offline_gateway.sqlite3')}"


@pytest.fixture(scope="session")
def jobs_url(worker_dir) -> str:
    """The job engine's queue of this worker's apps (embedded SQLite)."""
    return f"sqlite:///{os.path.join(worker_dir, 'jobs.sqlite3')}"


def _empty_offline_gateway(url: str) -> None:
    """The offline gateway's records and failure switches, emptied (its engine is cached per
    URL, so the file stays and its rows go)."""
    from admin_app.payments.offline import _engine, metadata

    with _engine(url).begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def gateway_kind() -> str:
    """The payment gateway the panel runs on: ``offline``, or ``stripe`` where a folder's
    conftest says so."""
    return "offline"


@pytest.fixture(scope="session")
def _faulty_proxy(localstripe_server):
    proxy = FaultyProxy(localstripe_server)
    yield proxy
    proxy.stop()


@pytest.fixture
def stripe_proxy(localstripe, _faulty_proxy):
    """localstripe behind a proxy that can fail on demand (``processor.set_down``...)."""
    _faulty_proxy.mode = "pass"
    yield _faulty_proxy
    _faulty_proxy.mode = "pass"


# --- the app -----------------------------------------------------------------------------------
@pytest.fixture
def app_config(database_url, offline_gateway_url, gateway_kind, request) -> dict:
    if "demo_data" in request.fixturenames:
        gateway_url = request.getfixturevalue("_demo_databases")[request.getfixturevalue(
            "backend")].gateway_url
    else:
        gateway_url = offline_gateway_url
        _empty_offline_gateway(gateway_url)
    config = {"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "SECRET_KEY": "test",
              "WTF_CSRF_ENABLED": False, "DEFAULT_CURRENCY": "USD",
              "PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH_METHOD,
              # Every test signs in from 127.0.0.1: the sign-in rate limit has its own test.
              "RATELIMIT_ENABLED": False,
              "OFFLINE_GATEWAY_URL": gateway_url,
              "JOBS_URL": request.getfixturevalue("jobs_url")}
    if gateway_kind == "stripe":
        config.update(stripe_config(request.getfixturevalue("stripe_proxy").url))
    return config


class AppPool:
    """One app per configuration for the worker's session (``create_app`` is not free, and the
    configurations are few: backend x gateway x a folder's overrides)."""

    def __init__(self) -> None:
        self._apps: dict[str, object] = {}

    def get(self, config: dict):
        key = repr(sorted(config.items()))
        if key not in self._apps:
            self._apps[key] = create_app(dict(config))
        return self._apps[key]

    def close(self) -> None:
        for app in self._apps.values():
            with app.app_context():
                db.engine.dispose()


@pytest.fixture(scope="session")
def app_pool():
    pool = AppPool()
    yield pool
    pool.close()


@pytest.fixture(autouse=True)
def _clock_runs():
    """The clock runs after every test, whatever the test froze."""
    yield
    freeze(None)


@contextmanager
def lent(app):
    """Lend a pooled app to one test: its payment gateway is made anew from the config, and
    afterwards the config is put back as it was (tests may change it)."""
    saved = app.config.copy()
    app.extensions.pop("payment_gateway", None)
    app.extensions.pop("delivery_providers", None)
    try:
        yield app
    finally:
        app.config.clear()
        app.config.update(saved)
        app.extensions.pop("payment_gateway", None)
        app.extensions.pop("delivery_providers", None)


@pytest.fixture
def app(app_config, app_pool, request):
    """The app of ``app_config``, with an app context for the test: the worker's app for that
    config, or a new one for ``@pytest.mark.fresh_database``."""
    fresh = request.node.get_closest_marker("fresh_database") is not None
    the_app = create_app(app_config) if fresh else app_pool.get(app_config)
    with lent(the_app), the_app.app_context():
        init_jobs(the_app)  # the engine is one per process: it serves this test's app
        if not huey.immediate:
            huey.flush()  # nothing queued by an earlier test
        if "demo_data" in request.fixturenames:
            _seed_demo_once(request)
        yield the_app
        db.session.remove()
        if fresh:
            db.engine.dispose()


def _seed_demo_once(request) -> None:
    demo = request.getfixturevalue("_demo_databases")[request.getfixturevalue("backend")]
    if demo.loaded is None:
        from seeds import load_demo

        demo.loaded = load_demo()
        db.session.remove()


@pytest.fixture
def demo_data(app, backend, _demo_databases) -> DemoData:
    """The demo clinic (``seeds.load_demo``), seeded once per worker and backend into a database
    of its own: for tests that read it (``app`` and ``client`` are bound to it)."""
    return _demo_databases[backend]


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
