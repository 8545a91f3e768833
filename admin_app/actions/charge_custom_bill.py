"""Charge a contact for a custom bill (workflow 5)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.charging import charge_saved_card, record_offline_payment
from ..billing.locks import lock
from ..errors import ActionError
from ..models import Contact, Payment, PaymentMethodKind, PaymentPurpose
from ..money import format_money, is_currency_code
from .runner import STAFF, ActionResult, ActionRun


def charge_custom_bill(contact: Contact, *, amount_minor: int, currency: str, description: str,
                       method: PaymentMethodKind, actor: Actor,
                       idempotency_key: str) -> ActionResult[Payment]:
    """Charge ``contact`` ``amount_minor`` of ``currency`` for ``description`` and issue a
    receipt (queued when Cashier settings send receipts).

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
        if amount_minor <= 0:
            raise ActionError("amount_not_positive", "Enter an amount greater than zero.")
        currency = (currency or "").strip().upper()
        if not is_currency_code(currency):
            raise ActionError("currency_invalid",
                              "Enter the currency as its three-letter code, e.g. USD.")
        description = (description or "").strip()
        if not description:
            raise ActionError("description_required", "Say what the bill is for.")
        method = PaymentMethodKind(method)
        amount = format_money(amount_minor, currency)
        bill = {"amount_minor": amount_minor, "currency": currency,
                "purpose": PaymentPurpose.CUSTOM_BILL, "description": description,
                "idempotency_key": idempotency_key}
        if method is PaymentMethodKind.CARD:
            charged = charge_saved_card(contact, **bill)
            payment, settlement = charged.payment, charged.settlement
            paid_how = f"to {charged.card}"
        else:
            payment, settlement = record_offline_payment(contact, method=method, **bill)
            paid_how = f"paid by {method.label.lower()}"
        message = (f"Charged {amount} {paid_how} for {payment.contact}: “{description}”. "
                   f"{settlement.document_sentence()}")
        return run.done(payment, message, after={
            "payment_id": payment.id, "status": payment.status.value,
            "amount_minor": amount_minor, "currency": currency, "method": method.value,
            "receipt_id": settlement.document.id if settlement.document else None})
