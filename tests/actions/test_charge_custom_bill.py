"""Workflow 5: charge a contact for a custom bill; workflow 9 at the desk: add a card, make
it the default, remove it."""

from __future__ import annotations

import re

import pytest

from admin_app.actions.charge_custom_bill import charge_custom_bill
from admin_app.actions.remove_payment_method import remove_payment_method
from admin_app.actions.runner import AlreadyDone
from admin_app.actions.set_default_payment_method import set_default_payment_method
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    CashierSettings,
    Document,
    DocumentType,
    OutboundMessage,
    Payment,
    PaymentMethod,
    PaymentMethodKind,
    PaymentPurpose,
    PaymentStatus,
)
from tests.actions.conftest import audit_entries
from tests.factories import give_card, make_contact


@pytest.fixture
def mia(app):
    contact = make_contact(first_name="Mia", last_name="Wong")
    db.session.commit()
    return contact


def _charge(contact, actor, key, *, amount=4500, currency="USD", description="Massage oil",
            method=PaymentMethodKind.CARD):
    return charge_custom_bill(contact, amount_minor=amount, currency=currency,
                              description=description, method=method, actor=actor,
                              idempotency_key=key()).record


def _receipts():
    return db.session.query(Document).filter_by(doc_type=DocumentType.RECEIPT).all()


def test_charge_to_the_saved_card_issues_a_receipt(mia, cashier, key, processor):
    give_card(mia)
    payment = _charge(mia, cashier, key)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.method is PaymentMethodKind.CARD
    assert payment.purpose is PaymentPurpose.CUSTOM_BILL and payment.description == "Massage oil"
    assert processor.charge(payment.gateway_id).amount_minor == 4500
    (receipt,) = _receipts()
    assert receipt.payment_id == payment.id and receipt.total_minor == 4500 and receipt.number
    (entry,) = audit_entries("charge_custom_bill")
    assert entry.actor_id == cashier.id and entry.after["payment_id"] == payment.id
    assert "Visa •••• 4242" in entry.summary and str(receipt) in entry.summary


@pytest.mark.parametrize("method", [PaymentMethodKind.CASH, PaymentMethodKind.OTHER])
def test_cash_or_other_is_recorded_without_the_gateway(mia, owner, key, method, processor):
    settings = CashierSettings.get()
    settings.auto_send_receipts = True
    db.session.commit()
    payment = _charge(mia, owner, key, method=method, currency="eur")
    assert payment.status is PaymentStatus.SUCCEEDED and payment.method is method
    assert payment.currency == "EUR" and payment.gateway_id is None
    assert processor.count_charges() == 0
    (message,) = db.session.query(OutboundMessage).all()
    assert message.document.payment_id == payment.id


@pytest.mark.parametrize(("kw", "code"), [
    ({"amount": 0}, "amount_not_positive"),
    ({"amount": -100}, "amount_not_positive"),
    ({"currency": "dollars"}, "currency_invalid"),
    ({"currency": ""}, "currency_invalid"),
    ({"description": "  "}, "description_required"),
    ({}, "no_payment_method"),
])
def test_refusals_change_nothing(mia, owner, key, kw, code):
    with pytest.raises(ActionError) as refused:
        _charge(mia, owner, key, **kw)
    assert refused.value.code == code
    assert db.session.query(Payment).count() == 0 and _receipts() == []
    assert audit_entries("charge_custom_bill") == []


@pytest.mark.parametrize(("number", "code"), [("4000000000000341", "card_declined"),
                                              ("4000002500003155", "authentication_required"),
                                              (None, "gateway_unavailable")])
def test_a_failed_charge_is_recorded_without_a_receipt(mia, owner, key, number, code, processor):
    give_card(mia, number=number or "4242424242424242")
    if number is None:
        processor.set_down(True)
    try:
        with pytest.raises(ActionError) as refused:
            _charge(mia, owner, key)
    finally:
        processor.set_down(False)
    assert refused.value.code == code
    (payment,) = db.session.query(Payment).all()
    if code == "gateway_unavailable":  # unanswered: maybe charged, so pending, not failed
        assert payment.status is PaymentStatus.PENDING and payment.failure_reason is None
    else:
        assert payment.status is PaymentStatus.FAILED and payment.failure_reason
    assert _receipts() == []
    (entry,) = audit_entries("charge_custom_bill")
    assert entry.after["status"] == payment.status.value
    assert entry.after["payment_id"] == payment.id


def test_double_submit_charges_once(mia, owner, key, processor):
    give_card(mia)
    same = key()
    charge_custom_bill(mia, amount_minor=1000, currency="USD", description="Towel",
                       method=PaymentMethodKind.CARD, actor=owner, idempotency_key=same)
    with pytest.raises(AlreadyDone) as again:
        charge_custom_bill(mia, amount_minor=1000, currency="USD", description="Towel",
                           method=PaymentMethodKind.CARD, actor=owner, idempotency_key=same)
    assert "Charged $10.00" in again.value.message
    assert db.session.query(Payment).count() == 1 and processor.count_charges() == 1


