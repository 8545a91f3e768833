"""Workflow 1: refund a payment, in full or in part, with a credit note."""

from __future__ import annotations

import threading

import pytest

from admin_app.actions.adjust_credits import credit_balance
from admin_app.actions.refund_payment import refund_payment
from admin_app.actions.runner import AlreadyDone
from admin_app.billing.charging import charge_saved_card
from admin_app.billing.refunding import refundable_remainder
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    AdminUser,
    CashierSettings,
    CreditReason,
    Document,
    DocumentType,
    OutboundMessage,
    Payment,
    PaymentMethodKind,
    PaymentPurpose,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from tests.actions.conftest import audit_entries
from tests.factories import give_card, make_contact, make_credit, make_payment, make_service
from tests.transactions import committed


def _card_payment(amount=10000, contact=None):
    """A real card payment at the offline gateway, committed."""
    contact = contact or make_contact(first_name="Rita")
    give_card(contact)
    with committed():
        payment = charge_saved_card(contact, amount_minor=amount, currency="USD",
                                    purpose=PaymentPurpose.CUSTOM_BILL,
                                    description="Massage").payment
    return payment


def _refund(payment, actor, key, amount, **kw):
    options = {"reason": RefundReason.REQUESTED_BY_CUSTOMER, "note": None,
               "reverse_credits": False}
    return refund_payment(payment, amount_minor=amount, actor=actor, idempotency_key=key(),
                          **{**options, **kw}).record


def _credit_notes():
    return (db.session.query(Document).filter_by(doc_type=DocumentType.CREDIT_NOTE)
            .order_by(Document.id).all())


def test_partial_then_full_refund_through_the_gateway(app, cashier, key, processor):
    payment = _card_payment(10000)
    first = _refund(payment, cashier, key, 2500, note="Half a session")
    assert first.status is RefundStatus.SUCCEEDED and first.gateway_id
    assert first.issued_by_id == cashier.id
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.PARTIALLY_REFUNDED
    assert payment.amount_refunded_minor == 2500
    second = _refund(payment, cashier, key, 7500)
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.REFUNDED and payment.amount_refunded_minor == 10000
    assert processor.charge(payment.gateway_id).refunded_minor == 10000
    notes = _credit_notes()
    assert [(n.refund_id, n.total_minor) for n in notes] == [(first.id, 2500), (second.id, 7500)]
    assert [n.number for n in notes] == [1, 2]
    entries = audit_entries("refund_payment")
    assert entries[0].before == {"status": "succeeded", "amount_refunded_minor": 0}
    assert entries[0].after["status"] == "partially_refunded"
    assert entries[0].after["credit_note_id"] == notes[0].id
    assert entries[1].after["amount_refunded_minor"] == 10000
    assert entries[0].actor_id == cashier.id


def test_cash_payment_is_refunded_without_the_gateway(app, owner, key, processor):
    payment = make_payment(method=PaymentMethodKind.CASH, amount_minor=4000)
    db.session.commit()
    processor.set_down(True)  # not asked at all
    try:
        refund = _refund(payment, owner, key, 4000)
    finally:
        processor.set_down(False)
    assert refund.status is RefundStatus.SUCCEEDED and refund.gateway_id is None
    assert db.session.get(Payment, payment.id).status is PaymentStatus.REFUNDED


@pytest.mark.processor  # a card payment made at the processor (_card_payment)
def test_credit_note_is_queued_when_auto_send_is_on(app, owner, key):
    settings = CashierSettings.get()
    settings.auto_send_receipts = True
    db.session.commit()
    payment = _card_payment(3000)
    receipt_sent = db.session.query(OutboundMessage).one()  # the charge's own receipt
    _refund(payment, owner, key, 3000)
    (message,) = db.session.query(OutboundMessage).filter(
        OutboundMessage.id != receipt_sent.id).all()
    assert message.document.doc_type is DocumentType.CREDIT_NOTE


@pytest.mark.processor  # a card payment made at the processor (_card_payment)
def test_credits_are_taken_back_but_never_below_zero(app, owner, key):
    payment = _card_payment(12000)
    physio, yoga = make_service(name="Physio"), make_service(name="Yoga")
    contact = payment.contact
    make_credit(contact=contact, service=physio, quantity=4, payment_id=payment.id,
                reason=CreditReason.PERIOD_GRANT)
    make_credit(contact=contact, service=yoga, quantity=2, payment_id=payment.id,
                reason=CreditReason.PERIOD_GRANT)
    make_credit(contact=contact, service=yoga, quantity=-1, reason=CreditReason.BOOKING)
    db.session.commit()
    _refund(payment, owner, key, 6000, reverse_credits=True)
    assert credit_balance(contact.id, physio.id) == 0
    assert credit_balance(contact.id, yoga.id) == 0
    entry = audit_entries("refund_payment")[-1]
    assert entry.after["credits_reversed"] == {str(physio.id): 4, str(yoga.id): 1}
    assert "1 Yoga credit(s) were already used" in entry.summary
    # A second refund takes back only what is still outstanding (the used Yoga credit).
    make_credit(contact=contact, service=yoga, quantity=3, reason=CreditReason.MANUAL_ADD)
    db.session.commit()
    _refund(payment, owner, key, 1000, reverse_credits=True)
    assert credit_balance(contact.id, physio.id) == 0
    assert credit_balance(contact.id, yoga.id) == 2


