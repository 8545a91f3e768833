"""Row locks: the rules that change money re-read their rows locked, inside the transaction."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select, text

from ..errors import ActionError
from ..extensions import db

T = TypeVar("T")


def lock(model: type[T], record_id) -> T:
    """Re-read a row with a row lock (SELECT ... FOR UPDATE) and fresh values, for the rest of
    the transaction.

    SQLite has no row locks, and its driver starts a transaction only at the first write: two
    requests could both read a balance and then both spend it. There the row is first
    "touched" (``UPDATE … SET id = id``, which changes nothing and fires no ``onupdate``): the
    transaction takes the database's write lock, waits for another writer to commit (the busy
    timeout), and only then reads, so what it reads cannot change before it commits.

    Error code: ``not_found``."""
    if db.session.get_bind().dialect.name == "sqlite":
        table = model.__table__.name
        db.session.execute(text(f'UPDATE "{table}" SET id = id WHERE id = :id'),
                           {"id": record_id})
    record = db.session.execute(
        select(model).where(model.id == record_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if record is None:
        raise ActionError("not_found", f"That {model.__name__.lower()} no longer exists.")
    return record
