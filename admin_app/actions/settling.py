"""Settling a payment or a refund whose outcome was not known: the processor did not answer
when it was asked, so the record was kept pending. Whoever learns the outcome later (the
reconcile action, a Stripe webhook) settles it here, inside its own unit of work, on a record
it has locked:

- a charge the processor made becomes a succeeded payment with its receipt (queued when
  Cashier settings send receipts); one it declined, or never made, becomes failed, with why;
- a refund the processor made becomes succeeded, the payment's refunded amount and status
  follow, and its credit note is issued; one it refused, or never made, becomes failed and
  frees that amount of the payment again.

A paid charge also settles what is still owed for it (``paid_for``): a failed no-show fee
becomes charged, a past due subscription active again. Anything else the asking action would
have done had stopped when the processor did not answer (a plan not switched, a subscription
not cancelled): the settlement says so, for the admin to finish or undo it.
"""

from __future__ import annotations

from ..clock import utcnow
from ..documents import credit_note_for_refund, queue_if_auto_send, receipt_for_payment
from ..extensions import db
from ..models import (
    AdminUser,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    record_audit,
)
from ..money import format_money
from ..payments import ChargeResult, ChargeStatus, GatewayUnavailable, RefundResult, get_gateway
from .paid_for import lock_owed, settle_what_it_paid_for

NOT_AT_PROCESSOR = "not_at_processor"

# NOTE: a custom bill is done once paid and receipted; anything else an action charged for
# (a plan change, a cancellation's refund...) stopped when the processor did not answer.
_COMPLETE_WHEN_PAID = frozenset({PaymentPurpose.CUSTOM_BILL})


def settle_payment(payment: Payment, result: ChargeResult | None, *,
                   actor: AdminUser | None, source: str) -> str:
    """Settle the pending ``payment`` with the processor's answer (None: it holds no such
    charge, so nothing was charged). Writes the audit entry; returns what was done."""
    amount = format_money(payment.amount_minor, payment.currency)
    if result is not None and result.gateway_id:
        payment.gateway_id = result.gateway_id
    if result is not None and result.status is ChargeStatus.SUCCEEDED:
        payment.status, payment.paid_at, payment.failure_reason = (
            PaymentStatus.SUCCEEDED, utcnow(), None)
        receipt = receipt_for_payment(payment, description=payment.description
                                      or payment.purpose.label)
        queued = queue_if_auto_send(receipt)
        message = (f"Payment #{payment.id} of {amount} succeeded at the processor: {receipt} "
                   "issued" + (f" and queued to send by {queued.channel.label}." if queued
                               else "."))
        effects = settle_what_it_paid_for(lock_owed(payment), payment)
        message += "".join(f" {effect}" for effect in effects)
        if not effects and payment.purpose not in _COMPLETE_WHEN_PAID:
            message += (f" The action that charged this {payment.purpose.label.lower()} had "
                        "stopped when the processor did not answer, and nothing still owed was "
                        "found for it: check that what it paid for was done, or refund it.")
        after = {"status": "succeeded", "gateway_id": payment.gateway_id,
                 "receipt_id": receipt.id, "effects": effects}
    else:
        payment.status = PaymentStatus.FAILED
        if result is None:
            payment.failure_reason = NOT_AT_PROCESSOR
            message = (f"Payment #{payment.id} of {amount} was never charged: the processor "
                       "holds no such charge. It is marked failed.")
        else:
            payment.failure_reason = (result.failure_code or result.status.value)[:200]
            message = (f"Payment #{payment.id} of {amount} was not charged: "
                       f"{result.failure_message or result.status.value}. It is marked failed.")
        after = {"status": "failed", "failure_reason": payment.failure_reason}
    record_audit(actor=actor, action="settle_payment", target=payment,
                 summary=f"{source}: {message}"[:300], before={"status": "pending"},
                 after=after)
    return message


def settle_refund(refund: Refund, payment: Payment, result: RefundResult | None, *,
                  actor: AdminUser | None, source: str) -> str:
    """Settle the pending ``refund`` of ``payment`` (both locked by the caller) with the
    processor's answer (None: it made no such refund). Writes the audit entry; returns what
    was done."""
    amount = format_money(refund.amount_minor, refund.currency)
    before = {"status": "pending", "payment_status": payment.status.value,
              "amount_refunded_minor": payment.amount_refunded_minor}
    if result is not None and result.gateway_id:
        refund.gateway_id = result.gateway_id
    if result is not None and result.succeeded:
        refund.status, refund.failure_reason = RefundStatus.SUCCEEDED, None
        payment.amount_refunded_minor += refund.amount_minor
        payment.status = (PaymentStatus.REFUNDED if payment.amount_refunded_minor
                          >= payment.amount_minor else PaymentStatus.PARTIALLY_REFUNDED)
        note = credit_note_for_refund(refund, description=(
            f"Refund of {payment.description or payment.purpose.label} "
            f"(payment #{payment.id})"))
        queued = queue_if_auto_send(note)
        message = (f"Refund #{refund.id} of {amount} (payment #{payment.id}) succeeded at the "
                   f"processor: the payment is now {payment.status.label.lower()}. {note} "
                   "issued" + (f" and queued to send by {queued.channel.label}." if queued
                               else "."))
        if refund.reason is RefundReason.SUBSCRIPTION_CANCELED:
            message += (" The cancellation it was for had stopped: check the subscription.")
        after = {"status": "succeeded", "payment_status": payment.status.value,
                 "amount_refunded_minor": payment.amount_refunded_minor,
                 "credit_note_id": note.id}
    else:
        refund.status = RefundStatus.FAILED
        if result is None:
            refund.failure_reason = NOT_AT_PROCESSOR
            message = (f"Refund #{refund.id} of {amount} (payment #{payment.id}) was never "
                       "made: the processor holds no such refund. It is marked failed and the "
                       "amount can be refunded again.")
        else:
            refund.failure_reason = (result.failure_message or "refused")[:200]
            message = (f"Refund #{refund.id} of {amount} (payment #{payment.id}) was refused "
                       f"by the processor: {refund.failure_reason}. It is marked failed.")
        after = {"status": "failed", "failure_reason": refund.failure_reason}
    record_audit(actor=actor, action="settle_refund", target=payment,
                 summary=f"{source}: {message}"[:300], before=before, after=after)
    return message


def settle_pending_refund(refund: Refund, payment: Payment, *, source: str) -> str:
    """Ask the processor about the pending ``refund`` and settle it when the processor knows
    it; one it does not know (yet) stays pending for the reconcile action."""
    from .refunding import refund_reference

    try:
        result = get_gateway().find_refund(charge_gateway_id=payment.gateway_id,
                                           idempotency_key=refund_reference(refund))
    except GatewayUnavailable:
        result = None
    if result is None:
        return f"Refund #{refund.id} is not known to the processor yet: it stays pending."
    return settle_refund(refund, payment, result, actor=None, source=source)


def record_refund_made_outside(payment: Payment, amount_minor: int, *, source: str) -> str:
    """Record ``amount_minor`` of ``payment`` (locked by the caller) that the processor
    refunded outside the panel (in its own dashboard): a succeeded refund with its credit
    note, so the panel's books match the processor's."""
    refund = Refund(payment_id=payment.id, amount_minor=amount_minor, currency=payment.currency,
                    reason=RefundReason.OTHER, status=RefundStatus.PENDING,
                    note="Refunded outside the panel, at the payment processor.")
    db.session.add(refund)
    db.session.flush()
    return settle_refund(refund, payment, RefundResult(True, None), actor=None, source=source)
