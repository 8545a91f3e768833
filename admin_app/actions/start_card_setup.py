"""Start the card setup behind the member's payment-method page (workflow 9)."""

from __future__ import annotations

from uuid import uuid4

from ..billing.cards import ensure_customer
from ..billing.processor_calls import UNANSWERED, ask_processor
from ..errors import ActionError
from ..models import Contact
from ..payments import CardSetup, get_gateway

PROCESSOR_DOWN = ("The payment processor is not answering, so no card can be saved now. Please "
                  "try again in a few minutes.")


def start_card_setup(contact: Contact) -> CardSetup:
    """Start a card setup at the processor for the member's page (Stripe: a SetupIntent for
    the contact's customer, created on first need and kept on the contact), with no
    transaction open while the processor is asked.

    Not a business action of its own: each page view starts a setup (a fresh idempotency
    key), which saves nothing until the member confirms it (``save_card_from_link``) and
    costs nothing if they never do; so there is no claim and no audit entry.

    Error code: ``gateway_unavailable``.
    """
    customer_id = ensure_customer(contact.id, unanswered=PROCESSOR_DOWN)
    setup = ask_processor(get_gateway().start_card_setup, customer_id,
                          idempotency_key=f"link-{uuid4().hex}")
    if setup is UNANSWERED:
        raise ActionError("gateway_unavailable", PROCESSOR_DOWN)
    return setup
