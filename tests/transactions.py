"""A transaction for tests that call billing rules directly, outside an action: committed at
the end, and also on a refusal that keeps what it recorded (as the action runner does)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from admin_app.errors import ActionError
from admin_app.extensions import db


@contextmanager
def committed() -> Iterator[None]:
    try:
        yield
    except ActionError as error:
        if error.keep_changes:
            db.session.commit()
        else:
            db.session.rollback()
        raise
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
