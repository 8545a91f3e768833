"""Check every pending payment and refund with the processor
(``flask --app admin_app payments reconcile``, and the worker's schedule)."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from sqlalchemy import select

from ..actors import SYSTEM, Actor
from ..billing.reconciling import MIN_AGE, Outcome, Reconciled
from ..errors import ActionError
from ..extensions import db
from ..models import Payment, PaymentMethodKind, PaymentStatus, Refund, RefundStatus
from .reconcile_payment import reconcile_payment
from .reconcile_refund import reconcile_refund


def reconcile_pending(*, actor: Actor = SYSTEM, min_age: timedelta = MIN_AGE) -> list[Reconciled]:
    """Reconcile every pending card payment and pending refund, oldest first, each as its own
    action (one that cannot be settled does not hold back the others)."""
    payment_ids = db.session.scalars(
        select(Payment.id).where(Payment.status == PaymentStatus.PENDING,
                                 Payment.method == PaymentMethodKind.CARD)
        .order_by(Payment.id)).all()
    refund_ids = db.session.scalars(
        select(Refund.id).where(Refund.status == RefundStatus.PENDING).order_by(Refund.id)).all()
    db.session.rollback()  # nothing held while the processor is asked
    done = [_each(reconcile_payment, db.session.get(Payment, payment_id), actor, min_age)
            for payment_id in payment_ids]
    done += [_each(reconcile_refund, db.session.get(Refund, refund_id), actor, min_age)
             for refund_id in refund_ids]
    return done


def _each(reconcile, record, actor: Actor, min_age: timedelta) -> Reconciled:
    try:
        return reconcile(record, actor=actor, idempotency_key=uuid4().hex,
                         min_age=min_age).record
    except ActionError as refused:  # settled meanwhile (a webhook): nothing left to do
        return Reconciled(Outcome.STILL_PENDING if refused.code != "not_pending"
                          else Outcome.SETTLED, refused.message)
