"""The one runner every business action goes through.

An action is one function: target first, keyword-only parameters, an explicit ``actor`` (an
admin user, or ``SYSTEM`` for reconcile, webhooks and the worker) and the ``idempotency_key``
its form carried. Its body runs inside ``ActionRun``, which does what every action shares:

- checks the actor's role (``not_permitted``; the system actor may do everything);
- claims the idempotency key (a replay raises ``AlreadyDone`` with what the first one said);
- commits once at the end, or rolls back on a refusal (``ActionError``);
- keeps what must be kept: a refusal raised with ``keep_changes`` (a processor's "no", a
  pending attempt) commits what it wrote, with an audit entry and the claim's outcome, so it
  is never lost; any refusal after a phase was committed (around a processor call) records
  the claim's outcome, so a replay reports it;
- ``done()`` writes the success's audit entry and returns an ``ActionResult``: the record and
  the sentence for the admin.

Money actions commit twice (``billing.two_phase``): the pending attempt before the processor is
asked, the answer after. The runner needs nothing for that: a commit inside the run is simply
a phase that is kept.

    def cancel_it(subscription, *, actor, idempotency_key) -> ActionResult[Subscription]:
        with ActionRun("cancel_it", actor=actor, key=idempotency_key, target=subscription,
                       roles=STAFF, doing="cancel subscriptions") as run:
            subscription = lock(Subscription, subscription.id)
            run.before = {...}
            ...
            return run.done(subscription, "Cancelled.", after={...})
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.exc import IntegrityError

from ..actors import Actor
from ..errors import ActionError
from ..extensions import db
from ..models import ActionRequest, Role, record_audit

T = TypeVar("T")

STAFF = frozenset({Role.OWNER, Role.MANAGER, Role.CASHIER})
MANAGERS = frozenset({Role.OWNER, Role.MANAGER})
ANYONE = frozenset(Role)

MAX_KEY_LENGTH = 80


@dataclass(frozen=True)
class ActionResult(Generic[T]):
    """What an action did: its record, the sentence that tells the admin, and whether that
    sentence is good news (``success``) or asks for a later look (``warning``: done, but the
    outcome is not final, e.g. still waiting for the processor)."""

    record: T
    message: str
    level: str = "success"


class AlreadyDone(ActionError):
    """The same form (same idempotency key) was submitted before: nothing ran again."""

    def __init__(self, request: ActionRequest | None) -> None:
        if request is not None and request.message:
            message = f"Already done, not repeated: {request.message}"
        else:
            message = ("This form was already submitted and is still being carried out, or was "
                       "interrupted: check the record before doing it again.")
        super().__init__("already_done", message)
        self.request = request


def require_role(actor: Actor | None, allowed: frozenset[Role], *, doing: str) -> None:
    """Refuse (``not_permitted``) an actor whose role may not do this."""
    if actor is not None and actor.is_system:
        return
    if actor is None or not actor.is_enabled or actor.role not in allowed:
        role = actor.role.label if actor is not None else "no user"
        raise ActionError("not_permitted", f"Your role ({role}) may not {doing}.")


class ActionRun:
    """One carrying-out of an action (see the module's docstring).

    ``before`` (the state the audit entry starts from) and ``audit_target`` (the record it is
    about; the claimed target by default) may be set by the body."""

    def __init__(self, name: str, *, actor: Actor, key: str | None, target,
                 roles: frozenset[Role], doing: str) -> None:
        self.name, self.actor, self.key, self.target = name, actor, key, target
        self.roles, self.doing = roles, doing
        self.before: dict | None = None
        self.audit_target = target

    def __enter__(self) -> ActionRun:
        try:
            require_role(self.actor, self.roles, doing=self.doing)
            self._claim()
        except BaseException:
            db.session.rollback()
            raise
        return self

    def _claim(self) -> None:
        """Claim the key inside the first transaction. A concurrent submission with the same
        key waits on the primary key, then finds it taken, before it does anything."""
        key = self.key
        if not key or len(key) > MAX_KEY_LENGTH or "\x00" in key:
            raise ActionError("missing_idempotency_key",
                              "This form has expired. Open it again and resubmit.")
        existing = db.session.get(ActionRequest, key)
        if existing is not None:
            raise AlreadyDone(existing)
        db.session.add(ActionRequest(
            key=key, action=self.name,
            target_type=getattr(self.target, "__tablename__", None),
            target_id=str(getattr(self.target, "id", "") or "") or None,
            actor_id=self.actor.id))
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            raise AlreadyDone(db.session.get(ActionRequest, key)) from None

    def done(self, record: T, message: str, *, before: dict | None = None,
             after: dict | None = None) -> ActionResult[T]:
        """The action succeeded: its audit entry (``before``, by default ``self.before``, and
        ``after``), the claim's outcome, and the result."""
        record_audit(actor=self.actor, action=self.name, target=self.audit_target,
                     summary=message[:300], before=before if before is not None else self.before,
                     after=after)
        self._finish(message=message, result=record)
        return ActionResult(record, message)

    def finish_without_audit(self, record: T, message: str, *,
                             level: str = "success") -> ActionResult[T]:
        """The action succeeded and already wrote its own audit entry (a rule shared with the
        system, which audits itself): the claim's outcome and the result."""
        self._finish(message=message, result=record)
        return ActionResult(record, message, level)

    def _finish(self, *, message: str, result=None, error_code: str | None = None) -> None:
        request = db.session.get(ActionRequest, self.key)
        request.message = message[:300]
        request.error_code = error_code
        if result is not None and getattr(result, "id", None) is not None:
            request.result_type = getattr(result, "__tablename__", type(result).__name__)
            request.result_id = str(result.id)

    def __exit__(self, exc_type, error, traceback) -> bool:
        if error is None:
            db.session.commit()
            return False
        if isinstance(error, AlreadyDone) or not isinstance(error, ActionError):
            db.session.rollback()  # a crash mid-phase: the committed phases stay, reconciled
            return False
        if not error.keep_changes:
            db.session.rollback()
            if db.session.get(ActionRequest, self.key) is not None:
                # A phase was committed (the claim, an attempt): the refusal is its outcome,
                # for a replay to report. It changed nothing itself, so it is not audited.
                self._finish(message=error.message, error_code=error.code)
                db.session.commit()
            return False
        # What this refusal keeps (a failed or pending attempt) is audited with it.
        record_audit(actor=self.actor, action=self.name, target=self.audit_target,
                     summary=error.message[:300], before=self.before,
                     after={**(self.before or {}), **(error.after or {})} or None)
        self._finish(message=error.message, error_code=error.code)
        db.session.commit()
        return False
