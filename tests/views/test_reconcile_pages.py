"""Cashier → Transactions / Refunds → ⋯ → Check with the processor, and the Stripe webhook
events page."""

from __future__ import annotations

from uuid import uuid4

import pytest

from admin_app.actions.charge_custom_bill import charge_custom_bill
from admin_app.actions.refund_payment import refund_payment
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    Payment,
    PaymentMethodKind,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    StripeEvent,
)
from tests.factories import give_card, make_admin, make_contact


def _unanswered(processor, make):
    with processor.losing_answers(), pytest.raises(ActionError) as refused:
        make()
    assert refused.value.code == "gateway_unavailable"


@pytest.fixture
def pending_payment(app, processor) -> Payment:
    contact = make_contact(first_name="Ada", last_name="King")
    give_card(contact)
    _unanswered(processor, lambda: charge_custom_bill(
        contact, amount_minor=4500, currency="USD", description="Massage",
        method=PaymentMethodKind.CARD, actor=make_admin(), idempotency_key=uuid4().hex))
    return db.session.query(Payment).one()


def test_a_pending_payment_is_checked_from_its_row_menu(client, login, pending_payment):
    login("cashier")
    home = client.get("/admin/").get_data(as_text=True)
    assert 'id="unsettled"' in home and "Waiting for the payment processor" in home
    listed = client.get("/admin/payment/?flt0_status_equals=pending").get_data(as_text=True)
    assert "1 payment</a>" in home and "Massage" in listed
    listing = client.get("/admin/payment/").get_data(as_text=True)
    url = f"/admin/payment/check-with-processor/?id={pending_payment.id}"
    assert "Check with the processor" in listing and url in listing
    page = client.get(url).get_data(as_text=True)
    assert "Check payment #" in page and "nothing is charged or refunded by checking" in page
    done = client.post(url, data={"idempotency_key": "check-1"}, follow_redirects=True)
    assert "succeeded at the processor" in done.get_data(as_text=True)
    assert db.session.get(Payment, pending_payment.id).status is PaymentStatus.SUCCEEDED
    again = client.post(url, data={"idempotency_key": "check-1"}, follow_redirects=True)
    assert "Already done, not repeated" in again.get_data(as_text=True)
    assert url not in client.get("/admin/payment/").get_data(as_text=True)  # settled
    assert 'id="unsettled"' not in client.get("/admin/").get_data(as_text=True)


def test_a_viewer_may_not_check(client, login, pending_payment):
    login("viewer")
    url = f"/admin/payment/check-with-processor/?id={pending_payment.id}"
    assert url not in client.get("/admin/payment/").get_data(as_text=True)
    client.post(url, data={"idempotency_key": "v-1"})
    assert db.session.get(Payment, pending_payment.id).status is PaymentStatus.PENDING


def test_a_pending_refund_is_checked_from_the_refunds_list(client, login, app, processor):
    contact = make_contact()
    give_card(contact)
    payment = charge_custom_bill(contact, amount_minor=8000, currency="USD",
                                 description="Pack", method=PaymentMethodKind.CARD,
                                 actor=make_admin(), idempotency_key=uuid4().hex).record
    _unanswered(processor, lambda: refund_payment(
        payment, amount_minor=2000, reason=RefundReason.REQUESTED_BY_CUSTOMER, note=None,
        reverse_credits=False, actor=make_admin(), idempotency_key=uuid4().hex))
    refund = db.session.query(Refund).one()
    login("manager")
    assert "1 refund</a>" in client.get("/admin/").get_data(as_text=True)
    pending = client.get("/admin/refund/?flt0_status_equals=pending").get_data(as_text=True)
    assert f"/admin/refund/check-with-processor/?id={refund.id}" in pending
    url = f"/admin/refund/check-with-processor/?id={refund.id}"
    assert url in client.get("/admin/refund/").get_data(as_text=True)
    assert url in client.get(f"/admin/refund/details/?id={refund.id}").get_data(as_text=True)
    done = client.post(url, data={"idempotency_key": "r-1"}, follow_redirects=True)
    assert "Credit note" in done.get_data(as_text=True)
    assert db.session.get(Refund, refund.id).status is RefundStatus.SUCCEEDED
    assert db.session.get(Payment, payment.id).amount_refunded_minor == 2000


def test_stripe_webhook_events_are_listed_for_managers(client, login, app):
    db.session.add(StripeEvent(id="evt_listed", type="charge.refunded", handled=True,
                               note="Refund #3 of $20.00 (payment #9) succeeded."))
    db.session.commit()
    login("manager")
    page = client.get("/admin/stripe_event/").get_data(as_text=True)
    assert "evt_listed" in page and "charge.refunded" in page and "Refund #3" in page
    assert "Stripe webhook events" in client.get("/admin/").get_data(as_text=True)


def test_every_pending_payment_is_checked_at_once_from_the_list(client, login, app, processor):
    contacts = [make_contact(first_name=name) for name in ("Ada", "Bea", "Cy")]
    for contact in contacts:
        give_card(contact)
    _unanswered(processor, lambda: charge_custom_bill(
        contacts[0], amount_minor=1000, currency="USD", description="Lost answer",
        method=PaymentMethodKind.CARD, actor=make_admin(), idempotency_key=uuid4().hex))
    processor.set_down(True)  # never reaches the processor: too recent to call it failed
    try:
        with pytest.raises(ActionError):
            charge_custom_bill(contacts[1], amount_minor=2000, currency="USD",
                               description="Never reached", method=PaymentMethodKind.CARD,
                               actor=make_admin(), idempotency_key=uuid4().hex)
    finally:
        processor.set_down(False)
    paid = charge_custom_bill(contacts[2], amount_minor=3000, currency="USD",
                              description="Answered", method=PaymentMethodKind.CARD,
                              actor=make_admin(), idempotency_key=uuid4().hex).record
    login("cashier")
    pending_list = "/admin/payment/?flt0_status_equals=pending"
    done = client.post("/admin/payment/action/", data={
        "action": "check_with_processor", "rowid": [str(paid.id)], "select_all_matching": "1",
        "url": pending_list, "idempotency_key": "bulk-check-1"}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "2 checked." in page and "1 still waiting for the processor" in page
    statuses = {p.description: p.status for p in db.session.query(Payment)}
    assert statuses == {"Lost answer": PaymentStatus.SUCCEEDED,
                        "Never reached": PaymentStatus.PENDING,
                        "Answered": PaymentStatus.SUCCEEDED}
    client.post("/admin/logout")
    login("viewer")
    assert "check_with_processor" not in client.get("/admin/payment/").get_data(as_text=True)
