"""Check a pending refund with the processor (Cashier → Refunds ⋯ → Check with the processor;
``flask --app admin_app payments reconcile``)."""

from __future__ import annotations

from datetime import timedelta

from ..actors import Actor
from ..billing.locks import lock
from ..billing.reconciling import (
    MIN_AGE,
    Outcome,
    Reconciled,
    check_refund_pending,
    reconcile_locked_refund,
)
from ..models import Payment, Refund
from .runner import STAFF, ActionResult, ActionRun


def reconcile_refund(refund: Refund, *, actor: Actor, idempotency_key: str,
                     min_age: timedelta = MIN_AGE) -> ActionResult[Reconciled]:
    """Settle the pending ``refund`` with what the processor says became of it
    (``billing.reconciling``); the settlement writes its own audit entry.

    Error codes: ``not_permitted``, ``not_pending``, ``already_done``.
    """
    with ActionRun("reconcile_refund", actor=actor, key=idempotency_key, target=refund,
                   roles=STAFF, doing="reconcile refunds") as run:
        payment = lock(Payment, refund.payment_id)  # the refund's payment changes with it
        refund = lock(Refund, refund.id)
        check_refund_pending(refund)
        reconciled = reconcile_locked_refund(refund, payment, actor=actor, min_age=min_age)
        return run.finish_without_audit(
            reconciled, reconciled.message,
            level="success" if reconciled.outcome is Outcome.SETTLED else "warning")
