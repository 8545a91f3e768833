"""Workflow 9's pages: the member's public page on the offline gateway (the plain card form),
the desk's "Send payment-method link" page, and "Retry failed charges" on the contact card."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from admin_app.billing.payment_method_links import make_link_token
from admin_app.clock import freeze, utcnow
from admin_app.extensions import db
from admin_app.models import (
    AuditEntry,
    OutboundMessage,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from admin_app.payments import get_gateway
from tests.factories import give_card, make_contact, make_payment


@pytest.fixture
def grace(app):
    contact = make_contact(first_name="Grace", last_name="Hopper", email="grace@example.com")
    db.session.commit()
    return contact


def _cards(contact) -> list[PaymentMethod]:
    return db.session.query(PaymentMethod).filter_by(contact_id=contact.id).all()


# --- the member's page, offline gateway ----------------------------------------------------------

def test_public_page_shows_the_card_form(grace, client):
    give_card(grace)
    page = client.get(f"/pay/card/{make_link_token(grace)}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="number"' in html and 'name="expiry"' in html and 'name="cvc"' in html
    assert "Hello Grace" in html and "Visa •••• 4242" in html and "This link works until" in html
    assert "js.stripe.com" not in html


def test_public_page_saves_the_card_once(grace, client):
    url = f"/pay/card/{make_link_token(grace)}"
    form = {"number": "5555 5555 5555 4444", "expiry": "11/31", "cvc": "123",
            "idempotency_key": "k" * 32}
    response = client.post(url, data=form)
    assert response.status_code == 302 and response.location.endswith(f"{url}/saved")
    assert client.post(url, data=form).status_code == 302  # double submit: saved once
    (card,) = _cards(grace)
    assert (card.last4, card.exp_month, card.exp_year, card.is_default) == ("4444", 11, 2031,
                                                                            True)
    saved = client.get(f"{url}/saved").get_data(as_text=True)
    assert "Your card is saved" in saved and "Mastercard •••• 4444" in saved


@pytest.mark.parametrize(("form", "says"), [
    ({"number": "4000 0000 0000 0002", "expiry": "11/31", "cvc": "123"}, "declined"),
    ({"number": "4242 4242 4242 4241", "expiry": "11/31", "cvc": "123"}, "not valid"),
    ({"number": "4242 4242 4242 4242", "expiry": "01/20", "cvc": "123"}, "has expired"),
    ({"number": "4242 4242 4242 4242", "expiry": "13/31", "cvc": "123"}, "MM/YY"),
    ({"number": "4242 4242 4242 4242", "expiry": " \t", "cvc": "123"}, "MM/YY"),
    ({"number": "4242 4242 4242 4242", "expiry": "11/31", "cvc": "1"}, "3 or 4 digits"),
])
def test_public_page_refusals_are_shown_and_save_nothing(grace, client, form, says):
    page = client.post(f"/pay/card/{make_link_token(grace)}",
                       data={**form, "idempotency_key": "k" * 32})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and says in html
    assert form["number"] not in html  # a card number is never echoed back
    assert _cards(grace) == []


def test_public_page_processor_down(grace, client):
    get_gateway().set_down(True)
    try:
        page = client.post(f"/pay/card/{make_link_token(grace)}", data={
            "number": "4242424242424242", "expiry": "11/31", "cvc": "123",
            "idempotency_key": "k" * 32})
    finally:
        get_gateway().set_down(False)
    assert page.status_code == 200 and "not answering" in page.get_data(as_text=True)
    assert _cards(grace) == []


def test_public_page_expired_or_tampered_is_friendly(grace, client):
    url = f"/pay/card/{make_link_token(grace)}"
    tampered = client.get(url[:-3] + "xyz")
    assert tampered.status_code == 404 and "does not work" in tampered.get_data(as_text=True)
    freeze(utcnow() + timedelta(days=8))
    try:
        for response in (client.get(url), client.post(url, data={"number": "4242424242424242"}),
                         client.get(f"{url}/saved")):
            assert response.status_code == 410
            assert "This link has expired" in response.get_data(as_text=True)
    finally:
        freeze(None)
    assert _cards(grace) == []


# --- the desk: Payment methods tab → Send payment-method link ------------------------------------

def test_payment_methods_tab_offers_the_link(client, login, grace):
    login("cashier")
    html = client.get(f"/admin/contact/details/?id={grace.id}&tab=payment_methods") \
        .get_data(as_text=True)
    assert "Send payment-method link" in html and "Add card" in html
    assert "Retry failed charges" not in html  # nothing to retry


def test_link_page_copies_and_sends_the_link(app, client, login, grace):
    app.config["PUBLIC_BASE_URL"] = "https://billing.clinic.example"
    login("cashier")
    page = client.get(f"/admin/payment_method/link/?contact_id={grace.id}")
    html = page.get_data(as_text=True)
    link = re.search(r'id="payment-method-link-url"[^>]*value="([^"]+)"', html).group(1)
    assert re.fullmatch(r"https://billing\.clinic\.example/pay/card/[\w.-]+", link)
    assert "Copy link" in html and "Email: grace@example.com" in html
    assert client.get(link).status_code == 200
    response = client.post(f"/admin/payment_method/link/?contact_id={grace.id}",
                           data={"idempotency_key": "a" * 32}, follow_redirects=True)
    assert "Payment-method link queued for Grace Hopper by Email" in response.get_data(
        as_text=True)
    (message,) = db.session.query(OutboundMessage).all()
    assert message.recipient == "grace@example.com" and "/pay/card/" in message.body


def test_link_page_without_an_address_only_copies(client, login):
    nowhere = make_contact(email=None, phone=None)
    db.session.commit()
    login("cashier")
    html = client.get(f"/admin/payment_method/link/?contact_id={nowhere.id}") \
        .get_data(as_text=True)
    assert "no email address or phone number" in html and "Copy link" in html
    assert "Send payment-method link</button>" not in html


def test_viewer_may_not_send_links(client, login, grace):
    login("viewer")
    response = client.post(f"/admin/payment_method/link/?contact_id={grace.id}",
                           data={"idempotency_key": "a" * 32})
    assert response.status_code == 302
    assert db.session.query(OutboundMessage).count() == 0
    html = client.get(f"/admin/contact/details/?id={grace.id}&tab=payment_methods") \
        .get_data(as_text=True)
    assert "Send payment-method link" not in html


# --- Retry failed charges ------------------------------------------------------------------------

def _failed(contact, **kw) -> Payment:
    payment = make_payment(contact=contact, status=PaymentStatus.FAILED, paid_at=None,
                           failure_reason="card_declined", description="Massage", **kw)
    db.session.commit()
    return payment


def test_retry_from_the_transactions_menu(client, login, grace):
    failed = _failed(grace)
    give_card(grace)
    login("cashier")
    tab = client.get(f"/admin/contact/details/?id={grace.id}&tab=transactions") \
        .get_data(as_text=True)
    assert f"/admin/payment/retry/?id={failed.id}" in tab and "Retry failed charges" in tab
    page = client.get(f"/admin/payment/retry/?id={failed.id}").get_data(as_text=True)
    assert "Visa •••• 4242" in page and "card_declined" in page
    response = client.post(f"/admin/payment/retry/?id={failed.id}",
                           data={"idempotency_key": "b" * 32}, follow_redirects=True)
    assert f"Retried payment #{failed.id}: charged $75.00" in response.get_data(as_text=True)
    again = client.get(f"/admin/payment/retry/?id={failed.id}").get_data(as_text=True)
    assert "already paid by its retry" in again and "Retry charge</button>" not in again


def test_retry_all_failed_charges_of_the_contact(client, login, grace):
    first, second = _failed(grace), _failed(grace, amount_minor=2000)
    give_card(grace)
    login("cashier")
    tab = client.get(f"/admin/contact/details/?id={grace.id}&tab=payment_methods") \
        .get_data(as_text=True)
    assert "Retry failed charges" in tab
    page = client.get(f"/admin/payment/retry-failed/?contact_id={grace.id}") \
        .get_data(as_text=True)
    assert f"Payment #{first.id}" in page and "Retry 2 charges" in page
    response = client.post(f"/admin/payment/retry-failed/?contact_id={grace.id}",
                           data={"idempotency_key": "c" * 32}, follow_redirects=True)
    assert "2 retried and paid" in response.get_data(as_text=True)
    retries = db.session.query(Payment).filter(Payment.retry_of_id.isnot(None)).all()
    assert sorted(p.retry_of_id for p in retries) == [first.id, second.id]
    assert {p.status for p in retries} == {PaymentStatus.SUCCEEDED}
    assert db.session.query(AuditEntry).filter_by(action="retry_failed_payment").count() == 2
    html = client.get(f"/admin/contact/details/?id={grace.id}&tab=transactions") \
        .get_data(as_text=True)
    assert "Retry failed charges" not in html
