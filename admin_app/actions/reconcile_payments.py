"""Reconcile: bring pending payments and refunds in line with what the processor says
(``flask --app admin_app payments reconcile``, and Cashier → Transactions / Refunds ⋯ → Check with
the processor).

A card payment or refund is pending when the processor did not answer (down, timeout, 5xx):
it may or may not have moved the money. Reconciling asks the processor what became of it by
the reference it was asked with (``payment-42``, ``refund-7``) — a lookup, which never
charges or refunds — and settles the record (``settling``): made → succeeded, with its
receipt or credit note; declined or never made → failed.

"Never made" is only concluded once the record is older than ``min_age`` (two minutes by
default): a processor that timed out may still be carrying the request out. A processor still
not answering leaves the record pending, to be tried again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from uuid import uuid4

from sqlalchemy import select

from ..clock import utcnow
from ..extensions import db
from ..models import (
    AdminUser,
    Contact,
    Payment,
    PaymentMethodKind,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from ..payments import GatewayUnavailable, get_gateway
from .base import STAFF, ActionError, claim, finish, lock, require_role, unit_of_work
from .charging import charge_reference
from .refunding import refund_reference
from .settling import settle_payment, settle_refund

MIN_AGE = timedelta(minutes=2)
SOURCE = "Reconciled with the processor"


class Outcome(StrEnum):
    SETTLED = "settled"
    STILL_PENDING = "still_pending"


@dataclass(frozen=True)
class Reconciled:
    outcome: Outcome
    message: str


def reconcile_payment(payment: Payment, *, actor: AdminUser | None, idempotency_key: str,
                      min_age: timedelta = MIN_AGE) -> Reconciled:
    """Settle the pending card ``payment`` with what the processor says became of it.

    Error codes: ``not_permitted``, ``not_pending`` (already settled: nothing to do),
    ``already_done``.
    """
    with unit_of_work():
        if actor is not None:
            require_role(actor, STAFF, doing="reconcile payments")
        request = claim("reconcile_payment", idempotency_key, actor=actor, target=payment)
        payment = lock(Payment, payment.id)
        if payment.status is not PaymentStatus.PENDING or payment.method is not \
                PaymentMethodKind.CARD:
            raise ActionError("not_pending", f"Payment #{payment.id} is already "
                                             f"{payment.status.label.lower()}: nothing to "
                                             "reconcile.")
        contact = db.session.get(Contact, payment.contact_id)

        def lookup():
            if not payment.gateway_id and not contact.stripe_customer_id:
                return None  # no customer at the processor: the charge was never asked for
            return get_gateway().find_charge(
                customer_id=contact.stripe_customer_id,
                idempotency_key=charge_reference(payment), gateway_id=payment.gateway_id,
                since=payment.created_at)

        reconciled = _reconcile(f"Payment #{payment.id}", payment, lookup, lambda result:
                                settle_payment(payment, result, actor=actor, source=SOURCE),
                                min_age)
        finish(request, message=reconciled.message, result=payment)
    return reconciled


def reconcile_refund(refund: Refund, *, actor: AdminUser | None, idempotency_key: str,
                     min_age: timedelta = MIN_AGE) -> Reconciled:
    """Settle the pending ``refund`` with what the processor says became of it.

    Error codes: ``not_permitted``, ``not_pending``, ``already_done``.
    """
    with unit_of_work():
        if actor is not None:
            require_role(actor, STAFF, doing="reconcile refunds")
        request = claim("reconcile_refund", idempotency_key, actor=actor, target=refund)
        payment = lock(Payment, refund.payment_id)  # the refund's payment changes with it
        refund = lock(Refund, refund.id)
        if refund.status is not RefundStatus.PENDING:
            raise ActionError("not_pending", f"Refund #{refund.id} is already "
                                             f"{refund.status.label.lower()}: nothing to "
                                             "reconcile.")
        reconciled = _reconcile(
            f"Refund #{refund.id}", refund,
            lambda: get_gateway().find_refund(charge_gateway_id=payment.gateway_id,
                                              idempotency_key=refund_reference(refund))
            if payment.gateway_id else None,
            lambda result: settle_refund(refund, payment, result, actor=actor, source=SOURCE),
            min_age)
        finish(request, message=reconciled.message, result=refund)
    return reconciled


def reconcile_pending(*, actor: AdminUser | None = None,
                      min_age: timedelta = MIN_AGE) -> list[Reconciled]:
    """Reconcile every pending card payment and pending refund, oldest first, each in its
    own transaction (one that cannot be settled does not hold back the others)."""
    payment_ids = db.session.scalars(
        select(Payment.id).where(Payment.status == PaymentStatus.PENDING,
                                 Payment.method == PaymentMethodKind.CARD)
        .order_by(Payment.id)).all()
    refund_ids = db.session.scalars(
        select(Refund.id).where(Refund.status == RefundStatus.PENDING).order_by(Refund.id)).all()
    done = []
    for payment_id in payment_ids:
        done.append(_each(reconcile_payment, db.session.get(Payment, payment_id), actor,
                          min_age))
    for refund_id in refund_ids:
        done.append(_each(reconcile_refund, db.session.get(Refund, refund_id), actor, min_age))
    return done


def _each(reconcile, record, actor, min_age) -> Reconciled:
    try:
        return reconcile(record, actor=actor, idempotency_key=uuid4().hex, min_age=min_age)
    except ActionError as refused:  # settled meanwhile (a webhook): nothing left to do
        return Reconciled(Outcome.STILL_PENDING if refused.code != "not_pending"
                          else Outcome.SETTLED, refused.message)


def _reconcile(label: str, record, lookup, settle, min_age: timedelta) -> Reconciled:
    """Ask the processor (``lookup``) and settle the record with its answer, unless it cannot
    tell yet: not answering, or holding no trace of a record younger than ``min_age``."""
    try:
        result = lookup()
    except GatewayUnavailable:
        return Reconciled(Outcome.STILL_PENDING, f"{label}: the processor is still not "
                                                 "answering. It stays pending; try again later.")
    if result is None and utcnow() - record.created_at < min_age:
        return Reconciled(Outcome.STILL_PENDING, f"{label}: the processor holds no trace of it "
                                                 "yet. It may still be working on it: try again "
                                                 "in a few minutes.")
    return Reconciled(Outcome.SETTLED, settle(result))
