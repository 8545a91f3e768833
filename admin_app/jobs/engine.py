"""The job engine: one Huey instance, its queue chosen by ``JOBS_URL``.

- ``sqlite:///path`` (the default: ``jobs.sqlite3`` in the instance folder): one machine;
- ``redis://host:port/db``: several app servers and workers share one queue.

Tasks run with the app's context pushed (``app_task``), in the worker process
(``flask --app admin_app worker``). Huey may run a task twice (a retry after a crash, two
schedulers): the tasks make that harmless through the database.
"""

from __future__ import annotations

from functools import wraps
from pathlib import Path

from flask import Flask
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

NAME = "admin_app"

huey = Huey(NAME, storage_class=MemoryStorage, results=False)
_apps: list[Flask] = []


REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def _check_url(url: str) -> str:
    if not url.startswith((*REDIS_SCHEMES, "sqlite:///")):
        raise RuntimeError(f"JOBS_URL must be sqlite:///<file> or redis://…, not {url!r}")
    return url


def _storage(url: str):
    if url.startswith(REDIS_SCHEMES):
        return RedisStorage(NAME, url=url)
    filename = Path(url.removeprefix("sqlite:///"))
    filename.parent.mkdir(parents=True, exist_ok=True)
    from ..extensions import SQLITE_BUSY_TIMEOUT_S

    # Huey's SQLite queue already uses write-ahead logging; it waits as long as the panel.
    return SqliteStorage(NAME, filename=str(filename), journal_mode="wal",
                         timeout=SQLITE_BUSY_TIMEOUT_S)


class _StorageOnFirstUse:
    """The queue, opened when first used (enqueueing, the worker): an app that never queues
    anything (a CLI command, a test) creates no queue file and opens no Redis connection."""

    def __init__(self, url: str) -> None:
        self._url, self._storage = url, None

    def __getattr__(self, name: str):
        if self._storage is None:
            self._storage = _storage(self._url)
        return getattr(self._storage, name)


def init_jobs(app: Flask) -> None:
    """Point the engine at the app's queue; tasks run in this app's context from now on.
    ``JOBS_IMMEDIATE`` runs each task at once, in the caller (unit tests only)."""
    huey.immediate = bool(app.config.get("JOBS_IMMEDIATE"))
    if not huey.immediate:
        huey.storage = _StorageOnFirstUse(_check_url(app.config["JOBS_URL"]))
    _apps[:] = [app]


def _in_app_context(function):
    @wraps(function)
    def in_app(*args, **kwargs):
        from ..extensions import db

        with _apps[0].app_context():
            try:
                return function(*args, **kwargs)
            finally:
                db.session.remove()

    return in_app


def app_task(**options):
    """A Huey task that runs inside the app's context (and ends its database session)."""
    return lambda function: huey.task(name=function.__name__, **options)(
        _in_app_context(function))


def app_periodic_task(schedule, **options):
    """A periodic Huey task (``schedule``: a ``huey.crontab``) inside the app's context."""
    return lambda function: huey.periodic_task(schedule, name=function.__name__, **options)(
        _in_app_context(function))
