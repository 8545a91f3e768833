"""Add / update a payment method at the desk (workflow 9): the card goes to the processor;
we keep only its brand, last 4, expiry and the processor's id."""

from __future__ import annotations

from sqlalchemy import update

from ..extensions import db
from ..models import AdminUser, Contact, PaymentMethod, record_audit
from ..payments import CardDetails, CardRejected, GatewayUnavailable, get_gateway
from .base import STAFF, ActionError, claim, finish, lock, require_role, unit_of_work
from .charging import PROCESSOR_DOWN, ensure_customer


def add_payment_method(contact: Contact, *, card: CardDetails, make_default: bool,
                       actor: AdminUser, idempotency_key: str) -> PaymentMethod:
    """Save ``card`` for ``contact`` at the processor; optionally make it the default that
    subscriptions and fees charge. A number that cannot be a card's (length, check digit) is
    refused before the processor is asked: not every processor checks it for us.

    Error codes: ``not_permitted``, ``card_expired``, ``card_rejected``,
    ``gateway_unavailable``, ``already_done``.
    """
    with unit_of_work():
        require_role(actor, STAFF, doing="change payment methods")
        request = claim("add_payment_method", idempotency_key, actor=actor, target=contact)
        contact = lock(Contact, contact.id)
        if not 1 <= card.exp_month <= 12 or card.exp_year < 2000:
            raise ActionError("card_expired", "Enter a valid expiry month and year.")
        if card.number_problem():
            raise ActionError("card_rejected", f"The card was not accepted: "
                                               f"{card.number_problem()}")
        try:
            customer_id = ensure_customer(contact)
            saved = get_gateway().save_card(customer_id, card,
                                            idempotency_key=f"card-{idempotency_key}")
        except CardRejected as rejected:
            raise ActionError("card_rejected", f"The card was not accepted: {rejected.message}") \
                from None
        except GatewayUnavailable:
            raise ActionError("gateway_unavailable", PROCESSOR_DOWN.replace(
                "nothing was charged", "no card was saved")) from None
        if make_default:
            db.session.execute(update(PaymentMethod)
                               .where(PaymentMethod.contact_id == contact.id)
                               .values(is_default=False))
        method = PaymentMethod(contact_id=contact.id, brand=saved.brand, last4=saved.last4,
                               exp_month=saved.exp_month, exp_year=saved.exp_year,
                               is_default=make_default, gateway_id=saved.gateway_id)
        db.session.add(method)
        db.session.flush()
        message = f"Saved {method} for {contact}" + (" as the default card." if make_default
                                                     else ".")
        record_audit(actor=actor, action="add_payment_method", target=contact, summary=message,
                     after={"payment_method_id": method.id, "is_default": make_default})
        finish(request, message=message, result=method)
    return method
