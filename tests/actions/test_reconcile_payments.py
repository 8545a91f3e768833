"""Reconcile: payments and refunds the processor did not answer about are kept pending, then
settled from what the processor holds (on both gateways; the faults are real: a processor
that is down, or one that does the work and loses its answer)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from admin_app.actions.charge_custom_bill import charge_custom_bill
from admin_app.actions.charge_no_show_fee import charge_no_show_fee
from admin_app.actions.reconcile_payment import reconcile_payment
from admin_app.actions.reconcile_pending import reconcile_pending
from admin_app.actions.reconcile_refund import reconcile_refund
from admin_app.actions.refund_payment import refund_payment
from admin_app.actions.retry_failed_payment import retry_failed_payment
from admin_app.actions.runner import AlreadyDone
from admin_app.billing.reconciling import Outcome
from admin_app.billing.refunding import refundable_remainder
from admin_app.clock import freeze, utcnow
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    Document,
    DocumentType,
    NoShowFeeStatus,
    Payment,
    PaymentMethodKind,
    PaymentPurpose,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    Subscription,
    SubscriptionStatus,
)
from admin_app.payments import get_gateway
from tests.actions.conftest import audit_entries
from tests.factories import (
    give_card,
    make_appointment,
    make_contact,
    make_payment,
    make_service,
    make_subscription,
)

NOW = timedelta(0)


@pytest.fixture
def mia(app):
    contact = make_contact(first_name="Mia", last_name="Wong")
    give_card(contact)
    return contact


def _bill(contact, owner, key, amount_minor=4500):
    return charge_custom_bill(contact, amount_minor=amount_minor, currency="USD",
                              description="Massage", method=PaymentMethodKind.CARD,
                              actor=owner, idempotency_key=key()).record


def _unanswered_bill(contact, owner, key, processor, fault: str) -> Payment:
    """A custom bill whose charge got no answer: ``down`` (never reached the processor) or
    ``lost`` (made, but the answer was lost)."""
    if fault == "down":
        processor.set_down(True)
    try:
        with processor.losing_answers() if fault == "lost" else _nothing(), \
                pytest.raises(ActionError) as refused:
            _bill(contact, owner, key)
    finally:
        processor.set_down(False)
    assert refused.value.code == "gateway_unavailable"
    payment = db.session.scalars(select(Payment).order_by(Payment.id.desc())).first()
    assert payment.status is PaymentStatus.PENDING
    return payment


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _receipts(payment) -> list[Document]:
    return db.session.scalars(select(Document).where(
        Document.payment_id == payment.id, Document.doc_type == DocumentType.RECEIPT)).all()


def test_a_charge_made_but_unanswered_is_settled_as_succeeded_with_its_receipt(
        mia, owner, key, processor):
    payment = _unanswered_bill(mia, owner, key, processor, "lost")
    assert _receipts(payment) == []
    reconciled = reconcile_payment(payment, actor=owner, idempotency_key=key(), min_age=NOW).record
    assert reconciled.outcome is Outcome.SETTLED
    payment = db.session.get(Payment, payment.id)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.paid_at is not None
    assert processor.charge(payment.gateway_id).amount_minor == 4500
    assert processor.count_charges() == 1  # found, not charged again
    (receipt,) = _receipts(payment)
    assert receipt.total_minor == 4500 and str(receipt) in reconciled.message
    (entry,) = audit_entries("settle_payment")
    assert entry.actor_id == owner.id and entry.after["status"] == "succeeded"
    # The contact can be charged again now that nothing is pending.
    assert _bill(mia, owner, key, 1000).status is PaymentStatus.SUCCEEDED


def test_a_charge_that_never_reached_the_processor_is_failed_once_old_enough(
        mia, owner, key, processor):
    payment = _unanswered_bill(mia, owner, key, processor, "down")
    early = reconcile_payment(payment, actor=owner, idempotency_key=key()).record
    assert early.outcome is Outcome.STILL_PENDING and "try again" in early.message
    assert db.session.get(Payment, payment.id).status is PaymentStatus.PENDING
    freeze(utcnow() + timedelta(minutes=3))
    try:
        later = reconcile_payment(payment, actor=owner, idempotency_key=key()).record
    finally:
        freeze(None)
    assert later.outcome is Outcome.SETTLED and "never charged" in later.message
    payment = db.session.get(Payment, payment.id)
    assert (payment.status, payment.failure_reason) == (PaymentStatus.FAILED,
                                                        "not_at_processor")
    assert _receipts(payment) == [] and processor.count_charges() == 0


def test_a_decline_whose_answer_was_lost_is_settled_as_failed(app, owner, key, processor):
    contact = make_contact()
    give_card(contact, number="4000000000000341")
    payment = _unanswered_bill(contact, owner, key, processor, "lost")
    reconcile_payment(payment, actor=owner, idempotency_key=key(), min_age=NOW)
    payment = db.session.get(Payment, payment.id)
    assert (payment.status, payment.failure_reason) == (PaymentStatus.FAILED, "card_declined")
    assert _receipts(payment) == []


def test_a_processor_still_down_leaves_it_pending(mia, owner, key, processor):
    payment = _unanswered_bill(mia, owner, key, processor, "lost")
    processor.set_down(True)
    try:
        reconciled = reconcile_payment(payment, actor=owner, idempotency_key=key(),
                                       min_age=NOW).record
    finally:
        processor.set_down(False)
    assert reconciled.outcome is Outcome.STILL_PENDING
    assert db.session.get(Payment, payment.id).status is PaymentStatus.PENDING
    assert audit_entries("settle_payment") == []


def test_reconciling_twice_settles_once(mia, owner, key, processor, viewer):
    payment = _unanswered_bill(mia, owner, key, processor, "lost")
    with pytest.raises(ActionError) as refused:
        reconcile_payment(payment, actor=viewer, idempotency_key=key(), min_age=NOW)
    assert refused.value.code == "not_permitted"
    same = key()
    reconcile_payment(payment, actor=owner, idempotency_key=same, min_age=NOW)
    with pytest.raises(AlreadyDone):
        reconcile_payment(payment, actor=owner, idempotency_key=same, min_age=NOW)
    with pytest.raises(ActionError) as again:
        reconcile_payment(payment, actor=owner, idempotency_key=key(), min_age=NOW)
    assert again.value.code == "not_pending"
    assert len(_receipts(payment)) == 1 and len(audit_entries("settle_payment")) == 1


@pytest.mark.parametrize("fault", ["lost", "down"])
def test_an_unanswered_refund_is_settled_from_the_processor(mia, owner, key, processor,
                                                            fault):
    payment = _bill(mia, owner, key, 8000)
    if fault == "down":
        processor.set_down(True)
    try:
        with processor.losing_answers() if fault == "lost" else _nothing(), \
                pytest.raises(ActionError) as refused:
            refund_payment(payment, amount_minor=3000,
                           reason=RefundReason.REQUESTED_BY_CUSTOMER, note=None,
                           reverse_credits=False, actor=owner, idempotency_key=key())
    finally:
        processor.set_down(False)
    assert refused.value.code == "gateway_unavailable"
    (refund,) = db.session.query(Refund).all()
    assert refund.status is RefundStatus.PENDING
    assert refundable_remainder(db.session.get(Payment, payment.id)) == 5000
    reconciled = reconcile_refund(refund, actor=owner, idempotency_key=key(), min_age=NOW).record
    assert reconciled.outcome is Outcome.SETTLED
    refund, payment = db.session.get(Refund, refund.id), db.session.get(Payment, payment.id)
    notes = db.session.scalars(select(Document).where(Document.refund_id == refund.id)).all()
    if fault == "lost":  # made at the processor: the books follow, with the credit note
        assert refund.status is RefundStatus.SUCCEEDED and refund.gateway_id
        assert (payment.status, payment.amount_refunded_minor) == \
            (PaymentStatus.PARTIALLY_REFUNDED, 3000)
        assert len(notes) == 1 and notes[0].doc_type is DocumentType.CREDIT_NOTE
        assert processor.charge(payment.gateway_id).refunded_minor == 3000
    else:  # never made: failed, and the amount can be refunded again
        assert refund.status is RefundStatus.FAILED and notes == []
        assert payment.amount_refunded_minor == 0 and refundable_remainder(payment) == 8000
        assert processor.charge(payment.gateway_id).refunded_minor == 0


def test_reconcile_pending_settles_everything_it_can(mia, owner, key, processor):
    charged = _unanswered_bill(mia, owner, key, processor, "lost")
    other = make_contact()
    give_card(other)
    never = _unanswered_bill(other, owner, key, processor, "down")
    done = reconcile_pending(min_age=NOW)
    assert [r.outcome for r in done] == [Outcome.SETTLED, Outcome.SETTLED]
    assert db.session.get(Payment, charged.id).status is PaymentStatus.SUCCEEDED
    assert db.session.get(Payment, never.id).status is PaymentStatus.FAILED
    assert reconcile_pending(min_age=NOW) == []
    (first, second) = audit_entries("settle_payment")
    assert first.actor_id is None and second.actor_id is None


def test_the_reconcile_command(app, mia, owner, key, processor):
    lost = _unanswered_bill(mia, owner, key, processor, "lost")
    other = make_contact()
    give_card(other)
    never = _unanswered_bill(other, owner, key, processor, "down")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["payments", "reconcile"])
    assert first.exit_code == 1, first.output  # the unreached one is younger than two minutes
    assert f"Payment #{lost.id} of $45.00 succeeded" in first.output
    assert "1 settled, 1 still pending." in first.output
    second = runner.invoke(args=["payments", "reconcile", "--min-age", "0"])
    assert second.exit_code == 0, second.output
    assert f"Payment #{never.id} of $45.00 was never charged" in second.output
    assert "1 settled, 0 still pending." in second.output
    assert db.session.get(Payment, lost.id).status is PaymentStatus.SUCCEEDED
    assert db.session.get(Payment, never.id).status is PaymentStatus.FAILED


def test_a_no_show_fee_charged_after_all_becomes_charged_on_its_appointment(
        app, owner, key, processor):
    contact = make_contact(first_name="Noah")
    appointment = make_appointment(contact=contact, service=make_service(name="Physio"),
                                   starts_at=utcnow() - timedelta(hours=2))
    db.session.commit()
    give_card(contact)
    with processor.losing_answers(), pytest.raises(ActionError) as refused:
        charge_no_show_fee(appointment, amount_minor=7500, actor=owner, idempotency_key=key())
    assert refused.value.code == "gateway_unavailable"
    appointment = db.session.get(Appointment, appointment.id)
    payment = db.session.query(Payment).one()
    # Not known to be paid: neither charged nor open, the fee's payment is linked and pending.
    assert appointment.no_show_fee_status is NoShowFeeStatus.NONE
    assert appointment.no_show_fee_payment_id == payment.id
    with pytest.raises(ActionError) as again:
        charge_no_show_fee(appointment, amount_minor=7500, actor=owner, idempotency_key=key())
    assert again.value.code == "fee_pending"
    reconciled = reconcile_payment(payment, actor=owner, idempotency_key=key(), min_age=NOW).record
    assert "is now charged" in reconciled.message and "check that" not in reconciled.message
    db.session.expire_all()
    appointment = db.session.get(Appointment, appointment.id)
    assert appointment.no_show_fee_status is NoShowFeeStatus.CHARGED
    assert appointment.no_show_fee_payment_id == payment.id
    assert db.session.get(Payment, payment.id).status is PaymentStatus.SUCCEEDED


def test_a_retry_of_a_past_due_period_paid_after_all_reactivates_the_subscription(
        app, owner, key, processor):
    contact = make_contact()
    subscription = make_subscription(contact=contact, status=SubscriptionStatus.PAST_DUE)
    failed = make_payment(contact=contact, subscription=subscription, amount_minor=12000,
                          purpose=PaymentPurpose.SUBSCRIPTION_PERIOD,
                          status=PaymentStatus.FAILED, paid_at=None, description="Renewal")
    db.session.commit()
    give_card(contact)
    with processor.losing_answers(), pytest.raises(ActionError):
        retry_failed_payment(failed, actor=owner, idempotency_key=key())
    (attempt,) = db.session.query(Payment).filter_by(retry_of_id=failed.id).all()
    reconciled = reconcile_payment(attempt, actor=owner, idempotency_key=key(), min_age=NOW).record
    assert "is active again" in reconciled.message
    assert db.session.get(Subscription, subscription.id).status is SubscriptionStatus.ACTIVE


def test_a_charge_whose_action_had_stopped_is_flagged_for_the_admin(app, owner, key,
                                                                    processor):
    """An upgrade's proration, charged after all: the plan was not switched, so the admin is
    told to check it (or refund)."""
    contact = make_contact()
    card = give_card(contact)
    subscription = make_subscription(contact=contact)  # active: nothing owed by it
    payment = make_payment(contact=contact, subscription=subscription, status=PaymentStatus.PENDING,
                           paid_at=None, purpose=PaymentPurpose.SUBSCRIPTION_PERIOD,
                           method=PaymentMethodKind.CARD, amount_minor=4000)
    db.session.commit()
    made = get_gateway().charge(  # what the processor did before its answer was lost
        customer_id=contact.stripe_customer_id, card_gateway_id=card.gateway_id,
        amount_minor=4000, currency="USD", description="Upgrade",
        idempotency_key=payment.reference)
    assert made.succeeded
    reconciled = reconcile_payment(payment, actor=owner, idempotency_key=key(), min_age=NOW).record
    assert "check that what it paid for was done, or refund it" in reconciled.message
    assert db.session.get(Payment, payment.id).status is PaymentStatus.SUCCEEDED
    assert db.session.get(Subscription, subscription.id).status is SubscriptionStatus.ACTIVE
