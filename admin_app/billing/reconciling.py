"""Reconciling: bringing a pending payment or refund in line with what the processor says
became of it.

A card payment or refund is pending when the processor's answer is not known (it did not
answer, or the panel stopped between the two phases of the call). Reconciling **looks it up**
by the reference it was asked with — a lookup, which never charges or refunds — with no
transaction open, then settles the record through ``settling``: made → succeeded, with its
receipt or credit note; declined or never made → failed.

"Never made" is only concluded once the record is older than ``MIN_AGE`` (two minutes by
default): a processor that timed out may still be carrying the request out. A processor still
not answering leaves the record pending, to be tried again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from ..actors import Actor
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import Contact, Payment, PaymentMethodKind, PaymentStatus, Refund, RefundStatus
from ..payments import get_gateway
from .locks import lock
from .processor_calls import UNANSWERED, ask_processor
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


def check_payment_pending(payment: Payment) -> None:
    """Refuse a payment that is not a pending card payment (``not_pending``)."""
    if payment.status is not PaymentStatus.PENDING or payment.method is not \
            PaymentMethodKind.CARD:
        raise ActionError("not_pending", f"Payment #{payment.id} is already "
                                         f"{payment.status.label.lower()}: nothing to reconcile.")


def reconcile_refusal(record: Payment | Refund) -> ActionError | None:
    """Why ``record`` (a payment or a refund) has nothing to reconcile (``not_pending``), or
    ``None`` while it waits for the processor's answer."""
    try:
        if isinstance(record, Payment):
            check_payment_pending(record)
        else:
            check_refund_pending(record)
    except ActionError as refusal:
        return refusal
    return None


def check_refund_pending(refund: Refund) -> None:
    """Refuse a refund that is not pending (``not_pending``)."""
    if refund.status is not RefundStatus.PENDING:
        raise ActionError("not_pending", f"Refund #{refund.id} is already "
                                         f"{refund.status.label.lower()}: nothing to reconcile.")


def reconcile_locked_payment(payment: Payment, *, actor: Actor,
                             min_age: timedelta = MIN_AGE) -> Reconciled:
    """Look the pending ``payment`` (locked) up at the processor, with no transaction open,
    then lock it again and settle it, unless the processor cannot tell yet."""
    payment_id, label, created_at = payment.id, f"Payment #{payment.id}", payment.created_at
    contact = db.session.get(Contact, payment.contact_id)
    if not payment.gateway_id and not contact.stripe_customer_id:
        answer = None  # no customer at the processor: the charge was never asked for
    else:
        answer = ask_processor(get_gateway().find_charge, customer_id=contact.stripe_customer_id,
                               idempotency_key=payment.reference, gateway_id=payment.gateway_id,
                               since=payment.created_at)
    waiting = _still_waiting(label, answer, created_at, min_age)
    if waiting is not None:
        return waiting
    payment = lock(Payment, payment_id)
    return Reconciled(Outcome.SETTLED, settle_payment(payment, answer, actor=actor,
                                                      source=SOURCE))


def reconcile_locked_refund(refund: Refund, payment: Payment, *, actor: Actor,
                            min_age: timedelta = MIN_AGE) -> Reconciled:
    """Look the pending ``refund`` of ``payment`` (both locked) up at the processor, with no
    transaction open, then lock them again and settle it, unless the processor cannot tell."""
    ids, label, created_at = (refund.id, payment.id), f"Refund #{refund.id}", refund.created_at
    answer = (ask_processor(get_gateway().find_refund, charge_gateway_id=payment.gateway_id,
                            idempotency_key=refund.reference) if payment.gateway_id else None)
    waiting = _still_waiting(label, answer, created_at, min_age)
    if waiting is not None:
        return waiting
    payment = lock(Payment, ids[1])
    refund = lock(Refund, ids[0])
    return Reconciled(Outcome.SETTLED, settle_refund(refund, payment, answer, actor=actor,
                                                     source=SOURCE))


def _still_waiting(label: str, answer, created_at, min_age: timedelta) -> Reconciled | None:
    """The processor cannot tell yet: not answering, or holding no trace of a record younger
    than ``min_age``."""
    if answer is UNANSWERED:
        return Reconciled(Outcome.STILL_PENDING, f"{label}: the processor is still not "
                                                 "answering. It stays pending; try again later.")
    if answer is None and utcnow() - created_at < min_age:
        return Reconciled(Outcome.STILL_PENDING, f"{label}: the processor holds no trace of it "
                                                 "yet. It may still be working on it: try again "
                                                 "in a few minutes.")
    return None
