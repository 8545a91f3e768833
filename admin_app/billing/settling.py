"""The one path from "the processor said X" to our books.

Whoever learns what became of a card charge or a refund applies it here, inside its own
transaction, on rows it has locked: the action that asked (phase 2 of its processor call),
the reconcile action (an answer that was lost), and the Stripe webhooks (an answer that came
late, or a refund made in Stripe's dashboard).

- ``apply_charge_answer``: a charge the processor made becomes a succeeded payment with its
  receipt (queued when Cashier settings send receipts) and settles what it was owed for
  (``paid_for``: a failed no-show fee becomes charged, a past due subscription active); one
  it declined, or never made (``None``), becomes failed, with why.
- ``apply_refund_answer``: a refund the processor made becomes succeeded, the payment's
  refunded amount and status follow, and its credit note is issued; one it refused, or never
  made, becomes failed and frees that amount of the payment again.

A record that is no longer pending (someone else settled it first) is left as it is: applying
an answer twice changes nothing. ``settle_payment`` / ``settle_refund`` add the sentence and
the audit entry for those who settle on their own (reconcile, webhooks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..actors import Actor
from ..clock import utcnow
from ..documents import credit_note_for_refund, queue_if_auto_send, receipt_for_payment
from ..documents.invoices import invoice_paid_by, mark_invoice_paid, release_invoice
from ..extensions import db
from ..models import (
    Document,
    OutboundMessage,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    record_audit,
)
from ..money import format_money
from ..payments import ChargeResult, RefundResult
from .account_credit import give_back_account_credit
from .paid_for import (
    lock_owed,
    release_what_it_was_for,
    settle_invoiced_period,
    settle_what_it_paid_for,
)
from .subscribing import first_payment_lines

NOT_AT_PROCESSOR = "not_at_processor"

# NOTE: a custom bill is done once paid and receipted; anything else an action charged for
# (a plan change, a cancellation's refund...) stopped when the processor did not answer.
_COMPLETE_WHEN_PAID = frozenset({PaymentPurpose.CUSTOM_BILL})


@dataclass(frozen=True)
class Settlement:
    """What applying an answer did: the document issued (receipt or credit note), its
    delivery when queued, what a paid charge settled, and whether the record was still
    pending (False: it had been settled already, and nothing changed)."""

    applied: bool
    document: Document | None = None
    queued: OutboundMessage | None = None
    effects: list[str] = field(default_factory=list)

    def document_sentence(self) -> str:
        if self.document is None:
            return ""
        return f"{self.document} issued" + (
            f" and queued to send by {self.queued.channel.label}." if self.queued else ".")


def apply_charge_answer(payment: Payment, answer: ChargeResult | None) -> Settlement:
    """Apply the processor's ``answer`` about the pending card ``payment`` (locked by the
    caller); ``None``: the processor holds no such charge, so nothing was charged."""
    if payment.status is not PaymentStatus.PENDING:
        return Settlement(applied=False)
    if answer is not None and answer.gateway_id:
        payment.gateway_id = answer.gateway_id
    if answer is None or not answer.succeeded:
        payment.status = PaymentStatus.FAILED
        payment.failure_reason = (NOT_AT_PROCESSOR if answer is None else
                                  (answer.failure_code or answer.status.value))[:200]
        return Settlement(applied=True, effects=[*release_what_it_was_for(payment),
                                                 *release_invoice(payment)])
    payment.status, payment.paid_at, payment.failure_reason = (
        PaymentStatus.SUCCEEDED, utcnow(), None)
    return record_paid(payment)


def record_paid(payment: Payment, *, part_of: Document | None = None) -> Settlement:
    """A payment that is now succeeded (at the processor, or in cash at the desk): its receipt
    and what it was owed for. ``part_of``: the invoice it pays only part of (the part paid from
    account credit): its receipt names it, and the invoice stays open for the rest."""
    invoice = invoice_paid_by(payment)
    receipt = receipt_for_payment(payment,
                                  description=payment.description or payment.purpose.label,
                                  invoice=invoice or part_of,
                                  lines=first_payment_lines(payment))
    effects = []
    if invoice is not None:
        mark_invoice_paid(invoice, payment)
        effects += settle_invoiced_period(invoice, payment)
    queued = queue_if_auto_send(receipt)
    effects += settle_what_it_paid_for(lock_owed(payment), payment)
    return Settlement(applied=True, document=receipt, queued=queued, effects=effects)


def apply_refund_answer(refund: Refund, payment: Payment, answer: RefundResult | None, *,
                        description: str | None = None) -> Settlement:
    """Apply the processor's ``answer`` about the pending ``refund`` of ``payment`` (both
    locked by the caller); ``None``: the processor made no such refund. ``description`` is the
    credit note's line (by default "Refund of <what was paid for> (payment #N)")."""
    if refund.status is not RefundStatus.PENDING:
        return Settlement(applied=False)
    if answer is not None and answer.gateway_id:
        refund.gateway_id = answer.gateway_id
    if answer is None or not answer.succeeded:
        refund.status = RefundStatus.FAILED
        refund.failure_reason = (NOT_AT_PROCESSOR if answer is None else
                                 (answer.failure_message or "refused"))[:200]
        return Settlement(applied=True, effects=give_back_account_credit(refund))
    refund.status, refund.failure_reason = RefundStatus.SUCCEEDED, None
    payment.amount_refunded_minor += refund.amount_minor
    payment.status = (PaymentStatus.REFUNDED if payment.amount_refunded_minor
                      >= payment.amount_minor else PaymentStatus.PARTIALLY_REFUNDED)
    note = credit_note_for_refund(refund, description=description or (
        f"Refund of {payment.description or payment.purpose.label} (payment #{payment.id})"))
    db.session.flush()
    return Settlement(applied=True, document=note, queued=queue_if_auto_send(note))


