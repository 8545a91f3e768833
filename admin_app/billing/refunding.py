"""Refunding a payment, in two phases around the processor call (``processor_calls``), the
way every money action does it.

Phase 1: the payment is locked, what is left to refund is checked (refunds still pending
count), and the pending refund is written with its reference. A card payment's refund is then
asked of the processor with no transaction open; phase 2 locks the payment and the refund
again and applies the answer through ``settling.apply_refund_answer``. A cash or other payment
is paid back at the desk: its refund is settled at once, in phase 1, through the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from ..actors import Actor
from ..errors import ActionError
from ..extensions import db
from ..models import (
    AccountCreditReason,
    CreditEntry,
    Payment,
    PaymentMethodKind,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from ..money import format_money
from ..payments import RefundResult, get_gateway
from .account_credit import add_account_credit_entry
from .locks import lock
from .processor_calls import UNANSWERED, ask_processor
from .settling import Settlement, apply_refund_answer

REFUNDABLE_STATUSES = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED})


@dataclass(frozen=True)
class Refunded:
    """A refund made: the refund and its payment (locked in the current transaction), and
    what settling it did (the credit note)."""

    refund: Refund
    payment: Payment
    settlement: Settlement


def pending_refunds_minor(payment: Payment) -> int:
    """Refunds of ``payment`` asked of the processor whose outcome is not known yet."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_minor), 0))
        .where(Refund.payment_id == payment.id, Refund.status == RefundStatus.PENDING)))


def refundable_remainder(payment: Payment) -> int:
    """What may still be refunded: paid − refunded − refunds still pending."""
    return max(payment.amount_minor - payment.amount_refunded_minor
               - pending_refunds_minor(payment), 0)


def has_credits_to_take_back(payment: Payment) -> bool:
    """Whether credits ``payment`` granted are still outstanding (not taken back yet): what
    a refund's "Also take back the credits" would act on."""
    outstanding = db.session.scalar(select(func.sum(CreditEntry.quantity))
                                    .where(CreditEntry.payment_id == payment.id))
    return bool(outstanding and outstanding > 0)


def is_refund_candidate(payment: Payment) -> bool:
    """Cheap test for menus (no query): paid, and not all of it refunded yet. The refund
    checks the rest (``refund_refusal``: refunds still pending count too)."""
    return payment.status in REFUNDABLE_STATUSES \
        and payment.amount_refunded_minor < payment.amount_minor


def refund_refusal(payment: Payment) -> ActionError | None:
    """Why nothing of ``payment`` can be refunded now (``payment_not_refundable``), or
    ``None``."""
    if payment.status not in REFUNDABLE_STATUSES:
        why = {PaymentStatus.FAILED: "failed: nothing was paid",
               PaymentStatus.PENDING: "still pending: nothing is paid yet",
               PaymentStatus.REFUNDED: "already fully refunded"}[payment.status]
        return ActionError("payment_not_refundable",
                           f"Payment #{payment.id} cannot be refunded: it {why}.")
    if refundable_remainder(payment) <= 0:
        return ActionError("payment_not_refundable",
                           f"Payment #{payment.id} cannot be refunded: nothing is left to "
                           "refund (refunds still pending count too).")
    return None


def check_refundable(payment: Payment, amount_minor: int) -> None:
    """Refuse a refund of ``amount_minor`` that ``payment`` (locked) cannot take.

    Error codes: ``payment_not_refundable``, ``amount_not_positive``,
    ``refund_exceeds_remaining``."""
    refusal = refund_refusal(payment)
    if refusal is not None:
        raise refusal
    if amount_minor <= 0:
        raise ActionError("amount_not_positive", "Enter a refund amount greater than zero.")
    remainder = refundable_remainder(payment)
    if amount_minor > remainder:
        raise ActionError(
            "refund_exceeds_remaining",
            f"At most {format_money(remainder, payment.currency)} of payment #{payment.id} can "
            f"be refunded; {format_money(amount_minor, payment.currency)} is too much.")


