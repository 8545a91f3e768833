"""Refund a payment, in full or in part (workflow 1)."""

from __future__ import annotations

from sqlalchemy import func, select

from ..documents import credit_note_for_refund, queue_if_auto_send
from ..extensions import db
from ..models import (
    AdminUser,
    Contact,
    CreditEntry,
    CreditReason,
    Payment,
    Refund,
    RefundReason,
    Service,
    record_audit,
)
from ..money import format_money
from .adjust_credits import credit_balance
from .base import STAFF, ActionError, claim, finish, lock, require_role, unit_of_work
from .refunding import refund_locked_payment


def refund_payment(payment: Payment, *, amount_minor: int, reason: RefundReason,
                   note: str | None, reverse_credits: bool, actor: AdminUser,
                   idempotency_key: str, currency: str | None = None) -> Refund:
    """Refund ``amount_minor`` of ``payment`` and issue a credit note for it.

    Never more than what is left: paid − already refunded − refunds still pending, read
    under the payment's row lock, so two admins refunding at once cannot together refund
    more than was paid. A card payment is refunded through the processor; cash and other
    payments are recorded as paid back at the desk. The payment becomes partially refunded
    or refunded; the credit note is queued when Cashier settings send credit notes.

    With ``reverse_credits`` the credits this payment granted are taken back by reversal
    entries in the ledger, as far as the contact still has them (never below zero).

    ``currency``, when given, is the currency the admin typed the amount in.

    Error codes: ``not_permitted``, ``currency_mismatch``, ``note_required`` (reason
    "Other"), ``payment_not_refundable``, ``amount_not_positive``,
    ``refund_exceeds_remaining``, ``gateway_refused`` (the failed refund is kept),
    ``gateway_unavailable`` (the refund is kept pending, to be reconciled), ``already_done``.
    """
    with unit_of_work():
        require_role(actor, STAFF, doing="refund payments")
        request = claim("refund_payment", idempotency_key, actor=actor, target=payment)
        payment = lock(Payment, payment.id)  # concurrent refunds of it queue here
        if currency is not None and currency.strip().upper() != payment.currency:
            raise ActionError("currency_mismatch",
                              f"Payment #{payment.id} was paid in {payment.currency}: refund it in "
                              f"{payment.currency}, not {currency.strip().upper()}.")
        reason = RefundReason(reason)
        if reason is RefundReason.OTHER and not (note or "").strip():
            raise ActionError("note_required", "Say in the note why the payment is refunded.")
        before = {"status": payment.status.value,
                  "amount_refunded_minor": payment.amount_refunded_minor}
        try:
            refund = refund_locked_payment(payment, amount_minor=amount_minor, reason=reason,
                                           note=note, actor=actor,
                                           idempotency_key=idempotency_key)
        except ActionError as refused:
            if refused.keep_changes:  # the failed refund stays on record: audit it too
                record_audit(actor=actor, action="refund_payment", target=payment,
                             summary=refused.message[:300], before=before, after=before)
                finish(request, message=refused.message, error_code=refused.code)
            raise
        credit_note = credit_note_for_refund(
            refund, description=f"Refund of {payment.description or payment.purpose.label} "
                                f"(payment #{payment.id})")
        queued = queue_if_auto_send(credit_note)
        message = (f"Refunded {format_money(amount_minor, payment.currency)} of payment "
                   f"#{payment.id} to {payment.contact}: the payment is now "
                   f"{payment.status.label.lower()}. {credit_note} issued"
                   + (f" and queued to send by {queued.channel.label}." if queued else "."))
        reversed_credits: dict[str, int] = {}
        if reverse_credits:
            reversed_credits, said = _take_back_credits(payment, actor)
            message += f" {said}"
        record_audit(actor=actor, action="refund_payment", target=payment,
                     summary=message[:300], before=before,
                     after={"status": payment.status.value,
                            "amount_refunded_minor": payment.amount_refunded_minor,
                            "refund_id": refund.id, "refund_minor": amount_minor,
                            "credit_note_id": credit_note.id,
                            "credits_reversed": reversed_credits})
        finish(request, message=message, result=refund)
    return refund


def _take_back_credits(payment: Payment, actor: AdminUser) -> tuple[dict[str, int], str]:
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
