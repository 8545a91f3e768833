"""Charge a contact for a custom bill (workflow 5): a one-off amount with a description."""

from __future__ import annotations

from ..documents import queue_if_auto_send, receipt_for_payment
from ..models import (
    AdminUser,
    Contact,
    Payment,
    PaymentMethodKind,
    PaymentPurpose,
    record_audit,
)
from ..money import format_money, is_currency_code
from .base import STAFF, ActionError, claim, finish, lock, require_role, unit_of_work
from .charging import (
    ChargeNotMade,
    charge_saved_card,
    default_card,
    record_offline_payment,
)


def charge_custom_bill(contact: Contact, *, amount_minor: int, currency: str, description: str,
                       method: PaymentMethodKind, actor: AdminUser,
                       idempotency_key: str) -> Payment:
    """Charge ``contact`` ``amount_minor`` of ``currency`` for ``description`` and issue a
    receipt (queued when Cashier settings send receipts).

    ``method`` card charges the contact's default saved card through the processor; cash or
    other records money taken at the desk, succeeded at once. A declined card, or one needing
    the card holder's authentication, keeps the failed payment on record (with the
    processor's reason) and issues no receipt; a processor that does not answer keeps it
    pending, to be reconciled (``charging.charge_saved_card``).

    Error codes: ``not_permitted``, ``amount_not_positive``, ``currency_invalid``,
    ``description_required``, ``no_payment_method``, ``card_declined``,
    ``authentication_required``, ``gateway_unavailable``, ``payment_pending``,
    ``already_done``.
    """
    with unit_of_work():
        require_role(actor, STAFF, doing="charge contacts")
        request = claim("charge_custom_bill", idempotency_key, actor=actor, target=contact)
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
        if method is PaymentMethodKind.CARD:
            card = default_card(contact)
            try:
                payment = charge_saved_card(contact, amount_minor=amount_minor,
                                            currency=currency,
                                            purpose=PaymentPurpose.CUSTOM_BILL,
                                            description=description)
            except ActionError as refused:
                if isinstance(refused, ChargeNotMade):  # the attempt stays on record
                    record_audit(actor=actor, action="charge_custom_bill", target=contact,
                                 summary=f"Charge of {amount}: {refused.message}"[:300],
                                 after={"status": refused.payment.status.value,
                                        "payment_id": refused.payment.id,
                                        "amount_minor": amount_minor, "currency": currency})
                    finish(request, message=refused.message, error_code=refused.code)
                raise
            paid_how = f"to {card.display_name}"
        else:
            payment = record_offline_payment(contact, amount_minor=amount_minor,
                                             currency=currency,
                                             purpose=PaymentPurpose.CUSTOM_BILL,
                                             description=description, method=method)
            paid_how = f"paid by {method.label.lower()}"
        payment.idempotency_key = idempotency_key
        receipt = receipt_for_payment(payment, description=description)
        queued = queue_if_auto_send(receipt)
        message = (f"Charged {amount} {paid_how} for {contact}: “{description}”. {receipt} "
                   "issued" + (f" and queued to send by {queued.channel.label}." if queued
                               else "."))
        record_audit(actor=actor, action="charge_custom_bill", target=contact,
                     summary=message[:300],
                     after={"payment_id": payment.id, "status": payment.status.value,
                            "amount_minor": amount_minor, "currency": currency,
                            "method": method.value, "receipt_id": receipt.id})
        finish(request, message=message, result=payment)
    return payment
