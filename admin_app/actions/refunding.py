"""Refunding a payment the way every money action does it: check what is left, write the
pending refund, ask the processor with a key derived from that row, then record its answer,
update the payment and issue the credit note. Used inside an action's unit of work, on a
payment already locked by the caller."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    AdminUser,
    Payment,
    PaymentMethodKind,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from ..money import format_money
from ..payments import GatewayUnavailable, get_gateway
from .base import ActionError

REFUNDABLE_STATUSES = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED})


def refund_reference(refund: Refund) -> str:
    """The idempotency key the processor is asked with for ``refund``, and the reference
    reconciliation finds it by."""
    return f"refund-{refund.id}"


def pending_refunds_minor(payment: Payment) -> int:
    """Refunds of ``payment`` asked of the processor whose outcome is not known yet."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_minor), 0))
        .where(Refund.payment_id == payment.id, Refund.status == RefundStatus.PENDING)))


def refundable_remainder(payment: Payment) -> int:
    """What may still be refunded: paid − refunded − refunds still pending."""
    return max(payment.amount_minor - payment.amount_refunded_minor
               - pending_refunds_minor(payment), 0)


def _check_refundable(payment: Payment, amount_minor: int) -> None:
    if payment.status not in REFUNDABLE_STATUSES:
        why = {PaymentStatus.FAILED: "failed: nothing was paid",
               PaymentStatus.PENDING: "still pending: nothing is paid yet",
               PaymentStatus.REFUNDED: "already fully refunded"}[payment.status]
        raise ActionError("payment_not_refundable",
                          f"Payment #{payment.id} cannot be refunded: it {why}.")
    if amount_minor <= 0:
        raise ActionError("amount_not_positive", "Enter a refund amount greater than zero.")
    remainder = refundable_remainder(payment)
    if remainder <= 0:
        raise ActionError("payment_not_refundable",
                          f"Payment #{payment.id} cannot be refunded: nothing is left to refund "
                          "(refunds still pending count too).")
    if amount_minor > remainder:
        raise ActionError(
            "refund_exceeds_remaining",
            f"At most {format_money(remainder, payment.currency)} of payment #{payment.id} can "
            f"be refunded; {format_money(amount_minor, payment.currency)} is too much.")


def refund_locked_payment(payment: Payment, *, amount_minor: int, reason: RefundReason,
                          note: str | None, actor: AdminUser | None,
                          idempotency_key: str | None = None) -> Refund:
    """Refund ``amount_minor`` of ``payment`` (locked by the caller) and return the refund,
    succeeded, with the payment's refunded amount and status updated.

    A card payment is refunded through the processor; cash and other payments are paid back
    at the desk, so they are recorded as refunded without it. A processor's "no" keeps the
    refund as failed with its reason (``gateway_refused``); a processor that does not answer
    keeps it pending, to be reconciled (``gateway_unavailable``); the payment is untouched
    either way.

    Error codes: ``payment_not_refundable``, ``amount_not_positive``,
    ``refund_exceeds_remaining``, ``gateway_refused``, ``gateway_unavailable``.
    """
    _check_refundable(payment, amount_minor)
    refund = Refund(payment_id=payment.id, amount_minor=amount_minor, currency=payment.currency,
                    reason=reason, note=(note or "").strip() or None,
                    status=RefundStatus.PENDING, issued_by_id=actor.id if actor else None,
                    idempotency_key=idempotency_key)
    db.session.add(refund)
    db.session.flush()
    if payment.method is PaymentMethodKind.CARD:
        _refund_at_processor(payment, refund)
    refund.status = RefundStatus.SUCCEEDED
    payment.amount_refunded_minor += amount_minor
    payment.status = (PaymentStatus.REFUNDED if payment.amount_refunded_minor
                      >= payment.amount_minor else PaymentStatus.PARTIALLY_REFUNDED)
    db.session.flush()
    return refund


def _refund_at_processor(payment: Payment, refund: Refund) -> None:
    if not payment.gateway_id:
        refund.status, refund.failure_reason = RefundStatus.FAILED, "no_gateway_charge"
        raise ActionError("gateway_refused",
                          f"Payment #{payment.id} has no charge at the payment processor "
                          "to refund. Nothing was refunded.", keep_changes=True)
    try:
        result = get_gateway().refund(charge_gateway_id=payment.gateway_id,
                                      amount_minor=refund.amount_minor,
                                      currency=refund.currency,
                                      idempotency_key=refund_reference(refund))
    except GatewayUnavailable:
        # NOTE: unknown is not "failed": the processor may have refunded. The pending refund
        # keeps its amount out of what may still be refunded until it is settled.
        raise ActionError(
            "gateway_unavailable",
            "The payment processor did not answer, so it is not known whether "
            f"{format_money(refund.amount_minor, refund.currency)} was refunded. Refund "
            f"#{refund.id} is kept as pending until the processor's answer is known (Cashier → "
            "Refunds, its ⋯ menu → Check with the processor); nothing else was changed.",
            keep_changes=True) from None
    refund.gateway_id = result.gateway_id
    if not result.succeeded:
        refund.status = RefundStatus.FAILED
        refund.failure_reason = (result.failure_message or "refused")[:200]
        raise ActionError("gateway_refused",
                          "The payment processor refused the refund: "
                          f"{result.failure_message or 'no reason given'} Nothing was refunded.",
                          keep_changes=True)
