"""Retry a failed card charge on the contact's current default card (the rules:
``billing.retry_rules``)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.charging import charge_saved_card
from ..billing.credit_payments import period_still_owed
from ..billing.locks import lock
from ..billing.paid_for import lock_owed
from ..billing.retry_rules import original_of, retry_refusal
from ..extensions import db
from ..models import BillingPeriod, Contact, Payment
from ..money import format_money
from .runner import STAFF, ActionResult, ActionRun


def retry_failed_payment(payment: Payment, *, actor: Actor,
                         idempotency_key: str) -> ActionResult[Payment]:
    """Charge failed ``payment`` again to the contact's default card, in two phases around the
    processor (``billing.charging``); return the new payment, succeeded (see
    ``billing.retry_rules``). Paid: a receipt is issued, a past due subscription becomes
    active, a failed no-show fee becomes charged (``billing.paid_for``, through settling).

    Error codes: ``not_permitted``, ``not_failed``, ``not_a_card_payment``, ``already_paid``,
    ``retry_pending``, ``appointment_not_found``, ``fee_already_charged``, ``fee_waived``,
    ``subscription_not_past_due``, ``not_current_period``, ``no_payment_method``,
    ``card_declined``, ``authentication_required``, ``gateway_unavailable``,
    ``payment_pending``, ``already_done``.
    """
    original = original_of(db.session.get(Payment, payment.id) or payment)
    with ActionRun("retry_failed_payment", actor=actor, key=idempotency_key, target=original,
                   roles=STAFF, doing="retry failed payments") as run:
        # Locks before the checks: one paid retry per payment, per overdue subscription and
        # per no-show fee, even when two admins retry at once; from phase 1 on, the pending
        # retry itself refuses a second one (``retry_pending``).
        original = lock(Payment, original.id)
        lock_owed(original)
        refusal = retry_refusal(original)
        if refusal is not None:
            raise refusal
        contact = lock(Contact, original.contact_id)
        amount_minor = _still_owed(original)
        amount, original_id = format_money(amount_minor, original.currency), original.id
        charged = charge_saved_card(
            contact, amount_minor=amount_minor, currency=original.currency,
            purpose=original.purpose, description=original.description or "",
            subscription_id=original.subscription_id, retry_of_id=original.id,
            idempotency_key=idempotency_key)
        retry, settled = charged.payment, charged.settlement
        message = (f"Retried payment #{original_id}: charged {amount} to {charged.card} "
                   f"of {retry.contact} (payment #{retry.id}). {settled.document_sentence()}"
                   + "".join(f" {effect}" for effect in settled.effects))
        return run.done(retry, message, after={
            "payment_id": retry.id, "status": retry.status.value,
            "receipt_id": settled.document.id if settled.document else None,
            "effects": settled.effects})


def _still_owed(original: Payment) -> int:
    """What the retry charges: the failed amount, or less when it was a billing period's charge
    and account credit has paid more of the period since (never the part already paid)."""
    if original.period_id is None:
        return original.amount_minor
    period = db.session.get(BillingPeriod, original.period_id)
    return max(min(original.amount_minor, period_still_owed(period)), 0)
