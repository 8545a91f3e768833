"""Workflow 9, the member's side: the signed, expiring payment-method link, sending it, and
the public page that saves a card through it (offline gateway: the plain card form)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from admin_app.actions.runner import AlreadyDone
from admin_app.actions.send_payment_method_link import send_payment_method_link
from admin_app.billing.charging import charge_saved_card
from admin_app.billing.payment_method_links import make_link_token, open_link
from admin_app.clock import freeze, utcnow
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    ContactStatus,
    DeliveryChannel,
    OutboundMessage,
    Payment,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
)
from tests.actions.conftest import audit_entries
from tests.factories import give_card, make_contact
from tests.member_card import member_saves_card
from tests.transactions import committed


@pytest.fixture
def app_config(app_config):
    """With the Stripe gateway the member's page needs the publishable key."""
    return {**app_config, "STRIPE_PUBLISHABLE_KEY": "pk_test_x"}


@pytest.fixture
def grace(app):
    contact = make_contact(first_name="Grace", last_name="Hopper", email="grace@example.com",
                           phone="+15551234567")
    db.session.commit()
    return contact


@pytest.fixture
def clock():
    freeze(utcnow())
    yield lambda delta: freeze(utcnow() + delta)
    freeze(None)


def _messages() -> list[OutboundMessage]:
    return db.session.query(OutboundMessage).order_by(OutboundMessage.id).all()


def _cards(contact) -> list[PaymentMethod]:
    return db.session.query(PaymentMethod).filter_by(contact_id=contact.id) \
        .order_by(PaymentMethod.id).all()


def _token_in(text: str) -> str:
    return re.search(r"/pay/card/([\w.-]+)", text).group(1)


# --- the signed link ---------------------------------------------------------------------------

def test_link_opens_for_its_contact_until_it_expires(grace, clock):
    token = make_link_token(grace)
    link = open_link(token)
    assert link.contact.id == grace.id
    assert link.expires_at == utcnow() + timedelta(days=7)
    clock(timedelta(days=7) - timedelta(seconds=1))
    assert open_link(token).contact.id == grace.id
    clock(timedelta(seconds=2))
    with pytest.raises(ActionError) as refused:
        open_link(token)
    assert refused.value.code == "link_expired" and "expired" in refused.value.message


def test_link_max_age_is_configurable(app, grace, clock):
    app.config["PAYMENT_METHOD_LINK_MAX_AGE"] = 3600
    token = make_link_token(grace)
    clock(timedelta(minutes=61))
    with pytest.raises(ActionError) as refused:
        open_link(token)
    assert refused.value.code == "link_expired"


def test_tampered_or_foreign_links_do_not_open(app, grace):
    token = make_link_token(grace)
    other = make_contact()
    db.session.commit()
    forged = make_link_token(other).split(".")[0] + "." + ".".join(token.split(".")[1:])
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), forged, "", "x.y.z"):
        with pytest.raises(ActionError) as refused:
            open_link(bad)
        assert refused.value.code == "link_invalid"
    app.config["SECRET_KEY"] = "another"
    with pytest.raises(ActionError):
        open_link(token)


def test_link_of_an_archived_contact_does_not_open(grace):
    token = make_link_token(grace)
    grace.status = ContactStatus.ARCHIVED
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        open_link(token)
    assert refused.value.code == "link_invalid"


# --- sending it --------------------------------------------------------------------------------

@pytest.mark.processor  # the member's page starts a card setup at the processor
def test_send_queues_an_email_with_a_working_link(grace, cashier, key, client):
    message = send_payment_method_link(grace, actor=cashier, idempotency_key=key()).record
    assert (message.channel, message.recipient) == (DeliveryChannel.EMAIL, "grace@example.com")
    assert "Grace" in message.body and "7 days" in message.body
    assert client.get(f"/pay/card/{_token_in(message.body)}").status_code == 200
    (entry,) = audit_entries("send_payment_method_link")
    assert entry.actor_id == cashier.id and entry.after["outbound_message_id"] == message.id
    assert _token_in(message.body) not in str(entry.after) + entry.summary


def test_send_falls_back_to_sms_and_needs_an_address(cashier, key):
    by_sms = make_contact(email=None, phone="+15550009")
    nowhere = make_contact(email=None, phone=None)
    db.session.commit()
    message = send_payment_method_link(by_sms, actor=cashier, idempotency_key=key()).record
    assert (message.channel, message.recipient) == (DeliveryChannel.SMS, "+15550009")
    with pytest.raises(ActionError) as refused:
        send_payment_method_link(nowhere, actor=cashier, idempotency_key=key())
    assert refused.value.code == "no_email_or_phone" and "copy" in refused.value.message
    assert len(_messages()) == 1 and len(audit_entries("send_payment_method_link")) == 1


