"""Charge a contact for a custom bill (workflow 5)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.charging import (
    ChargeNotMade,
    charge_saved_card,
    checked_money,
    record_offline_payment,
)
from ..billing.credit_payments import pay_from_account_credit
from ..billing.locks import lock
from ..errors import ActionError
from ..models import Contact, Payment, PaymentMethodKind, PaymentPurpose
from ..money import format_money
from .runner import STAFF, ActionResult, ActionRun


def charge_custom_bill(contact: Contact, *, amount_minor: int, currency: str, description: str,
                       method: PaymentMethodKind, actor: Actor,
                       idempotency_key: str) -> ActionResult[Payment]:
    """Charge ``contact`` ``amount_minor`` of ``currency`` for ``description`` and issue a
    receipt (queued when Cashier settings send receipts).

    **Account credit first**: what the contact holds in ``currency`` pays the bill first, as a
    payment "paid from account credit" with its own receipt (the contact row locked, never
    below zero); only the rest is charged by ``method``, and nothing when it covers the bill.
    The account credit part is made before the card is asked, so a declined card leaves it
    paid (the failed card attempt kept for the rest, to charge again).

    ``method`` card charges the contact's default saved card through the processor, in two
    phases (``billing.charging``); cash or other records money taken at the desk, succeeded
    at once. A declined card, or one needing the card holder's authentication, keeps the
    failed payment on record (with the processor's reason) and issues no receipt; a processor
    that does not answer keeps it pending, to be reconciled.

    Error codes: ``not_permitted``, ``amount_not_positive``, ``currency_invalid``,
    ``description_required``, ``no_payment_method``, ``card_declined``,
    ``authentication_required``, ``gateway_unavailable``, ``payment_pending``,
    ``already_done``.
    """
    with ActionRun("charge_custom_bill", actor=actor, key=idempotency_key, target=contact,
                   roles=STAFF, doing="charge contacts") as run:
        contact = lock(Contact, contact.id)
        currency = checked_money(amount_minor, currency)
        description = (description or "").strip()
        if not description:
            raise ActionError("description_required", "Say what the bill is for.")
        method = PaymentMethodKind(method)
        credit = pay_from_account_credit(
            contact.id, owed_minor=amount_minor, currency=currency,
            purpose=PaymentPurpose.CUSTOM_BILL, description=description,
            note=f"Custom bill: {description}", actor=actor)
        from_credit = credit.payment if credit is not None else None
        credit_said = credit.sentence() if credit is not None else ""
        rest = amount_minor - from_credit.amount_minor if from_credit else amount_minor
        bill = {"amount_minor": rest, "currency": currency,
                "purpose": PaymentPurpose.CUSTOM_BILL, "description": description,
                "idempotency_key": idempotency_key}
        if rest == 0:
            payment, paid_how, settlement = from_credit, None, None
        elif method is PaymentMethodKind.CARD:
            try:
                charged = charge_saved_card(contact, **bill)
            except ChargeNotMade as refused:
                if from_credit is not None:
                    refused.message = f"{credit_said} The rest: {refused.message}"
                raise
            payment, settlement = charged.payment, charged.settlement
            paid_how = f"to {charged.card}"
        else:
            payment, settlement = record_offline_payment(contact, method=method, **bill)
            paid_how = f"paid by {method.label.lower()}"
        said = [credit_said] if from_credit is not None else []
        if settlement is not None:
            said.append(f"Charged {format_money(rest, currency)} {paid_how}: "
                        f"{settlement.document_sentence()}")
        message = (f"Billed {format_money(amount_minor, currency)} to {payment.contact} for "
                   f"“{description}”. {' '.join(said)}")
        return run.done(payment, message, after={
            "payment_id": payment.id, "status": payment.status.value,
            "amount_minor": amount_minor, "currency": currency, "method": method.value,
            "from_account_credit_minor": from_credit.amount_minor if from_credit else 0,
            "account_credit_payment_id": from_credit.id if from_credit else None,
            "receipt_id": settlement.document.id if settlement and settlement.document
            else None})
