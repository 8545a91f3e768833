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