def test_send_double_submit_and_viewer(grace, cashier, viewer, key):
    same = key()
    send_payment_method_link(grace, actor=cashier, idempotency_key=same)
    with pytest.raises(AlreadyDone):
        send_payment_method_link(grace, actor=cashier, idempotency_key=same)
    with pytest.raises(ActionError) as refused:
        send_payment_method_link(grace, actor=viewer, idempotency_key=key())
    assert refused.value.code == "not_permitted"
    assert len(_messages()) == 1


# --- a card needing authentication sends the link ----------------------------------------------

@pytest.mark.processor  # saves and charges a card at the processor
def test_card_needing_authentication_sends_the_member_the_link(grace, client):
    give_card(grace, number="4000002500003155")
    with pytest.raises(ActionError) as refused, committed():
        charge_saved_card(grace, amount_minor=5000, currency="USD",
                          purpose=PaymentPurpose.CUSTOM_BILL, description="Massage")
    assert refused.value.code == "authentication_required" and refused.value.keep_changes
    assert "link" in refused.value.message and "grace@example.com" in refused.value.message
    (message,) = _messages()
    assert message.recipient == "grace@example.com"
    assert client.get(f"/pay/card/{_token_in(message.body)}").status_code == 200
    (payment,) = db.session.query(Payment).all()  # kept with the message, in one commit
    assert payment.status is PaymentStatus.FAILED
    (entry,) = audit_entries("send_payment_method_link")
    assert entry.actor_id is None and "authentication" in entry.summary


@pytest.mark.processor  # saves and charges a card at the processor
def test_card_needing_authentication_without_an_address_says_so(app):
    contact = make_contact(email=None, phone=None)
    db.session.commit()
    give_card(contact, number="4000002500003155")
    with pytest.raises(ActionError) as refused, committed():
        charge_saved_card(contact, amount_minor=5000, currency="USD",
                          purpose=PaymentPurpose.CUSTOM_BILL, description="Massage")
    assert refused.value.code == "authentication_required"
    assert "no email address or phone number" in refused.value.message
    assert _messages() == []


# --- saving a card through it (the action, on both gateways) ----------------------------------

def test_member_saves_a_card_as_the_default(grace, key, processor):
    old = give_card(grace, number="4000000000000341")
    method = member_saves_card(grace, "5555555555554444", key=key(), processor=processor)
    db.session.refresh(old)
    assert (method.last4, method.exp_month, method.exp_year, method.is_default) == \
        ("4444", 12, 2030, True)
    assert not old.is_default and method.gateway_id.startswith("pm_")
    assert grace.stripe_customer_id
    (entry,) = audit_entries("save_card_from_link")
    assert entry.actor_id is None and "by the member via the payment-method link" in entry.summary
    assert entry.after["payment_method_id"] == method.id


def test_the_saved_card_is_charged(grace, key, processor):
    member_saves_card(grace, key=key(), processor=processor)
    with committed():
        payment = charge_saved_card(grace, amount_minor=4500, currency="USD",
                                    purpose=PaymentPurpose.CUSTOM_BILL,
                                    description="Massage").payment
    assert payment.status is PaymentStatus.SUCCEEDED
    assert processor.charge(payment.gateway_id).succeeded


def test_double_submit_saves_one_card_and_the_link_works_again(grace, key, processor):
    same = key()
    member_saves_card(grace, key=same, processor=processor)
    with pytest.raises(AlreadyDone):
        member_saves_card(grace, key=same, processor=processor)
    assert len(_cards(grace)) == 1
    member_saves_card(grace, "5555555555554444", key=key(), processor=processor)
    assert [(c.last4, c.is_default) for c in _cards(grace)] == [("4242", False), ("4444", True)]


def test_a_card_declined_at_setup_saves_nothing(grace, key, processor):
    with pytest.raises(ActionError) as refused:
        member_saves_card(grace, "4000000000000002", key=key(), processor=processor)
    assert refused.value.code == "card_rejected" and "declined" in refused.value.message
    assert _cards(grace) == [] and audit_entries("save_card_from_link") == []


def test_processor_down_saves_nothing(grace, key, processor):
    processor.set_down(True)
    try:
        with pytest.raises(ActionError) as refused:
            member_saves_card(grace, key=key(), processor=processor)
    finally:
        processor.set_down(False)
    assert refused.value.code == "gateway_unavailable"
    assert "try again" in refused.value.message.lower()
    assert _cards(grace) == [] and audit_entries("save_card_from_link") == []
