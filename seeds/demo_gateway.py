"""Registers the demo's members, cards, charges and refunds with the payment gateway.

A processor keeps its own records: a demo payment can only be refunded, and a demo card
charged, if the processor knows them. So the demo creates them there through the gateway
interface and stores the ids it returns: with the offline gateway, and with Stripe in test
mode (a ``sk_test_`` key, e.g. against localstripe), where the cards are Stripe's test
PaymentMethods. A live Stripe account is never filled with demo data (the rows then keep
made-up ids).
"""

from __future__ import annotations

import itertools
import random
import secrets
from collections import defaultdict

from admin_app.models import Contact, PaymentMethodKind, RefundStatus

# Stripe's test numbers, which the offline gateway accepts as Stripe does.
TEST_NUMBERS = {"visa": ("4242424242424242", "4000056655665556"),
                "mastercard": ("5555555555554444", "5200828282828210"),
                "amex": ("378282246310005", "371449635398431")}
DECLINES_WHEN_CHARGED = "4000000000000341"
# Stripe's test PaymentMethods (raw card numbers are refused by Stripe's API by default).
STRIPE_TEST_CARD, STRIPE_DECLINES_WHEN_CHARGED = "pm_card_visa", "pm_card_chargeCustomerFail"


def _demo_gateway():
    """The configured gateway when demo data may go there: the offline one, or Stripe in
    test mode; else None."""
    try:
        from flask import current_app

        from admin_app.payments import get_gateway

        gateway = get_gateway()
    except (ImportError, KeyError, RuntimeError):  # no gateway configured: a bare app
        return None
    name = getattr(gateway, "name", None)
    if name == "stripe" and str(current_app.config.get("STRIPE_SECRET_KEY")).startswith(
            "sk_test_"):
        return gateway
    return gateway if name == "offline" else None


def _card_number(gateway, brand: str, *, declines: bool, pick: random.Random) -> str:
    if gateway.name == "stripe":
        return STRIPE_DECLINES_WHEN_CHARGED if declines else STRIPE_TEST_CARD
    return DECLINES_WHEN_CHARGED if declines else pick.choice(
        TEST_NUMBERS.get(brand, TEST_NUMBERS["visa"]))


def register_with_gateway(history) -> bool:
    """Create customers, cards, charges and refunds at the gateway; ``False`` if skipped.

    Past-due members' default card is one that declines when charged, so retrying their
    renewal in the demo fails as it did; their earlier payments were made with an older card,
    since detached.
    """
    gateway = _demo_gateway()
    if gateway is None:
        return False
    from admin_app.payments import CardDetails

    run, counter = secrets.token_hex(4), itertools.count(1)

    def key(kind: str) -> str:  # fresh per load: a kept gateway database never replays
        return f"seed-demo-{run}-{kind}-{next(counter)}"

    numbers = random.Random(7)
    cards_of: dict[Contact, list] = defaultdict(list)
    for card in history.cards:
        cards_of[card.contact].append(card)
    payer: dict[Contact, str] = {}
    retired: list[str] = []
    for contact, cards in cards_of.items():
        customer = gateway.create_customer(email=contact.email, name=contact.full_name,
                                           idempotency_key=key("customer"))
        contact.stripe_customer_id = customer
        for card in cards:
            declines = card.is_default and contact in history.declining
            number = _card_number(gateway, card.brand, declines=declines, pick=numbers)
            saved = gateway.save_card(customer, CardDetails(number, card.exp_month,
                                                            card.exp_year, "123"),
                                      idempotency_key=key("card"))
            card.gateway_id, card.brand, card.last4 = saved.gateway_id, saved.brand, saved.last4
            card.exp_month, card.exp_year = saved.exp_month, saved.exp_year
            if card.is_default and not declines:
                payer[contact] = saved.gateway_id
        if contact not in payer:  # the card their past payments were made with
            old = gateway.save_card(customer, CardDetails(
                _card_number(gateway, "visa", declines=False, pick=numbers), 12,
                history.now.year - 1, "123"),
                                    idempotency_key=key("card"))
            payer[contact] = old.gateway_id
            retired.append(old.gateway_id)

    for payment in history.payments:
        if payment.method is not PaymentMethodKind.CARD:
            continue
        if payment.paid_at is None:  # failed or pending: no charge at the processor
            payment.gateway_id = None
            continue
        result = gateway.charge(
            customer_id=payment.contact.stripe_customer_id,
            card_gateway_id=payer[payment.contact], amount_minor=payment.amount_minor,
            currency=payment.currency, description=payment.description or "Payment",
            idempotency_key=key("charge"))
        if not result.succeeded:
            raise RuntimeError(f"the gateway refused a demo charge: {result}")
        payment.gateway_id = result.gateway_id

    for refund in history.refunds:
        if refund.status is not RefundStatus.SUCCEEDED or refund.payment.gateway_id is None:
            refund.gateway_id = None
            continue
        result = gateway.refund(charge_gateway_id=refund.payment.gateway_id,
                                amount_minor=refund.amount_minor, currency=refund.currency,
                                idempotency_key=key("refund"))
        if not result.succeeded:
            raise RuntimeError(f"the gateway refused a demo refund: {result}")
        refund.gateway_id = result.gateway_id
    for card_id in retired:
        gateway.detach_card(card_id)
    return True