def settle_payment(payment: Payment, answer: ChargeResult | None, *, actor: Actor,
                   source: str) -> str:
    """Settle the pending ``payment`` on its own (reconcile, a webhook): apply the answer,
    write the audit entry, and say what was done."""
    amount = format_money(payment.amount_minor, payment.currency)
    settled = apply_charge_answer(payment, answer)
    if not settled.applied:
        return f"Payment #{payment.id} was already {payment.status.label.lower()}."
    if payment.status is PaymentStatus.SUCCEEDED:
        message = (f"Payment #{payment.id} of {amount} succeeded at the processor: "
                   f"{settled.document_sentence()}"
                   + "".join(f" {effect}" for effect in settled.effects))
        if not settled.effects and payment.purpose not in _COMPLETE_WHEN_PAID:
            message += (f" The action that charged this {payment.purpose.label.lower()} had "
                        "stopped when the processor did not answer, and nothing still owed was "
                        "found for it: check that what it paid for was done, or refund it.")
        after = {"status": "succeeded", "gateway_id": payment.gateway_id,
                 "receipt_id": settled.document.id, "effects": settled.effects}
    else:
        if answer is None:
            message = (f"Payment #{payment.id} of {amount} was never charged: the processor "
                       "holds no such charge. It is marked failed.")
        else:
            message = (f"Payment #{payment.id} of {amount} was not charged: "
                       f"{answer.failure_message or answer.status.value}. It is marked failed.")
        message += "".join(f" {effect}" for effect in settled.effects)
        after = {"status": "failed", "failure_reason": payment.failure_reason}
    record_audit(actor=actor, action="settle_payment", target=payment,
                 summary=f"{source}: {message}"[:300], before={"status": "pending"},
                 after=after)
    return message


def settle_refund(refund: Refund, payment: Payment, answer: RefundResult | None, *,
                  actor: Actor, source: str) -> str:
    """Settle the pending ``refund`` of ``payment`` on its own (reconcile, a webhook): apply
    the answer, write the audit entry, and say what was done."""
    amount = format_money(refund.amount_minor, refund.currency)
    before = {"status": "pending", "payment_status": payment.status.value,
              "amount_refunded_minor": payment.amount_refunded_minor}
    settled = apply_refund_answer(refund, payment, answer)
    if not settled.applied:
        return f"Refund #{refund.id} was already {refund.status.label.lower()}."
    if refund.status is RefundStatus.SUCCEEDED:
        message = (f"Refund #{refund.id} of {amount} (payment #{payment.id}) succeeded at the "
                   f"processor: the payment is now {payment.status.label.lower()}. "
                   f"{settled.document_sentence()}")
        if refund.reason is RefundReason.SUBSCRIPTION_CANCELED:
            message += " The cancellation it was for had stopped: check the subscription."
        after = {"status": "succeeded", "payment_status": payment.status.value,
                 "amount_refunded_minor": payment.amount_refunded_minor,
                 "credit_note_id": settled.document.id}
    else:
        if answer is None:
            message = (f"Refund #{refund.id} of {amount} (payment #{payment.id}) was never "
                       "made: the processor holds no such refund. It is marked failed and the "
                       "amount can be refunded again.")
        else:
            message = (f"Refund #{refund.id} of {amount} (payment #{payment.id}) was refused "
                       f"by the processor: {refund.failure_reason}. It is marked failed.")
        after = {"status": "failed", "failure_reason": refund.failure_reason}
    record_audit(actor=actor, action="settle_refund", target=payment,
                 summary=f"{source}: {message}"[:300], before=before, after=after)
    return message


def record_refund_made_outside(payment: Payment, amount_minor: int, *, actor: Actor,
                               source: str) -> str:
    """Record ``amount_minor`` of ``payment`` (locked by the caller) that the processor
    refunded outside the panel (in its own dashboard): a succeeded refund with its credit
    note, so the panel's books match the processor's."""
    refund = Refund(payment_id=payment.id, amount_minor=amount_minor, currency=payment.currency,
                    reason=RefundReason.OTHER, status=RefundStatus.PENDING,
                    note="Refunded outside the panel, at the payment processor.")
    db.session.add(refund)
    db.session.flush()
    return settle_refund(refund, payment, RefundResult(True, None), actor=actor, source=source)
