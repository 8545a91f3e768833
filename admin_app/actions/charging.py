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
from ..money import format_money
from ..payments import ChargeStatus, GatewayUnavailable, get_gateway
from .base import ActionError
from .payment_method_link import link_sent_sentence, queue_payment_method_link

PROCESSOR_DOWN = ("The payment processor is not answering: nothing was charged. "
                  "Try again in a few minutes.")


class ChargeNotMade(ActionError):
    """The processor declined the charge, or did not answer: ``payment`` stays on record,
    failed or pending, and the calling action keeps it (its audit says which)."""

    def __init__(self, code: str, message: str, payment: Payment) -> None:
        super().__init__(code, message, keep_changes=True)
        self.payment = payment


def charge_reference(payment: Payment) -> str:
    """The idempotency key the processor is asked with for ``payment``, and the reference
    reconciliation finds the charge by."""
    return f"payment-{payment.id}"


def unsettled_card_payment(contact: Contact) -> Payment | None:
    """A card payment of the contact still waiting for the processor's answer, if any."""
    return db.session.scalar(select(Payment).where(
        Payment.contact_id == contact.id, Payment.method == PaymentMethodKind.CARD,
        Payment.status == PaymentStatus.PENDING).order_by(Payment.id).limit(1))


def default_card(contact: Contact) -> PaymentMethod | None:
    return db.session.scalar(select(PaymentMethod).where(
        PaymentMethod.contact_id == contact.id, PaymentMethod.is_default.is_(True)))


def ensure_customer(contact: Contact) -> str:
    """The contact's customer id at the processor, created on first need (refused with
    ``gateway_unavailable`` when the processor does not answer)."""
    if contact.stripe_customer_id:
        return contact.stripe_customer_id
    try:
        customer_id = get_gateway().create_customer(
            email=contact.email, name=contact.full_name,
            idempotency_key=f"contact-{contact.id}")
    except GatewayUnavailable:
        raise ActionError("gateway_unavailable", "The payment processor is not answering: "
                          "nothing was done. Try again in a few minutes.") from None
    contact.stripe_customer_id = customer_id
    return customer_id


def charge_saved_card(contact: Contact, *, amount_minor: int, currency: str,
                      purpose: PaymentPurpose, description: str,
                      subscription_id: int | None = None) -> Payment:
    """Charge the contact's default card and return the payment, succeeded.

    A decline or a card needing authentication is recorded as a failed payment with the
    processor's reason, then refused (``card_declined``, ``authentication_required``) with the
    record kept; a card needing authentication also sends the member their payment-method link,
    since an off-session charge cannot ask them. A processor that does not answer (down,
    timeout, 5xx) may or may not have charged: the payment is kept **pending** and refused with
    ``gateway_unavailable``; the reconcile action (or a webhook) settles it later. While a
    contact has such a pending card payment, charging them again is refused
    (``payment_pending``): the first charge may have gone through. Without a saved card:
    ``no_payment_method``, nothing recorded.
    """
    card = default_card(contact)
    if card is None or not card.gateway_id:
        raise ActionError("no_payment_method",
                          f"{contact} has no saved card. Add one under Payment methods, or "
                          "record the payment as cash / other.")
    unsettled = unsettled_card_payment(contact)
    if unsettled is not None:
        raise ActionError(
            "payment_pending",
            f"Payment #{unsettled.id} of "
            f"{format_money(unsettled.amount_minor, unsettled.currency)} to {contact}'s card is "
            "still waiting for the payment processor's answer, so it may have been charged. "
            "Reconcile it first (Cashier → Transactions, its ⋯ menu → Check with the processor), "
            "so the member is not charged twice.")
    customer_id = ensure_customer(contact)  # unanswered here: nothing was asked to charge
    payment = Payment(contact_id=contact.id, subscription_id=subscription_id,
                      amount_minor=amount_minor, currency=currency, purpose=purpose,
                      method=PaymentMethodKind.CARD, description=description[:200],
                      status=PaymentStatus.PENDING)
    db.session.add(payment)
    db.session.flush()
    try:
        result = get_gateway().charge(
            customer_id=customer_id, card_gateway_id=card.gateway_id,
            amount_minor=amount_minor, currency=currency, description=description,
            idempotency_key=charge_reference(payment))
    except GatewayUnavailable:
        # NOTE: unknown is not "failed": the request may have reached the processor.
        raise ChargeNotMade(
            "gateway_unavailable",
            f"The payment processor did not answer, so it is not known whether "
            f"{format_money(amount_minor, currency)} was charged. Payment #{payment.id} is kept "
            "as pending until the processor's answer is known (Cashier → Transactions, its ⋯ menu "
            "→ Check with the processor); nothing else was changed.", payment) from None
    payment.gateway_id = result.gateway_id
    if result.status is ChargeStatus.SUCCEEDED:
        payment.status = PaymentStatus.SUCCEEDED
        payment.paid_at = utcnow()
        return payment
    payment.status = PaymentStatus.FAILED
    payment.failure_reason = (result.failure_code or "declined")[:200]
    if result.status is ChargeStatus.REQUIRES_ACTION:
        # NOTE: an off-session charge cannot ask the member to authenticate: the member gets
        # the payment-method link, whose page sets the card up with them present.
        try:
            sent = link_sent_sentence(queue_payment_method_link(
                contact, actor=None, why=f"the card {card} needs the card holder's "
                                         "authentication"))
        except ActionError as nowhere:
            sent = nowhere.message
        raise ChargeNotMade("authentication_required",
                            f"The card {card} needs the card holder's authentication: nothing "
                            f"was charged. {sent}", payment)
    raise ChargeNotMade("card_declined",
                        f"The card {card} was declined: "
                        f"{result.failure_message or 'no reason given'} Nothing was charged.",
                        payment)


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
