"""The charging helper on either gateway: test cards behave like a processor's."""

from __future__ import annotations

import pytest

from admin_app.billing.charging import charge_saved_card
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import Payment, PaymentPurpose, PaymentStatus
from tests.factories import give_card, make_contact
from tests.transactions import committed

# The charging helper charges saved cards at the processor.
pytestmark = pytest.mark.processor


def _charge(contact, amount=5000):
    with committed():
        return charge_saved_card(contact, amount_minor=amount, currency="USD",
                                 purpose=PaymentPurpose.CUSTOM_BILL, description="Test").payment


def test_good_card_is_charged(app, processor):
    contact = make_contact()
    card = give_card(contact)
    assert card.brand == "visa" and card.last4 == "4242" and card.is_default
    payment = _charge(contact)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.gateway_id
    assert processor.charge(payment.gateway_id).amount_minor == 5000


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


def test_an_unanswered_charge_stays_pending_and_blocks_a_second_charge(app, processor):
    contact = make_contact()
    give_card(contact)
    processor.set_down(True)
    with pytest.raises(ActionError) as refused:
        _charge(contact)
    assert refused.value.code == "gateway_unavailable"
    assert "not known whether $50.00 was charged" in refused.value.message
    (payment,) = db.session.query(Payment).all()
    assert payment.status is PaymentStatus.PENDING and payment.gateway_id is None
    processor.set_down(False)
    with pytest.raises(ActionError) as again:  # it may have gone through: no second charge
        _charge(contact)
    assert again.value.code == "payment_pending" and f"#{payment.id}" in again.value.message
    assert db.session.query(Payment).count() == 1 and processor.count_charges() == 0


def test_a_card_without_a_customer_at_the_processor_is_not_charged(app, processor):
    contact = make_contact()
    give_card(contact)
    contact.stripe_customer_id = None  # a card is only ever saved for a customer: not chargeable
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        _charge(contact)
    assert refused.value.code == "no_payment_method"
    assert db.session.query(Payment).count() == 0 and processor.count_charges() == 0


