"""Charging a contact's saved card through the gateway, the way every money action does it:
write the pending payment, call the gateway with a key derived from that row, then record
what the processor said. Used inside an action's unit of work."""

from __future__ import annotations

from sqlalchemy import select

from ..clock import utcnow
from ..extensions import db
from ..models import (
    Contact,
    Payment,
    PaymentMethod,
    PaymentMethodKind,
    PaymentPurpose,
    PaymentStatus,
)
from ..payments import ChargeStatus, GatewayUnavailable, get_gateway
from .base import ActionError

PROCESSOR_DOWN = ("The payment processor is not answering: nothing was charged. "
                  "Try again in a few minutes.")


def default_card(contact: Contact) -> PaymentMethod | None:
    return db.session.scalar(select(PaymentMethod).where(
        PaymentMethod.contact_id == contact.id, PaymentMethod.is_default.is_(True)))


def ensure_customer(contact: Contact) -> str:
    """The contact's customer id at the processor, created on first need."""
    if contact.stripe_customer_id:
        return contact.stripe_customer_id
    customer_id = get_gateway().create_customer(
        email=contact.email, name=contact.full_name, idempotency_key=f"contact-{contact.id}")
    contact.stripe_customer_id = customer_id
    return customer_id


def charge_saved_card(contact: Contact, *, amount_minor: int, currency: str,
                      purpose: PaymentPurpose, description: str,
                      subscription_id: int | None = None) -> Payment:
    """Charge the contact's default card and return the payment, succeeded.

    A decline or a card needing authentication is recorded as a failed payment with the
    processor's reason, then refused (``card_declined``, ``authentication_required``) with the
    record kept; an unreachable processor refuses with ``gateway_unavailable`` and keeps the
    failed attempt too. Without a saved card: ``no_payment_method``, nothing recorded.
    """
    card = default_card(contact)
    if card is None or not card.gateway_id:
        raise ActionError("no_payment_method",
                          f"{contact} has no saved card. Add one under Payment methods, or "
                          "record the payment as cash / other.")
    payment = Payment(contact_id=contact.id, subscription_id=subscription_id,
                      amount_minor=amount_minor, currency=currency, purpose=purpose,
                      method=PaymentMethodKind.CARD, description=description[:200],
                      status=PaymentStatus.PENDING)
    db.session.add(payment)
    db.session.flush()
    try:
        customer_id = ensure_customer(contact)
        result = get_gateway().charge(
            customer_id=customer_id, card_gateway_id=card.gateway_id,
            amount_minor=amount_minor, currency=currency, description=description,
            idempotency_key=f"payment-{payment.id}")
    except GatewayUnavailable:
        payment.status = PaymentStatus.FAILED
        payment.failure_reason = "processor_unavailable"
        raise ActionError("gateway_unavailable", PROCESSOR_DOWN, keep_changes=True) from None
    payment.gateway_id = result.gateway_id
    if result.status is ChargeStatus.SUCCEEDED:
        payment.status = PaymentStatus.SUCCEEDED
        payment.paid_at = utcnow()
        return payment
    payment.status = PaymentStatus.FAILED
    payment.failure_reason = (result.failure_code or "declined")[:200]
    if result.status is ChargeStatus.REQUIRES_ACTION:
        raise ActionError("authentication_required",
                          f"The card {card} needs the card holder's authentication: nothing "
                          "was charged. Send the member a link to update their payment method.",
                          keep_changes=True)
    raise ActionError("card_declined",
                      f"The card {card} was declined: {result.failure_message or 'no reason given'}"
                      " Nothing was charged.", keep_changes=True)


def record_offline_payment(contact: Contact, *, amount_minor: int, currency: str,
                           purpose: PaymentPurpose, description: str,
                           method: PaymentMethodKind) -> Payment:
    """A payment taken outside the processor (cash, bank transfer...), succeeded now."""
    payment = Payment(contact_id=contact.id, amount_minor=amount_minor, currency=currency,
                      purpose=purpose, method=method, description=description[:200],
                      status=PaymentStatus.SUCCEEDED, paid_at=utcnow())
    db.session.add(payment)
    db.session.flush()
    return payment