def test_viewer_may_not_charge(mia, viewer, key):
    with pytest.raises(ActionError) as refused:
        _charge(mia, viewer, key, method=PaymentMethodKind.CASH)
    assert refused.value.code == "not_permitted"
    assert db.session.query(Payment).count() == 0


def test_make_default_and_remove_cards(mia, owner, viewer, key, processor):
    first = give_card(mia)
    second = give_card(mia, number="5555555555554444")  # now the default
    assert not db.session.get(PaymentMethod, first.id).is_default
    set_default_payment_method(first, actor=owner, idempotency_key=key())
    assert db.session.get(PaymentMethod, first.id).is_default
    assert not db.session.get(PaymentMethod, second.id).is_default
    with pytest.raises(ActionError) as refused:
        set_default_payment_method(first, actor=owner, idempotency_key=key())
    assert refused.value.code == "already_default"
    processor.set_down(True)
    try:
        with pytest.raises(ActionError) as refused:
            remove_payment_method(first, actor=owner, idempotency_key=key())
    finally:
        processor.set_down(False)
    assert refused.value.code == "gateway_unavailable"
    assert db.session.get(PaymentMethod, first.id) is not None
    gateway_id = first.gateway_id
    remove_payment_method(first, actor=owner, idempotency_key=key())
    assert db.session.get(PaymentMethod, first.id) is None
    assert processor.is_card_detached(gateway_id)
    (entry,) = audit_entries("remove_payment_method")
    assert entry.before["is_default"] and "It was the default card" in entry.summary
    with pytest.raises(ActionError) as refused:
        set_default_payment_method(second, actor=viewer, idempotency_key=key())
    assert refused.value.code == "not_permitted"


# --- through the admin -----------------------------------------------------------------------

def _checked(html: str) -> str:
    """The value of the radio button that is checked."""
    return re.search(r'<input checked[^>]*value="(\w+)"', html).group(1)


