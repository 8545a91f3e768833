"""The member saves a card through their payment-method link (workflow 9, the public page).

Two ways in, one outcome. With a processor whose card form runs in the browser (Stripe), the
page starts a card setup (a SetupIntent for the contact's customer), Stripe.js confirms it
with the member, and the page posts its id back; the card number never reaches the panel.
Without one (the offline gateway), the page posts the card itself and the gateway saves it.
Either way the card becomes the contact's default: subscriptions and fees charge it.
"""

from __future__ import annotations

from ..actors import SYSTEM
from ..billing.cards import check_card_dates, ensure_customer, record_member_card
from ..billing.locks import lock
from ..billing.processor_calls import UNANSWERED, ask_processor
from ..errors import ActionError
from ..models import Contact, PaymentMethod
from ..payments import CardDetails, CardRejected, get_gateway
from .runner import ANYONE, ActionResult, ActionRun

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


def save_card_from_link(contact: Contact, *, idempotency_key: str, setup_id: str | None = None,
                        card: CardDetails | None = None) -> ActionResult[PaymentMethod]:
    """Save the card the member gave on their payment-method link page as ``contact``'s
    default card: the confirmed card setup ``setup_id`` (browser gateways), or ``card`` as
    typed (others). The panel acts for the member (``SYSTEM``): the audit entry names no
    admin. The processor is asked with no transaction open (``billing.cards``).

    A card already on record under the same processor id (the same setup posted twice) is
    not added again: it is made the default. The page's form key makes a double submit save
    once.

    Error codes: ``setup_missing``, ``card_missing``, ``card_expired``, ``card_rejected`` (the
    processor's reason), ``authentication_required`` (the bank's check at setup was not
    passed), ``setup_not_for_customer``, ``setup_unknown``, ``setup_not_finished``,
    ``gateway_unavailable``, ``already_done``.
    """
    with ActionRun("save_card_from_link", actor=SYSTEM, key=idempotency_key, target=contact,
                   roles=ANYONE, doing="save cards") as run:
        contact_id = contact.id
        gateway = get_gateway()
        if gateway.collects_cards_in_browser and not setup_id:
            raise ActionError("setup_missing", "The card form did not finish. Reload the page "
                                               "and try again.")
        if not gateway.collects_cards_in_browser:
            check_card_dates(card)
        customer_id = ensure_customer(contact_id, unanswered=PROCESSOR_DOWN)
        try:
            if gateway.collects_cards_in_browser:
                saved = ask_processor(gateway.finish_card_setup, customer_id, setup_id)
            else:
                saved = ask_processor(gateway.save_card, customer_id, card,
                                      idempotency_key=f"link-card-{idempotency_key}")
        except CardRejected as rejected:
            code = rejected.code if rejected.code in _REFUSALS else "card_rejected"
            raise ActionError(code, _REFUSALS.get(
                code, f"The card was not accepted: {rejected.message}")) from None
        if saved is UNANSWERED:
            raise ActionError("gateway_unavailable", PROCESSOR_DOWN)
        contact = lock(Contact, contact_id)
        method, message = record_member_card(contact, saved, actor=SYSTEM)
        return run.finish_without_audit(method, message)
