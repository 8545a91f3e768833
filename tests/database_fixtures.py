"""Fixtures for the worker's databases (a plugin of ``tests/conftest.py``): the PostgreSQL server,
the migrated templates, and ``database_url``, a database with the migrated schema and no data for
each test (``tests/databases.py`` says how).
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.databases import (
    Backend,
    DemoData,
    migrate,
    postgresql_backend,
    ram_dir,
    ram_parent,
    sqlite_backend,
)
from tests.pg import PostgresServer


@pytest.fixture(scope="session")
def worker_dir():
    """A folder in RAM for this worker's SQLite files."""
    path = ram_dir("admin-app-tests-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def sqlite_template(worker_dir) -> str:
    path = os.path.join(worker_dir, "template.sqlite3")
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_server():
    server = PostgresServer(ram_parent()).start()  # its own folder: the postgres user's
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(pg_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE app_template"))
    admin.dispose()
    migrate(pg_server.url("app_template"))
    return "app_template"


@pytest.fixture(scope="session")
def databases(request, worker_dir):
    """``databases(backend)``: this worker's ``tests.databases.Backend`` for a backend, made on
    first use (the PostgreSQL server starts only if a test needs it)."""
    made: dict[str, Backend] = {}

    def get(backend: str) -> Backend:
        if backend not in made:
            if backend == "sqlite":
                made[backend] = sqlite_backend(request.getfixturevalue("sqlite_template"),
                                               worker_dir)
            elif backend == "postgresql":
                made[backend] = postgresql_backend(request.getfixturevalue("pg_server"),
                                                   request.getfixturevalue("pg_template"))
            else:
                raise ValueError(f"Unknown backend {backend!r}")
        return made[backend]

    yield get
    for backend in made.values():
        backend.close()


@pytest.fixture
def backend(request) -> str:
    """The database server a test runs on (see ``pytest_generate_tests``)."""
    return request.param


@pytest.fixture(scope="session")
def _demo_databases() -> dict[str, DemoData]:
    return {}


@pytest.fixture
def database_url(backend, request, databases, _demo_databases):
    """A database with the migrated schema and no data: the worker's database emptied, or a
    new one for ``@pytest.mark.fresh_database``; for ``demo_data``, the demo clinic's."""
    if "demo_data" in request.fixturenames:
        if backend not in _demo_databases:
            url = databases(backend).new("demo")
            gateway = os.path.join(request.getfixturevalue("worker_dir"),
                                   f"demo_{backend}_gateway.sqlite3")
            _demo_databases[backend] = DemoData(url, f"sqlite:///{gateway}")
        yield _demo_databases[backend].database_url
    elif request.node.get_closest_marker("fresh_database"):
        url = databases(backend).new()
        yield url
        databases(backend).drop(url)
    else:
        yield databases(backend).emptied()
