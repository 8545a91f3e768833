"""The member's side of the payment-method link, for tests on either gateway: what the public
page does to save a card, ending in ``save_card_from_link``.

On the offline gateway the page posts the typed card. On Stripe the page starts a SetupIntent,
Stripe.js confirms it in the browser with the publishable key (here: the same request
localstripe's Stripe.js makes), and the page posts the SetupIntent's id.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from admin_app.actions.save_card_from_link import save_card_from_link
from admin_app.actions.start_card_setup import start_card_setup
from admin_app.payments import CardDetails


def confirm_like_stripe_js(localstripe: str, client_secret: str, number: str, *,
                           exp: tuple[int, int] = (12, 2030), authenticate: bool = True) -> dict:
    """Confirm a SetupIntent as Stripe.js does in the member's browser; with ``authenticate``
    a card asking for 3-D Secure is authenticated (the member clicks "Complete"), else it is
    left waiting for it. Returns the SetupIntent, or ``{"error": ...}``."""
    setup_id = client_secret.split("_secret_")[0]

    def post(path: str, body: dict) -> dict:
        request = urllib.request.Request(
            f"{localstripe}/v1/setup_intents/{setup_id}/{path}", method="POST",
            data=json.dumps({"key": "pk_test_x", "client_secret": client_secret, **body})
            .encode())
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            return json.loads(error.read())

    intent = post("confirm", {"use_stripe_sdk": True, "payment_method_data": {
        "type": "card", "card": {"number": number, "exp_month": exp[0], "exp_year": exp[1],
                                 "cvc": "123"}}})
    if intent.get("status") == "requires_action" and authenticate:
        intent = post("confirm", {"use_stripe_sdk": True})
    return intent


def member_saves_card(contact, number: str = "4242424242424242", *, key: str, processor,
                      exp: tuple[int, int] = (12, 2030), authenticate: bool = True):
    """The member saves ``number`` through their link's page, on the panel's gateway."""
    if processor.kind == "offline":
        return save_card_from_link(contact, card=CardDetails(number, exp[0], exp[1], "123"),
                                   idempotency_key=key).record
    setup = start_card_setup(contact)
    confirm_like_stripe_js(processor.base, setup.client_secret, number, exp=exp,
                           authenticate=authenticate)
    return save_card_from_link(contact, setup_id=setup.id, idempotency_key=key).record
