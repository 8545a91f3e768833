"""The offline gateway behind the charging helper: test cards behave like a processor's."""

from __future__ import annotations

import pytest

from admin_app.actions.base import ActionError, unit_of_work
from admin_app.actions.charging import charge_saved_card
from admin_app.extensions import db
from admin_app.models import Payment, PaymentPurpose, PaymentStatus
from admin_app.payments import get_gateway
from tests.factories import give_card, make_contact


def _charge(contact, amount=5000):
    with unit_of_work():
        return charge_saved_card(contact, amount_minor=amount, currency="USD",
                                 purpose=PaymentPurpose.CUSTOM_BILL, description="Test")


def test_good_card_is_charged(app):
    contact = make_contact()
    card = give_card(contact)
    assert card.brand == "visa" and card.last4 == "4242" and card.is_default
    payment = _charge(contact)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.gateway_id.startswith("ch_")
    assert get_gateway().charge_record(payment.gateway_id).amount_minor == 5000


@pytest.mark.parametrize(("number", "code"), [("4000000000000341", "card_declined"),
                                              ("4000002500003155", "authentication_required")])
def test_failing_cards_record_the_failed_attempt(app, number, code):
    contact = make_contact()
    give_card(contact, number=number)
    with pytest.raises(ActionError) as refused:
        _charge(contact)
    assert refused.value.code == code
    (payment,) = db.session.query(Payment).all()
    assert payment.status is PaymentStatus.FAILED and payment.failure_reason


def test_card_declined_when_saved(app):
    with pytest.raises(ActionError) as refused:
        give_card(make_contact(), number="4000000000000002")
    assert refused.value.code == "card_rejected"


def test_processor_down(app):
    contact = make_contact()
    give_card(contact)
    get_gateway().set_down(True)
    with pytest.raises(ActionError) as refused:
        _charge(contact)
    assert refused.value.code == "gateway_unavailable"
    get_gateway().set_down(False)
    assert _charge(contact).status is PaymentStatus.SUCCEEDED


def test_gateway_idempotency(app):
    gateway = get_gateway()
    contact = make_contact()
    card = give_card(contact)
    first = gateway.charge(customer_id=contact.stripe_customer_id, card_gateway_id=card.gateway_id,
                           amount_minor=100, currency="USD", description="x",
                           idempotency_key="same")
    second = gateway.charge(customer_id=contact.stripe_customer_id,
                            card_gateway_id=card.gateway_id, amount_minor=100, currency="USD",
                            description="x", idempotency_key="same")
    assert first == second and gateway.count("charge") == 1
