"""The databases of one test worker, on SQLite and on PostgreSQL.

Each backend has a template built through the real Alembic migrations, once per worker. Tests
share one database per backend made from it, emptied back to the migrated state before every
test (``Backend.emptied``): every table's rows deleted, the rows the migrations wrote put back
(``document_sequence``) and the id counters restarted, so a test sees what a new database would
show, ids from 1 included. Tests that need a database of their own (real concurrent commits from
threads) get a new one from the template (``Backend.new``); the demo clinic gets one, seeded once.

SQLite files live in a RAM-backed folder where the machine has one (``/dev/shm``): still real
SQLite, without the disk flushes that made every commit slow.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import MetaData, Table, create_engine, insert, inspect, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from admin_app import create_app
from admin_app.extensions import db

NOT_DATA = {"alembic_version", "sqlite_sequence"}


def ram_parent() -> str | None:
    """``/dev/shm`` (RAM) where the machine has it, else None (the temporary folder)."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def ram_dir(prefix: str) -> str:
    """A new folder (mode 0700) in RAM where there is some, else in the temporary folder."""
    return tempfile.mkdtemp(prefix=prefix, dir=ram_parent())


def migrate(url: str) -> None:
    """Build the schema through the real Alembic migrations (``flask db upgrade``)."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "SECRET_KEY": "test", "OFFLINE_GATEWAY_URL": "sqlite://",
                      "JOBS_IMMEDIATE": True})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@dataclass
class Migrated:
    """What a freshly migrated database holds: its tables, the rows the migrations wrote, and
    (PostgreSQL) where each sequence starts."""

    tables: list[str]
    rows: dict[Table, list[dict]] = field(default_factory=dict)
    sequences: list[tuple[str, int, bool]] = field(default_factory=list)

    @classmethod
    def read(cls, conn: Connection) -> Migrated:
        names = sorted(n for n in inspect(conn).get_table_names() if n not in NOT_DATA)
        state = cls(names)
        for name in names:
            table = db.metadata.tables.get(name)
            if table is None:  # a table no model declares: reflect it
                table = Table(name, MetaData(), autoload_with=conn)
            rows = [dict(row._mapping) for row in conn.execute(select(table))]
            if rows:
                state.rows[table] = rows
        if conn.dialect.name == "postgresql":
            for name, start, last in conn.execute(text(
                    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), "
                    "start_value, last_value FROM pg_sequences")):
                state.sequences.append((name, start, False) if last is None
                                       else (name, last, True))
        return state


class Emptier:
    """Puts one database back to its migrated state, through a connection kept open."""

    def __init__(self, url: str, migrated: Migrated) -> None:
        self.url, self.migrated = url, migrated
        self.engine: Engine = create_engine(url, poolclass=NullPool)
        self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        deletes = [f'DELETE FROM "{name}"' for name in migrated.tables]
        if self.conn.dialect.name == "postgresql":
            # The app's connections are idle between tests; a lock still held would be a bug
            # in a test's teardown: fail on it rather than wait for ever. Foreign keys are not
            # checked on this connection (deleting in any order; it is the server's superuser).
            self.conn.exec_driver_sql("SET lock_timeout = '30s'")
            self.conn.exec_driver_sql("SET session_replication_role = replica")
            # DELETE rather than TRUNCATE: a few rows in each table, and one round trip (1 ms
            # where TRUNCATE ... RESTART IDENTITY takes 25 ms); the sequences restart as below.
            self.statements = [";".join(deletes + [
                f"SELECT setval('{name}', {value}, {str(is_called).lower()})"
                for name, value, is_called in migrated.sequences])]
        else:
            # Foreign keys off (deleting in any order); no AUTOINCREMENT table keeps a counter
            # apart from sqlite_sequence, so ids start again from 1.
            self.conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            has_sequence = self.conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").first()
            self.statements = deletes + (["DELETE FROM sqlite_sequence"] if has_sequence else [])

    def empty(self) -> None:
        self.conn.exec_driver_sql("BEGIN")  # one transaction (the connection autocommits)
        try:
            for statement in self.statements:
                self.conn.exec_driver_sql(statement)
            for table, rows in self.migrated.rows.items():
                self.conn.execute(insert(table), rows)
        except BaseException:
            self.conn.exec_driver_sql("ROLLBACK")
            raise
        self.conn.exec_driver_sql("COMMIT")

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


class Backend:
    """One backend's databases for this worker: ``emptied()`` (shared by the tests, emptied
    before each) and ``new()`` (a database of its own, from the migrated template)."""

    def __init__(self, name: str, create: Callable[[str], str], drop: Callable[[str], None]):
        self.name, self._create, self._drop = name, create, drop
        self._numbers = itertools.count(1)
        self._shared: Emptier | None = None
        self._migrated: Migrated | None = None

    def new(self, label: str = "test") -> str:
        """The URL of a new migrated database."""
        return self._create(f"{label}_{next(self._numbers)}")

    def drop(self, url: str) -> None:
        self._drop(url)

    def emptied(self) -> str:
        """The URL of the worker's shared database, emptied back to its migrated state."""
        if self._shared is None:
            url = self.new("shared")
            engine = create_engine(url, poolclass=NullPool)
            with engine.connect() as conn:
                self._migrated = Migrated.read(conn)
            engine.dispose()
            self._shared = Emptier(url, self._migrated)
        self._shared.empty()
        return self._shared.url

    def close(self) -> None:
        if self._shared is not None:
            self._shared.close()


def sqlite_backend(template: str, directory: str) -> Backend:
    def create(name: str) -> str:
        path = os.path.join(directory, f"{name}.sqlite3")
        shutil.copy(template, path)
        return f"sqlite:///{path}"

    def drop(url: str) -> None:
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-journal", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)

    return Backend("sqlite", create, drop)


def postgresql_backend(server, template: str) -> Backend:
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def create(name: str) -> str:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return server.url(name)

    def drop(url: str) -> None:
        name = url.split("/")[-1].split("?")[0]
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return Backend("postgresql", create, drop)


@dataclass
class DemoData:
    """The demo clinic's database (and its offline gateway's): ``loaded`` is what the first
    ``load_demo()`` returned."""

    database_url: str
    gateway_url: str
    loaded: bool | None = None
