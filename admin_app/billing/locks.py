"""Row locks: the rules that change money re-read their rows locked, inside the transaction."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select

from ..errors import ActionError
from ..extensions import db

T = TypeVar("T")


def lock(model: type[T], record_id) -> T:
    """Re-read a row with a row lock (SELECT ... FOR UPDATE) and fresh values, for the rest of
    the transaction. SQLite has no row locks: there, writers are serialised by the database.

    Error code: ``not_found``."""
    record = db.session.execute(
        select(model).where(model.id == record_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if record is None:
        raise ActionError("not_found", f"That {model.__name__.lower()} no longer exists.")
    return record
