"""The member saves a card through their payment-method link (workflow 9, the public page).

Two ways in, one outcome. With a processor whose card form runs in the browser (Stripe), the
page starts a card setup (a SetupIntent for the contact's customer), Stripe.js confirms it
with the member, and the page posts its id back; the card number never reaches the panel.
Without one (the offline gateway), the page posts the card itself and the gateway saves it.
Either way the card becomes the contact's default: subscriptions and fees charge it.
"""

from __future__ import annotations

from uuid import uuid4

from sqlalchemy import select, update

from ..clock import utcnow
from ..extensions import db
from ..models import Contact, PaymentMethod, record_audit
from ..payments import (
    CardDetails,
    CardRejected,
    CardSetup,
    GatewayUnavailable,
    SavedCard,
    get_gateway,
)
from .base import ActionError, claim, finish, lock, unit_of_work
from .charging import ensure_customer

BY_THE_MEMBER = "by the member via the payment-method link"
PROCESSOR_DOWN = ("The payment processor is not answering, so no card was saved. Please try "
                  "again in a few minutes.")

# The processor's refusal codes the member is told about in plain words; others get the
# processor's own sentence.
_REFUSALS = {
    "authentication_required": "Your bank asked you to confirm the card and it was not "
                               "confirmed, so it was not saved. Try again, or use another card.",
    "setup_not_for_customer": "This card setup does not belong to this link. Reload the page "
                              "and try again.",
    "setup_unknown": "This card setup is unknown. Reload the page and try again.",
    "setup_not_finished": "The card form was not completed, so no card was saved. Please try "
                          "again.",
}


def start_card_setup_from_link(contact: Contact) -> CardSetup:
    """Start a card setup at the processor for the member's page (Stripe: a SetupIntent for
    the contact's customer, created on first need and kept on the contact).

    Each page view starts its own setup (a fresh idempotency key): a setup that is never
    confirmed costs nothing and saves nothing.

    Error code: ``gateway_unavailable``.
    """
    with unit_of_work():
        contact = lock(Contact, contact.id)
        try:
            customer_id = ensure_customer(contact)
            return get_gateway().start_card_setup(customer_id,
                                                  idempotency_key=f"link-{uuid4().hex}")
        except GatewayUnavailable:
            raise ActionError("gateway_unavailable", PROCESSOR_DOWN) from None


def save_card_from_link(contact: Contact, *, idempotency_key: str, setup_id: str | None = None,
                        card: CardDetails | None = None) -> PaymentMethod:
    """Save the card the member gave on their payment-method link page as ``contact``'s
    default card: the confirmed card setup ``setup_id`` (browser gateways), or ``card`` as
    typed (others). The audit entry has no actor: it was done by the member.

    A card already on record under the same processor id (the same setup posted twice) is
    not added again: it is made the default. The page's form key makes a double submit save
    once.

    Error codes: ``setup_missing``, ``card_missing``, ``card_expired``, ``card_rejected`` (the
    processor's reason), ``authentication_required`` (the bank's check at setup was not
    passed), ``setup_not_for_customer``, ``setup_unknown``, ``setup_not_finished``,
    ``gateway_unavailable``, ``already_done``.
    """
    with unit_of_work():
        request = claim("save_card_from_link", idempotency_key, actor=None, target=contact)
        contact = lock(Contact, contact.id)
        gateway = get_gateway()
        try:
            customer_id = ensure_customer(contact)
            if gateway.collects_cards_in_browser:
                if not setup_id:
                    raise ActionError("setup_missing", "The card form did not finish. Reload "
                                                       "the page and try again.")
                saved = gateway.finish_card_setup(customer_id, setup_id)
            else:
                _check_typed_card(card)
                saved = gateway.save_card(customer_id, card,
                                          idempotency_key=f"link-card-{idempotency_key}")
        except CardRejected as rejected:
            code = rejected.code if rejected.code in _REFUSALS else "card_rejected"
            raise ActionError(code, _REFUSALS.get(
                code, f"The card was not accepted: {rejected.message}")) from None
        except GatewayUnavailable:
            raise ActionError("gateway_unavailable", PROCESSOR_DOWN) from None
        method, message = record_member_card(contact, saved)
        finish(request, message=message, result=method)
    return method


def record_member_card(contact: Contact, saved: SavedCard, *,
                       how: str = BY_THE_MEMBER) -> tuple[PaymentMethod, str]:
    """Record the card the member saved at the processor as ``contact``'s default (the
    contact locked by the caller, inside its transaction), with the audit entry; a card
    already on record under the same processor id is made the default, not added again."""
    method = _make_default(contact, saved)
    message = f"Saved {method} as the default card of {contact}, {how}."
    record_audit(actor=None, action="save_card_from_link", target=contact, summary=message,
                 after={"payment_method_id": method.id, "is_default": True,
                        "gateway_id": method.gateway_id})
    return method, message


def _check_typed_card(card: CardDetails | None) -> None:
    if card is None or not card.number.strip():
        raise ActionError("card_missing", "Enter the card number.")
    if not 1 <= card.exp_month <= 12 or card.exp_year < 2000:
        raise ActionError("card_expired", "Enter a valid expiry month and year.")
    now = utcnow()
    if (card.exp_year, card.exp_month) < (now.year, now.month):
        raise ActionError("card_expired", "This card has expired: use a card that is still "
                                          "valid.")


def _make_default(contact: Contact, saved) -> PaymentMethod:
    method = db.session.scalar(select(PaymentMethod).where(
        PaymentMethod.gateway_id == saved.gateway_id, PaymentMethod.contact_id == contact.id))
    db.session.execute(update(PaymentMethod).where(PaymentMethod.contact_id == contact.id)
                       .values(is_default=False))
    if method is None:
        method = PaymentMethod(contact_id=contact.id, brand=saved.brand, last4=saved.last4,
                               exp_month=saved.exp_month, exp_year=saved.exp_year,
                               gateway_id=saved.gateway_id)
        db.session.add(method)
    method.is_default = True
    db.session.flush()
    return method