@pytest.mark.parametrize(("status", "amount", "code"), [
    (PaymentStatus.FAILED, 100, "payment_not_refundable"),
    (PaymentStatus.PENDING, 100, "payment_not_refundable"),
    (PaymentStatus.REFUNDED, 100, "payment_not_refundable"),
    (PaymentStatus.SUCCEEDED, 0, "amount_not_positive"),
    (PaymentStatus.SUCCEEDED, -5, "amount_not_positive"),
    (PaymentStatus.SUCCEEDED, 7501, "refund_exceeds_remaining"),
])
def test_refusals_change_nothing(app, owner, key, status, amount, code):
    refunded = 7500 if status is PaymentStatus.REFUNDED else 0
    payment = make_payment(status=status, method=PaymentMethodKind.CASH,
                           amount_refunded_minor=refunded)
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        _refund(payment, owner, key, amount)
    assert refused.value.code == code
    assert db.session.get(Payment, payment.id).amount_refunded_minor == refunded
    assert db.session.query(Refund).count() == 0 and _credit_notes() == []
    assert audit_entries("refund_payment") == []


def test_pending_refunds_count_against_the_remainder(app, owner, key):
    payment = make_payment(amount_minor=5000, method=PaymentMethodKind.CASH)
    db.session.add(Refund(payment_id=payment.id, amount_minor=3000, currency="USD",
                          reason=RefundReason.OTHER, status=RefundStatus.PENDING))
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        _refund(payment, owner, key, 2001)
    assert refused.value.code == "refund_exceeds_remaining"
    assert "$20.00" in refused.value.message
    assert _refund(payment, owner, key, 2000).status is RefundStatus.SUCCEEDED


def test_currency_mismatch_and_note_for_other(app, owner, key):
    payment = make_payment(amount_minor=5000, method=PaymentMethodKind.CASH)
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        _refund(payment, owner, key, 100, currency="EUR")
    assert refused.value.code == "currency_mismatch"
    with pytest.raises(ActionError) as refused:
        _refund(payment, owner, key, 100, reason=RefundReason.OTHER, note=" ")
    assert refused.value.code == "note_required"
    assert _refund(payment, owner, key, 100, currency="usd").amount_minor == 100


@pytest.mark.parametrize("failure", ["down", "unknown_charge"])
def test_gateway_failure_keeps_the_refund_and_changes_nothing_else(app, owner, key, failure,
                                                                   processor):
    payment = _card_payment(5000)
    if failure == "down":
        processor.set_down(True)
    else:
        payment.gateway_id = "ch_off_unknown"
        db.session.commit()
    try:
        with pytest.raises(ActionError) as refused:
            _refund(payment, owner, key, 1000)
    finally:
        processor.set_down(False)
    assert refused.value.code == ("gateway_unavailable" if failure == "down"
                                  else "gateway_refused")
    (refund,) = db.session.query(Refund).all()
    if failure == "down":  # unanswered: maybe refunded, so pending, and not refundable twice
        assert refund.status is RefundStatus.PENDING and refund.failure_reason is None
        assert refundable_remainder(db.session.get(Payment, payment.id)) == 4000
    else:
        assert refund.status is RefundStatus.FAILED and refund.failure_reason
    payment = db.session.get(Payment, payment.id)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.amount_refunded_minor == 0
    assert _credit_notes() == []
    (entry,) = audit_entries("refund_payment")
    assert entry.before == entry.after


def test_double_submit_refunds_once(app, owner, key, processor):
    payment = _card_payment(5000)
    same = key()
    refund_payment(payment, amount_minor=1000, reason=RefundReason.DUPLICATE, note=None,
                   reverse_credits=False, actor=owner, idempotency_key=same)
    with pytest.raises(AlreadyDone) as again:
        refund_payment(payment, amount_minor=1000, reason=RefundReason.DUPLICATE, note=None,
                       reverse_credits=False, actor=owner, idempotency_key=same)
    assert "Refunded $10.00" in again.value.message
    assert db.session.get(Payment, payment.id).amount_refunded_minor == 1000
    assert processor.count_refunds() == 1


def test_viewer_may_not_refund(app, viewer, key):
    payment = make_payment(method=PaymentMethodKind.CASH)
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        _refund(payment, viewer, key, 100)
    assert refused.value.code == "not_permitted"
    assert db.session.query(Refund).count() == 0