def refund_payment_money(payment_id: int, *, amount_minor: int, reason: RefundReason,
                         note: str | None, actor: Actor, idempotency_key: str | None = None,
                         credit_note_line: str | None = None,
                         attach: Callable[[Refund], None] | None = None) -> Refunded:
    """Refund ``amount_minor`` of the payment (see the module's phases) and return it, made,
    with its credit note (``credit_note_line`` its line; by default "Refund of ...").

    A processor's "no" keeps the refund as failed with its reason (``gateway_refused``); a
    processor that does not answer keeps it pending, to be reconciled
    (``gateway_unavailable``); the payment is untouched either way. Both are raised with
    the record kept. Refusals before anything is written: as ``check_refundable``.

    A payment made from account credit is refunded into the account credit. ``attach(refund)``
    links the pending refund to what it is for in phase 1 (account credit refunded to the card).
    """
    payment = lock(Payment, payment_id)  # concurrent refunds of it queue here
    check_refundable(payment, amount_minor)
    refund = Refund(payment_id=payment.id, amount_minor=amount_minor, currency=payment.currency,
                    reason=reason, note=(note or "").strip() or None,
                    status=RefundStatus.PENDING, issued_by_id=actor.id,
                    idempotency_key=idempotency_key)
    db.session.add(refund)
    db.session.flush()
    if attach is not None:
        attach(refund)
    if payment.method is PaymentMethodKind.ACCOUNT_CREDIT:
        add_account_credit_entry(payment.contact_id, amount_minor=amount_minor,
                                 currency=payment.currency, reason=AccountCreditReason.RETURNED,
                                 note=f"Refund of payment #{payment.id}", actor=actor,
                                 payment_id=payment.id, refund_id=refund.id)
    if payment.method is not PaymentMethodKind.CARD:  # paid back at the desk
        settlement = apply_refund_answer(refund, payment, RefundResult(True, None),
                                         description=credit_note_line)
        return Refunded(refund, payment, settlement)
    if not payment.gateway_id:
        refund.status, refund.failure_reason = RefundStatus.FAILED, "no_gateway_charge"
        raise ActionError("gateway_refused",
                          f"Payment #{payment.id} has no charge at the payment processor "
                          "to refund. Nothing was refunded.", keep_changes=True)
    refund_id, amount = refund.id, format_money(amount_minor, payment.currency)
    answer = ask_processor(get_gateway().refund, charge_gateway_id=payment.gateway_id,
                           amount_minor=amount_minor, currency=payment.currency,
                           idempotency_key=refund.reference)
    payment = lock(Payment, payment_id)
    refund = lock(Refund, refund_id)
    if answer is UNANSWERED:
        # NOTE: unknown is not "failed": the processor may have refunded. The pending refund
        # keeps its amount out of what may still be refunded until it is settled.
        raise ActionError(
            "gateway_unavailable",
            f"The payment processor did not answer, so it is not known whether {amount} was "
            f"refunded. Refund #{refund.id} is kept as pending until the processor's answer is "
            "known (Cashier → Refunds, its ⋯ menu → Check with the processor); nothing else "
            "was changed.", keep_changes=True)
    settlement = apply_refund_answer(refund, payment, answer, description=credit_note_line)
    if refund.status is RefundStatus.FAILED:
        reason = (answer.failure_message if answer is not None else None) or "no reason given"
        raise ActionError("gateway_refused", f"The payment processor refused the refund: "
                                             f"{reason} Nothing was refunded.", keep_changes=True)
    return Refunded(refund, payment, settlement)


def card_payments_to_refund(contact_id: int, currency: str,
                            amount_minor: int) -> list[tuple[int, int]]:
    """[(payment id, amount)] that refund up to ``amount_minor`` to the contact's card: their
    card payments in ``currency`` made at the processor, newest first, each never more than it
    has left to refund."""
    plan, left = [], amount_minor
    payments = db.session.scalars(select(Payment).where(
        Payment.contact_id == contact_id, Payment.currency == currency,
        Payment.method == PaymentMethodKind.CARD, Payment.gateway_id.is_not(None),
        Payment.status.in_(REFUNDABLE_STATUSES))
        .order_by(Payment.paid_at.desc(), Payment.id.desc()))
    for payment in payments:
        if left <= 0:
            break
        part = min(refundable_remainder(payment), left)
        if part > 0:
            plan.append((payment.id, part))
            left -= part
    return plan
