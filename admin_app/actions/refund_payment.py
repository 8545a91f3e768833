"""Refund a payment, in full or in part (workflow 1)."""

from __future__ import annotations

from sqlalchemy import func, select

from ..actors import Actor
from ..billing.credits import credit_balance
from ..billing.locks import lock
from ..billing.refunding import refund_payment_money
from ..errors import ActionError
from ..extensions import db
from ..models import (
    Contact,
    CreditEntry,
    CreditReason,
    Payment,
    Refund,
    RefundReason,
    Service,
)
from ..money import format_money
from .runner import STAFF, ActionResult, ActionRun


def refund_payment(payment: Payment, *, amount_minor: int, reason: RefundReason,
                   note: str | None, reverse_credits: bool, actor: Actor,
                   idempotency_key: str, currency: str | None = None) -> ActionResult[Refund]:
    """Refund ``amount_minor`` of ``payment`` and issue a credit note for it.

    Never more than what is left: paid − already refunded − refunds still pending, read
    under the payment's row lock, so two admins refunding at once cannot together refund
    more than was paid. A card payment is refunded through the processor, in two phases
    (``billing.refunding``); cash and other payments are recorded as paid back at the desk.
    The payment becomes partially refunded or refunded; the credit note is queued when
    Cashier settings send credit notes.

    With ``reverse_credits`` the credits this payment granted are taken back by reversal
    entries in the ledger, as far as the contact still has them (never below zero).

    ``currency``, when given, is the currency the admin typed the amount in.

    Error codes: ``not_permitted``, ``currency_mismatch``, ``note_required`` (reason
    "Other"), ``payment_not_refundable``, ``amount_not_positive``,
    ``refund_exceeds_remaining``, ``gateway_refused`` (the failed refund is kept),
    ``gateway_unavailable`` (the refund is kept pending, to be reconciled), ``already_done``.
    """
    with ActionRun("refund_payment", actor=actor, key=idempotency_key, target=payment,
                   roles=STAFF, doing="refund payments") as run:
        payment = lock(Payment, payment.id)
        if currency is not None and currency.strip().upper() != payment.currency:
            raise ActionError("currency_mismatch",
                              f"Payment #{payment.id} was paid in {payment.currency}: refund it in "
                              f"{payment.currency}, not {currency.strip().upper()}.")
        reason = RefundReason(reason)
        if reason is RefundReason.OTHER and not (note or "").strip():
            raise ActionError("note_required", "Say in the note why the payment is refunded.")
        run.before = {"status": payment.status.value,
                      "amount_refunded_minor": payment.amount_refunded_minor}
        refunded = refund_payment_money(payment.id, amount_minor=amount_minor, reason=reason,
                                        note=note, actor=actor,
                                        idempotency_key=idempotency_key)
        refund, payment = refunded.refund, refunded.payment
        message = (f"Refunded {format_money(amount_minor, payment.currency)} of payment "
                   f"#{payment.id} to {payment.contact}: the payment is now "
                   f"{payment.status.label.lower()}. {refunded.settlement.document_sentence()}")
        reversed_credits: dict[str, int] = {}
        if reverse_credits:
            reversed_credits, said = _take_back_credits(payment, actor)
            message += f" {said}"
        note_document = refunded.settlement.document
        return run.done(refund, message, after={
            "status": payment.status.value,
            "amount_refunded_minor": payment.amount_refunded_minor,
            "refund_id": refund.id, "refund_minor": amount_minor,
            "credit_note_id": note_document.id if note_document else None,
            "credits_reversed": reversed_credits})


def _take_back_credits(payment: Payment, actor: Actor) -> tuple[dict[str, int], str]:
    """Reverse what is left of the credits ``payment`` granted, per service, without taking
    any balance below zero. Returns {service id: credits taken back} and a sentence."""
    contact = lock(Contact, payment.contact_id)  # serialises with credit adjustments
    granted = db.session.execute(
        select(CreditEntry.service_id, func.sum(CreditEntry.quantity))
        .where(CreditEntry.payment_id == payment.id)
        .group_by(CreditEntry.service_id).order_by(CreditEntry.service_id)).all()
    taken: dict[str, int] = {}
    done, short = [], []
    for service_id, outstanding in granted:
        if outstanding <= 0:
            continue
        service = db.session.get(Service, service_id)
        take = min(int(outstanding), max(credit_balance(contact.id, service_id), 0))
        if take > 0:
            # NOTE: the reversal carries the payment's id, so a later refund of the same
            # payment only takes back what is still outstanding.
            db.session.add(CreditEntry(
                contact_id=contact.id, service_id=service_id, payment_id=payment.id,
                quantity=-take, reason=CreditReason.REVERSAL,
                note=f"Refund of payment #{payment.id}", created_by_id=actor.id))
            taken[str(service_id)] = take
            done.append(f"{take} {service}")
        if take < outstanding:
            short.append(f"{int(outstanding) - take} {service}")
    db.session.flush()
    if not granted:
        return taken, "This payment granted no credits to take back."
    if not done and not short:
        return taken, "The credits this payment granted were already taken back."
    said = f"Took back {', '.join(done)} credit(s)." if done else "No credits taken back."
    if short:
        said += (f" {', '.join(short)} credit(s) were already used or removed and could not "
                 "be taken back.")
    return taken, said