@pytest.mark.processor  # saves a card at the processor
def test_charge_from_the_contact_card(client, login, mia):
    give_card(mia)
    login("cashier")
    card = client.get(f"/admin/contact/details/?id={mia.id}")
    assert b'id="charge-contact"' in card.data
    page = client.get(f"/admin/contact/charge/?id={mia.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'value="USD"' in html
    assert "Visa •••• 4242" in html and _checked(html) == "card"
    form = {"amount": "45,50", "currency": "USD", "description": "Massage oil",
            "charge_to": "card", "idempotency_key": "charge-1"}
    review = client.post(f"/admin/contact/charge/?id={mia.id}", data=form)
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and "Review: charge $45.50 to" in html
    assert "Saved card Visa •••• 4242" in html and "Massage oil" in html
    assert "confirm_large" not in html  # not a large amount
    assert db.session.query(Payment).count() == 0  # nothing charged at the review
    form = {**form, "amount": "45,50", "reviewed": "1"}
    done = client.post(f"/admin/contact/charge/?id={mia.id}", data=form)
    assert done.status_code == 302 and "tab=transactions" in done.location
    shown = client.get(done.location).get_data(as_text=True)
    assert "Charged $45.50 to Visa •••• 4242" in shown and "Receipt RCT-" in shown
    again = client.post(f"/admin/contact/charge/?id={mia.id}", data=form,
                        follow_redirects=True)
    assert b"Already done" in again.data
    assert db.session.query(Payment).count() == 1
    refused = client.post(f"/admin/contact/charge/?id={mia.id}",
                          data={**form, "description": "", "idempotency_key": "charge-2"})
    assert refused.status_code == 200 and b"Say what the bill is for." in refused.data
    assert db.session.query(Payment).count() == 1


@pytest.mark.processor  # saves and charges a card at the processor
def test_a_large_charge_asks_for_a_confirmation_and_currency_is_a_choice(client, login, mia,
                                                                          app):
    give_card(mia)
    login("cashier")
    page = client.get(f"/admin/contact/charge/?id={mia.id}").get_data(as_text=True)
    assert '<select' in page and 'name="currency"' in page
    odd = client.post(f"/admin/contact/charge/?id={mia.id}", data={
        "amount": "10", "currency": "XYZ", "description": "x", "charge_to": "card",
        "idempotency_key": "c-0"})
    assert b"Not a valid choice" in odd.data and db.session.query(Payment).count() == 0
    form = {"amount": "12,500.00", "currency": "USD", "description": "Annual pack",
            "charge_to": "card", "idempotency_key": "big-1"}
    review = client.post(f"/admin/contact/charge/?id={mia.id}", data=form)
    assert b"above the amount that asks for a confirmation" in review.data
    assert b'name="confirm_large"' in review.data
    unconfirmed = client.post(f"/admin/contact/charge/?id={mia.id}",
                              data={**form, "reviewed": "1"})
    assert b"tick the box to confirm" in unconfirmed.data
    assert db.session.query(Payment).count() == 0
    confirmed = client.post(f"/admin/contact/charge/?id={mia.id}",
                            data={**form, "reviewed": "1", "confirm_large": "y"})
    assert confirmed.status_code == 302
    (payment,) = db.session.query(Payment).all()
    assert payment.amount_minor == 1250000
    tampered = client.post(f"/admin/contact/charge/?id={mia.id}", data={
        **form, "amount": "1,250", "reviewed": "1", "idempotency_key": "big-2"})
    assert tampered.status_code == 200 and b"could be read two ways" in tampered.data
    assert db.session.query(Payment).count() == 1


@pytest.mark.processor  # saves and charges a card at the processor
def test_a_declined_card_shows_the_reason_and_can_be_retried(client, login, mia):
    give_card(mia, number="4000000000000341")
    login("owner")
    form = {"amount": "20", "currency": "USD", "description": "Class pack",
            "charge_to": "card", "idempotency_key": "decl-1"}
    page = client.post(f"/admin/contact/charge/?id={mia.id}", data={**form, "reviewed": "1"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "was declined: Your card was declined." in html
    assert 'value="decl-1"' not in html  # a fresh key for a deliberate retry
    cash = client.post(f"/admin/contact/charge/?id={mia.id}",
                       data={**form, "charge_to": "cash", "idempotency_key": "decl-2",
                             "reviewed": "1"})
    assert cash.status_code == 302
    statuses = sorted(p.status.value for p in db.session.query(Payment))
    assert statuses == ["failed", "succeeded"]


def test_no_saved_card_defaults_to_cash(client, login, mia):
    login("owner")
    html = client.get(f"/admin/contact/charge/?id={mia.id}").get_data(as_text=True)
    assert "none saved yet" in html and _checked(html) == "cash"


def test_viewer_sees_no_charge_button_and_is_refused(client, login, mia):
    login("viewer")
    card = client.get(f"/admin/contact/details/?id={mia.id}")
    assert b'id="charge-contact"' not in card.data
    page = client.post(f"/admin/contact/charge/?id={mia.id}", data={
        "amount": "10", "currency": "USD", "description": "x", "charge_to": "cash",
        "idempotency_key": "v-1", "reviewed": "1"}, follow_redirects=True)
    assert b"may not charge contacts" in page.data
    assert db.session.query(Payment).count() == 0


@pytest.mark.processor  # saves and removes cards at the processor
def test_add_card_make_default_and_remove_from_the_card(client, login, mia):
    login("cashier")
    tab = client.get(f"/admin/contact/details/?id={mia.id}&tab=payment_methods")
    assert b'id="add-card"' in tab.data
    assert client.get(f"/admin/contact/payment-methods/add/?id={mia.id}").status_code == 200
    form = {"number": "4242 4242 4242 4242", "expiry": "12/31",
            "cvc": "123", "make_default": "y", "idempotency_key": "card-1"}
    done = client.post(f"/admin/contact/payment-methods/add/?id={mia.id}", data=form)
    assert done.status_code == 302 and "tab=payment_methods" in done.location
    assert b"Saved Visa" in client.get(done.location).data
    bad = client.post(f"/admin/contact/payment-methods/add/?id={mia.id}",
                      data={**form, "number": "4242 4242 4242 4241",
                            "idempotency_key": "card-2"})
    assert bad.status_code == 200 and b"card number is not valid" in bad.data
    assert b"4242 4242 4242 4241" not in bad.data
    form2 = {**form, "number": "5555555555554444", "make_default": "", "idempotency_key": "c3"}
    client.post(f"/admin/contact/payment-methods/add/?id={mia.id}", data=form2)
    visa, master = db.session.query(PaymentMethod).order_by(PaymentMethod.id).all()
    assert visa.is_default and not master.is_default
    tab = client.get(f"/admin/contact/details/?id={mia.id}&tab=payment_methods")
    assert f"/admin/payment_method/make-default/?id={master.id}".encode() in tab.data
    made = client.post(f"/admin/payment_method/make-default/?id={master.id}",
                       data={"idempotency_key": "md-1"})
    assert made.status_code == 302 and "tab=payment_methods" in made.location
    db.session.expire_all()
    assert master.is_default and not visa.is_default
    page = client.get(f"/admin/payment_method/remove/?id={visa.id}")
    assert page.status_code == 200 and b"Remove card" in page.data
    client.post(f"/admin/payment_method/remove/?id={visa.id}", data={"idempotency_key": "rm-1"})
    again = client.post(f"/admin/payment_method/remove/?id={visa.id}",
                        data={"idempotency_key": "rm-1"}, follow_redirects=True)
    assert b"already removed" in again.data
    assert db.session.query(PaymentMethod).count() == 1
