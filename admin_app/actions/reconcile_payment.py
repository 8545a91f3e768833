"""Check a pending payment with the processor (Cashier → Transactions ⋯ → Check with the
processor; ``flask --app admin_app payments reconcile``)."""

from __future__ import annotations

from datetime import timedelta

from ..actors import Actor
from ..billing.locks import lock
from ..billing.reconciling import (
    MIN_AGE,
    Outcome,
    Reconciled,
    check_payment_pending,
    reconcile_locked_payment,
)
from ..models import Payment
from .runner import STAFF, ActionResult, ActionRun


def reconcile_payment(payment: Payment, *, actor: Actor, idempotency_key: str,
                      min_age: timedelta = MIN_AGE) -> ActionResult[Reconciled]:
    """Settle the pending card ``payment`` with what the processor says became of it
    (``billing.reconciling``); the settlement writes its own audit entry.

    Error codes: ``not_permitted``, ``not_pending`` (already settled: nothing to do),
    ``already_done``.
    """
    with ActionRun("reconcile_payment", actor=actor, key=idempotency_key, target=payment,
                   roles=STAFF, doing="reconcile payments") as run:
        payment = lock(Payment, payment.id)
        check_payment_pending(payment)
        reconciled = reconcile_locked_payment(payment, actor=actor, min_age=min_age)
        return run.finish_without_audit(
            reconciled, reconciled.message,
            level="success" if reconciled.outcome is Outcome.SETTLED else "warning")