@pytest.mark.fresh_database
def test_concurrent_refunds_never_exceed_what_was_paid(app, owner, processor):
    """Two admins refund the same payment at the same moment, together for more than was
    paid: the payment's row lock (PostgreSQL) or the write lock (SQLite) lets one through."""
    payment = _card_payment(10000)
    payment_id, owner_id = payment.id, owner.id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def admin_refunds(amount: int, key: str) -> None:
        with app.app_context():  # its own app context, so its own session and connection
            try:
                actor = db.session.get(AdminUser, owner_id)
                target = db.session.get(Payment, payment_id)
                barrier.wait(timeout=10)
                refund_payment(target, amount_minor=amount,
                               reason=RefundReason.REQUESTED_BY_CUSTOMER, note=None,
                               reverse_credits=False, actor=actor, idempotency_key=key)
                outcomes.append("refunded")
            except ActionError as refused:
                outcomes.append(refused.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=admin_refunds, args=(amount, f"race-{amount}"))
               for amount in (7000, 6000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refund_exceeds_remaining", "refunded"]
    db.session.expire_all()
    payment = db.session.get(Payment, payment_id)
    assert payment.amount_refunded_minor in (7000, 6000)
    assert payment.amount_refunded_minor <= payment.amount_minor
    assert db.session.query(Refund).count() == 1
    assert processor.charge(payment.gateway_id).refunded_minor == payment.amount_refunded_minor


# --- through the admin -----------------------------------------------------------------------

@pytest.mark.processor  # a card payment made at the processor (_card_payment)
def test_refund_from_the_contact_card(client, login, app):
    payment = _card_payment(8000)
    login("cashier")
    card = f"/admin/contact/details/?id={payment.contact_id}&tab=transactions"
    tab = client.get(card).get_data(as_text=True)
    assert f"/admin/payment/refund/?id={payment.id}" in tab
    assert f"/admin/payment/refund/?id={payment.id}" in client.get("/admin/payment/").get_data(
        as_text=True)  # the same ⋯ item in Cashier → Transactions
    details = client.get(f"/admin/payment/details/?id={payment.id}").get_data(as_text=True)
    assert f"/admin/payment/refund/?id={payment.id}" in details  # and on its details page
    url = f"/admin/payment/refund/?id={payment.id}&url={card.replace('&', '%26')}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="amount"' in page and 'value="80.00"' in page
    assert "Refunded so far" in page and "Remaining" in page and "Duplicate" in page
    assert "Also take back the credits this payment granted" in page
    form = {"amount": "30.00", "reason": "duplicate", "note": "", "currency": "USD",
            "idempotency_key": "ref-1"}
    done = client.post(url, data=form)
    assert done.status_code == 302 and done.location.endswith(card)
    shown = client.get(done.location).get_data(as_text=True)
    assert "the payment is now partially refunded" in shown and "Credit note CN-" in shown
    again = client.post(url, data=form, follow_redirects=True)
    assert b"Already done" in again.data
    assert db.session.get(Payment, payment.id).amount_refunded_minor == 3000
    too_much = client.post(url, data={**form, "amount": "50.01", "idempotency_key": "ref-2"})
    assert too_much.status_code == 200
    assert b"At most $50.00 of payment" in too_much.data
    assert db.session.get(Payment, payment.id).amount_refunded_minor == 3000
    assert db.session.query(Refund).count() == 1


def test_refund_without_url_goes_back_to_the_contact_card(client, login, app):
    payment = make_payment(method=PaymentMethodKind.CASH, amount_minor=2000)
    db.session.commit()
    login("owner")
    done = client.post(f"/admin/payment/refund/?id={payment.id}", data={
        "amount": "20", "reason": "billing_error", "currency": "USD",
        "idempotency_key": "r-1"})
    assert done.status_code == 302
    assert f"id={payment.contact_id}" in done.location and "tab=transactions" in done.location
    assert db.session.get(Payment, payment.id).status is PaymentStatus.REFUNDED
    menu = client.get("/admin/payment/").get_data(as_text=True)
    assert f"/admin/payment/refund/?id={payment.id}" not in menu  # nothing left to refund


def test_viewer_sees_no_refund_and_is_refused(client, login, app):
    payment = make_payment(method=PaymentMethodKind.CASH, amount_minor=2000)
    db.session.commit()
    login("viewer")
    assert f"/admin/payment/refund/?id={payment.id}" not in client.get(
        "/admin/payment/").get_data(as_text=True)
    page = client.post(f"/admin/payment/refund/?id={payment.id}", data={
        "amount": "20", "reason": "duplicate", "currency": "USD", "idempotency_key": "v-1"},
        follow_redirects=True)
    assert b"may not refund payments" in page.data
    assert db.session.query(Refund).count() == 0
