"""Add / update a payment method at the desk (workflow 9): the card goes to the processor;
we keep only its brand, last 4, expiry and the processor's id."""

from __future__ import annotations

from ..actors import Actor
from ..billing.cards import NOTHING_SAVED, ensure_customer, record_card
from ..billing.locks import lock
from ..billing.processor_calls import UNANSWERED, ask_processor
from ..errors import ActionError
from ..models import Contact, PaymentMethod
from ..payments import CardDetails, CardRejected, get_gateway
from .runner import STAFF, ActionResult, ActionRun


def add_payment_method(contact: Contact, *, card: CardDetails, make_default: bool,
                       actor: Actor, idempotency_key: str) -> ActionResult[PaymentMethod]:
    """Save ``card`` for ``contact`` at the processor; optionally make it the default that
    subscriptions and fees charge. A number that cannot be a card's (length, check digit) is
    refused before the processor is asked: not every processor checks it for us. The
    processor is asked with no transaction open (``billing.cards``).

    Error codes: ``not_permitted``, ``card_expired``, ``card_rejected``,
    ``gateway_unavailable``, ``already_done``.
    """
    with ActionRun("add_payment_method", actor=actor, key=idempotency_key, target=contact,
                   roles=STAFF, doing="change payment methods") as run:
        contact_id = contact.id
        if not 1 <= card.exp_month <= 12 or card.exp_year < 2000:
            raise ActionError("card_expired", "Enter a valid expiry month and year.")
        if card.number_problem():
            raise ActionError("card_rejected", f"The card was not accepted: "
                                               f"{card.number_problem()}")
        customer_id = ensure_customer(contact_id)
        try:
            saved = ask_processor(get_gateway().save_card, customer_id, card,
                                  idempotency_key=f"card-{idempotency_key}")
        except CardRejected as rejected:
            raise ActionError("card_rejected", f"The card was not accepted: {rejected.message}") \
                from None
        if saved is UNANSWERED:
            raise ActionError("gateway_unavailable", NOTHING_SAVED)
        contact = lock(Contact, contact_id)
        method = record_card(contact, saved, make_default=make_default)
        message = f"Saved {method} for {contact}" + (" as the default card." if make_default
                                                     else ".")
        return run.done(method, message,
                        after={"payment_method_id": method.id, "is_default": make_default})
