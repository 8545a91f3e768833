"""The offline gateway's own contract: idempotency keys and its two failure switches."""

from __future__ import annotations

import pytest

from admin_app.payments import GatewayUnavailable, get_gateway
from tests.factories import give_card, make_contact


def _charge(gateway, contact, card, key: str):
    return gateway.charge(customer_id=contact.stripe_customer_id,
                          card_gateway_id=card.gateway_id, amount_minor=100, currency="USD",
                          description="x", idempotency_key=key)


def test_the_same_key_gives_the_same_charge_once(app):
    gateway, contact = get_gateway(), make_contact()
    card = give_card(contact)
    first, second = _charge(gateway, contact, card, "same"), _charge(gateway, contact, card, "same")
    assert first == second and gateway.count("charge") == 1
    assert _charge(gateway, contact, card, "other") != first
    assert gateway.count("charge") == 2


def test_down_does_nothing(app):
    gateway, contact = get_gateway(), make_contact()
    card = give_card(contact)
    gateway.set_down(True)
    with pytest.raises(GatewayUnavailable):
        _charge(gateway, contact, card, "k")
    gateway.set_down(False)
    assert gateway.count("charge") == 0


def test_losing_answers_does_the_work_but_says_nothing(app):
    gateway, contact = get_gateway(), make_contact()
    card = give_card(contact)
    gateway.set_losing_answers(True)
    with pytest.raises(GatewayUnavailable):
        _charge(gateway, contact, card, "k")
    gateway.set_losing_answers(False)
    assert gateway.count("charge") == 1
    replayed = _charge(gateway, contact, card, "k")  # the same key: the same charge
    assert replayed.succeeded and gateway.count("charge") == 1


def test_a_key_reused_for_another_request_is_refused_and_does_nothing(app):
    """As Stripe answers ``idempotency_key_in_use``: a replay must ask the same thing. The
    defect this guards: a panel that reused an id (SQLite hands out a rolled-back id again)
    got the earlier $45.00 charge's answer recorded as a $99.00 payment."""
    gateway, contact = get_gateway(), make_contact()
    card = give_card(contact)
    first = _charge(gateway, contact, card, "payment-1")
    other = gateway.charge(customer_id=contact.stripe_customer_id,
                           card_gateway_id=card.gateway_id, amount_minor=9900, currency="USD",
                           description="x", idempotency_key="payment-1")
    assert first.succeeded and not other.succeeded
    assert other.failure_code == "idempotency_key_in_use" and other.gateway_id is None
    assert gateway.count("charge") == 1
    assert _charge(gateway, contact, card, "payment-1") == first  # the same request replays
    refunded = gateway.refund(charge_gateway_id=first.gateway_id, amount_minor=50,
                              currency="USD", idempotency_key="refund-1")
    again = gateway.refund(charge_gateway_id=first.gateway_id, amount_minor=60,
                           currency="USD", idempotency_key="refund-1")
    assert refunded.succeeded and not again.succeeded and gateway.count("refund") == 1
