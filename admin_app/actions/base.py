"""What every business action shares: its error, its transaction, its idempotency key, its
permission check and its row locks.

An action is one function: target first, keyword-only parameters, an explicit ``actor`` and the
``idempotency_key`` its form carried. It runs in ``unit_of_work()``: one commit on success, a
rollback on refusal. It never touches the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import ActionRequest, AdminUser, Role

T = TypeVar("T")

STAFF = frozenset({Role.OWNER, Role.MANAGER, Role.CASHIER})
MANAGERS = frozenset({Role.OWNER, Role.MANAGER})


class ActionError(Exception):
    """A refusal: ``code`` is stable snake_case for programs and tests, ``message`` a sentence
    for the admin. With ``keep_changes`` the transaction is committed before the refusal is
    raised: used for a processor's "no", whose failed attempt is a record worth keeping."""

    def __init__(self, code: str, message: str, *, keep_changes: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.keep_changes = keep_changes


class AlreadyDone(ActionError):
    """The same form (same idempotency key) was submitted before: nothing ran again."""

    def __init__(self, request: ActionRequest) -> None:
        message = request.message or "This was already done."
        super().__init__("already_done", f"Already done, not repeated: {message}")
        self.request = request


@contextmanager
def unit_of_work() -> Iterator[None]:
    """The action's one transaction: commit at the end, roll back on any refusal or error
    (but commit first when the refusal asks to keep what was recorded)."""
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


def require_role(actor: AdminUser | None, allowed: frozenset[Role], *, doing: str) -> None:
    """Refuse (``not_permitted``) an actor whose role may not do this."""
    if actor is None or not actor.is_enabled or actor.role not in allowed:
        role = actor.role.label if actor is not None else "no user"
        raise ActionError("not_permitted", f"Your role ({role}) may not {doing}.")


def claim(action: str, key: str | None, *, actor: AdminUser | None, target) -> ActionRequest:
    """Claim ``key`` for this action inside the current transaction.

    Raises ``AlreadyDone`` when the key was carried out already (also when a concurrent
    submission with the same key commits first: the primary key makes the second one wait,
    then fail, before it does anything).
    """
    if not key or len(key) > 80:
        raise ActionError("missing_idempotency_key",
                          "This form has expired. Open it again and resubmit.")
    existing = db.session.get(ActionRequest, key)
    if existing is not None:
        raise AlreadyDone(existing)
    request = ActionRequest(key=key, action=action,
                            target_type=getattr(target, "__tablename__", None),
                            target_id=str(getattr(target, "id", "") or "") or None,
                            actor_id=actor.id if actor is not None else None)
    db.session.add(request)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AlreadyDone(db.session.get(ActionRequest, key)) from None
    return request


def finish(request: ActionRequest, *, message: str, result=None,
           error_code: str | None = None) -> None:
    """Store what the claimed action did, for a replayed submission to report."""
    request.message = message[:300]
    request.error_code = error_code
    if result is not None:
        request.result_type = getattr(result, "__tablename__", type(result).__name__)
        request.result_id = str(result.id)


def lock(model: type[T], record_id) -> T:
    """Re-read a row with a row lock (SELECT ... FOR UPDATE) and fresh values, for the rest of
    the transaction. SQLite has no row locks: there, writers are serialised by the database."""
    record = db.session.execute(
        select(model).where(model.id == record_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if record is None:
        raise ActionError("not_found", f"That {model.__name__.lower()} no longer exists.")
    return record
