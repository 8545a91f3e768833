"""Retrying a failed charge on the contact's new default card: a new linked payment, a
receipt, a past due subscription active again, a failed no-show fee charged; at most one paid
retry per failed payment."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from admin_app.actions.charge_custom_bill import charge_custom_bill
from admin_app.actions.charge_no_show_fee import charge_no_show_fee
from admin_app.actions.reconcile_payment import reconcile_payment
from admin_app.actions.retry_failed_payment import retry_failed_payment
from admin_app.actions.runner import AlreadyDone
from admin_app.billing.retry_rules import retryable_failed_payments
from admin_app.clock import utcnow
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    AdminUser,
    Appointment,
    Document,
    DocumentType,
    NoShowFeeStatus,
    Payment,
    PaymentMethodKind,
    PaymentPurpose,
    PaymentStatus,
    SubscriptionStatus,
)
from tests.actions.conftest import audit_entries
from tests.factories import (
    give_card,
    make_appointment,
    make_contact,
    make_payment,
    make_subscription,
)

# Retries charge saved cards at the processor.
pytestmark = pytest.mark.processor


@pytest.fixture
def grace(app):
    contact = make_contact(first_name="Grace", email="grace@example.com")
    db.session.commit()
    return contact


def _failed_bill(contact, cashier, key, number="4000000000000341") -> Payment:
    """A custom bill declined on ``number`` (saved as the default card first)."""
    give_card(contact, number=number)
    with pytest.raises(ActionError):
        charge_custom_bill(contact, amount_minor=4500, currency="USD", description="Massage",
                           method=PaymentMethodKind.CARD, actor=cashier, idempotency_key=key())
    return db.session.query(Payment).filter_by(contact_id=contact.id,
                                               status=PaymentStatus.FAILED).one()


def _receipts() -> list[Document]:
    return db.session.query(Document).filter_by(doc_type=DocumentType.RECEIPT).all()


def test_retry_on_a_new_card_pays_the_failed_bill_once(grace, cashier, key, processor):
    failed = _failed_bill(grace, cashier, key)
    give_card(grace)  # the member's new card, now the default
    retry = retry_failed_payment(failed, actor=cashier, idempotency_key=key()).record
    assert retry.status is PaymentStatus.SUCCEEDED and retry.retry_of_id == failed.id
    assert (retry.amount_minor, retry.currency, retry.purpose, retry.description) == \
        (4500, "USD", PaymentPurpose.CUSTOM_BILL, "Massage")
    assert processor.charge(retry.gateway_id).succeeded
    (receipt,) = _receipts()
    assert receipt.payment_id == retry.id and receipt.total_minor == 4500
    db.session.refresh(failed)
    assert failed.status is PaymentStatus.FAILED  # the failure stays on record
    (entry,) = audit_entries("retry_failed_payment")
    assert entry.actor_id == cashier.id and entry.after["payment_id"] == retry.id
    charges = processor.count_charges()
    with pytest.raises(ActionError) as refused:
        retry_failed_payment(failed, actor=cashier, idempotency_key=key())
    assert refused.value.code == "already_paid"
    assert processor.count_charges() == charges and len(_receipts()) == 1


def test_double_submit_retries_once(grace, cashier, key, processor):
    failed = _failed_bill(grace, cashier, key)
    give_card(grace)
    same = key()
    retry_failed_payment(failed, actor=cashier, idempotency_key=same)
    charges = processor.count_charges()
    with pytest.raises(AlreadyDone):
        retry_failed_payment(failed, actor=cashier, idempotency_key=same)
    assert processor.count_charges() == charges
    assert db.session.query(Payment).filter_by(retry_of_id=failed.id).count() == 1


def test_declined_again_keeps_the_attempt_linked_then_a_retry_of_it_pays_the_original(
        grace, cashier, key):
    failed = _failed_bill(grace, cashier, key)
    with pytest.raises(ActionError) as refused:  # same declining card
        retry_failed_payment(failed, actor=cashier, idempotency_key=key())
    assert refused.value.code == "card_declined"
    (attempt,) = db.session.query(Payment).filter_by(retry_of_id=failed.id).all()
    assert attempt.status is PaymentStatus.FAILED and _receipts() == []
    assert "declined" in audit_entries("retry_failed_payment")[0].summary
    give_card(grace)
    retry = retry_failed_payment(attempt, actor=cashier, idempotency_key=key()).record
    assert retry.retry_of_id == failed.id and retry.status is PaymentStatus.SUCCEEDED
    with pytest.raises(ActionError) as refused:
        retry_failed_payment(attempt, actor=cashier, idempotency_key=key())
    assert refused.value.code == "already_paid"


def test_card_needing_authentication_on_retry_sends_the_link(grace, cashier, key):
    failed = _failed_bill(grace, cashier, key, number="4000002500003155")
    with pytest.raises(ActionError) as refused:
        retry_failed_payment(failed, actor=cashier, idempotency_key=key())
    assert refused.value.code == "authentication_required"
    assert "payment-method link was queued" in refused.value.message


def test_past_due_subscription_becomes_active(grace, cashier, key, processor):
    subscription = make_subscription(contact=grace, status=SubscriptionStatus.PAST_DUE)
    first = make_payment(contact=grace, subscription=subscription, amount_minor=12000,
                         purpose=PaymentPurpose.SUBSCRIPTION_PERIOD, status=PaymentStatus.FAILED,
                         paid_at=None, description="Monthly: renewal")
    second = make_payment(contact=grace, subscription=subscription, amount_minor=12000,
                          purpose=PaymentPurpose.SUBSCRIPTION_PERIOD,
                          status=PaymentStatus.FAILED, paid_at=None,
                          description="Monthly: renewal")
    db.session.commit()
    give_card(grace)
    assert [p.id for p in retryable_failed_payments(grace)] == [second.id]
    retry = retry_failed_payment(second, actor=cashier, idempotency_key=key()).record
    assert retry.subscription_id == subscription.id and retry.status is PaymentStatus.SUCCEEDED
    db.session.refresh(subscription)
    assert subscription.status is SubscriptionStatus.ACTIVE
    assert "active again" in audit_entries("retry_failed_payment")[0].summary
    with pytest.raises(ActionError) as refused:  # the period is paid: the other failure too
        retry_failed_payment(first, actor=cashier, idempotency_key=key())
    assert refused.value.code == "subscription_not_past_due"
    assert retryable_failed_payments(grace) == []


def test_a_failed_charge_of_an_active_subscription_is_not_retried(grace, cashier, key):
    subscription = make_subscription(contact=grace)
    upgrade = make_payment(contact=grace, subscription=subscription, amount_minor=3000,
                           purpose=PaymentPurpose.SUBSCRIPTION_PERIOD,
                           status=PaymentStatus.FAILED, paid_at=None, description="Upgrade")
    old = make_payment(contact=grace, subscription=make_subscription(
        contact=grace, status=SubscriptionStatus.PAST_DUE), amount_minor=12000,
        purpose=PaymentPurpose.SUBSCRIPTION_PERIOD, status=PaymentStatus.FAILED, paid_at=None,
        created_at=utcnow() - timedelta(days=40))
    db.session.commit()
    give_card(grace)
    for payment, code in ((upgrade, "subscription_not_past_due"), (old, "not_current_period")):
        with pytest.raises(ActionError) as refused:
            retry_failed_payment(payment, actor=cashier, idempotency_key=key())
        assert refused.value.code == code
    assert db.session.query(Payment).filter(Payment.retry_of_id.isnot(None)).count() == 0


def test_failed_no_show_fee_becomes_charged(grace, cashier, key):
    give_card(grace, number="4000000000000341")
    appointment = make_appointment(contact=grace, starts_at=utcnow() - timedelta(hours=3))
    db.session.commit()
    with pytest.raises(ActionError):
        charge_no_show_fee(appointment, amount_minor=7500, actor=cashier, idempotency_key=key())
    fee = db.session.query(Payment).filter_by(purpose=PaymentPurpose.NO_SHOW_FEE).one()
    give_card(grace)
    retry = retry_failed_payment(fee, actor=cashier, idempotency_key=key()).record
    appointment = db.session.get(Appointment, appointment.id)
    db.session.refresh(appointment)
    assert appointment.no_show_fee_status is NoShowFeeStatus.CHARGED
    assert appointment.no_show_fee_payment_id == retry.id
    with pytest.raises(ActionError) as refused:  # and the no-show action agrees
        charge_no_show_fee(appointment, amount_minor=7500, actor=cashier, idempotency_key=key())
    assert refused.value.code == "fee_already_charged"


def test_a_waived_no_show_fee_is_not_retried(grace, cashier, key):
    appointment = make_appointment(contact=grace, starts_at=utcnow() - timedelta(hours=3),
                                   no_show_fee_status=NoShowFeeStatus.WAIVED)
    fee = make_payment(contact=grace, purpose=PaymentPurpose.NO_SHOW_FEE,
                       status=PaymentStatus.FAILED, paid_at=None)
    appointment.no_show_fee_payment_id = fee.id  # as the demo data links failed fees
    db.session.commit()
    give_card(grace)
    with pytest.raises(ActionError) as refused:
        retry_failed_payment(fee, actor=cashier, idempotency_key=key())
    assert refused.value.code == "fee_waived"


@pytest.mark.parametrize(("change", "code"), [
    ({"status": PaymentStatus.SUCCEEDED}, "not_failed"),
    ({"method": PaymentMethodKind.CASH}, "not_a_card_payment"),
])
def test_only_failed_card_payments_are_retried(grace, cashier, key, change, code):
    payment = make_payment(contact=grace, **{"status": PaymentStatus.FAILED, **change})
    db.session.commit()
    give_card(grace)
    with pytest.raises(ActionError) as refused:
        retry_failed_payment(payment, actor=cashier, idempotency_key=key())
    assert refused.value.code == code


def test_no_card_and_viewer_are_refused(grace, cashier, viewer, key):
    failed = make_payment(contact=grace, status=PaymentStatus.FAILED, paid_at=None)
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        retry_failed_payment(failed, actor=cashier, idempotency_key=key())
    assert refused.value.code == "no_payment_method"
    give_card(grace)
    with pytest.raises(ActionError) as refused:
        retry_failed_payment(failed, actor=viewer, idempotency_key=key())
    assert refused.value.code == "not_permitted"
    assert db.session.query(Payment).count() == 1


def test_processor_down_keeps_the_attempt(grace, cashier, key, processor):
    failed = make_payment(contact=grace, status=PaymentStatus.FAILED, paid_at=None)
    db.session.commit()
    give_card(grace)
    processor.set_down(True)
    try:
        with pytest.raises(ActionError) as refused:
            retry_failed_payment(failed, actor=cashier, idempotency_key=key())
    finally:
        processor.set_down(False)
    assert refused.value.code == "gateway_unavailable"
    (attempt,) = db.session.query(Payment).filter_by(retry_of_id=failed.id).all()
    assert attempt.status is PaymentStatus.PENDING  # outcome unknown: no second charge meanwhile
    with pytest.raises(ActionError) as refused:
        retry_failed_payment(failed, actor=cashier, idempotency_key=key())
    assert refused.value.code == "retry_pending"
    # Reconciled as never made (the processor was down), the payment can be retried again.
    reconcile_payment(attempt, actor=cashier, idempotency_key=key(), min_age=timedelta(0))
    assert db.session.get(Payment, attempt.id).status is PaymentStatus.FAILED
    assert retry_failed_payment(failed, actor=cashier, idempotency_key=key()).record.status \
        is PaymentStatus.SUCCEEDED


@pytest.mark.fresh_database
def test_concurrent_retries_pay_once(app, grace, cashier, processor):
    """Two admins retry the same failed payment at the same moment: the payment's row lock
    (PostgreSQL) or the write lock (SQLite) lets one charge through."""
    failed = make_payment(contact=grace, status=PaymentStatus.FAILED, paid_at=None)
    db.session.commit()
    give_card(grace)
    payment_id, cashier_id = failed.id, cashier.id
    charges = processor.count_charges()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def admin_retries(key: str) -> None:
        with app.app_context():  # its own app context, so its own session and connection
            try:
                actor = db.session.get(AdminUser, cashier_id)
                target = db.session.get(Payment, payment_id)
                barrier.wait(timeout=10)
                retry_failed_payment(target, actor=actor, idempotency_key=key)
                outcomes.append("paid")
            except ActionError as refused:
                outcomes.append(refused.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=admin_retries, args=(f"race-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # The one that comes second finds the first's retry paid, or still at the processor.
    assert sorted(outcomes) in (["already_paid", "paid"], ["paid", "retry_pending"])
    db.session.expire_all()
    assert db.session.query(Payment).filter_by(retry_of_id=payment_id).count() == 1
    assert processor.count_charges() == charges + 1
