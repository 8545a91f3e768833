"""The renewal engine (``billing.renewals``, ``flask billing run``) on each database with the
offline gateway and on PostgreSQL with localstripe: renewals charged once, promos counted down,
scheduled changes applied at the period end, declines retried on the schedule then unpaid,
a new card retrying at once, cash members invoiced, a silent processor leaving the payment
pending for reconcile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from admin_app.actions.reconcile_pending import reconcile_pending
from admin_app.actors import SYSTEM
from admin_app.billing.period_billing import latest_period, open_period, settle_period_paid
from admin_app.billing.renewals import Did
from admin_app.extensions import db
from admin_app.models import (
    AfterFinalRetry,
    BillingPeriod,
    CashierSettings,
    CreditEntry,
    CreditReason,
    DiscountDuration,
    Document,
    DocumentType,
    OutboundMessage,
    Payment,
    PaymentMethodKind,
    PaymentStatus,
    PeriodStatus,
    Subscription,
    SubscriptionStatus,
)
from tests.actions.subscription_setup import (
    DECLINES,
    PERIOD_END,
    PERIOD_START,
    clock_fixture,
    run_billing,
    subscriber,
)
from tests.factories import give_card, make_plan, make_promo

__all__ = ["clock_fixture"]
pytestmark = pytest.mark.processor


def periods(subscription) -> list[BillingPeriod]:
    return list(db.session.scalars(select(BillingPeriod).where(
        BillingPeriod.subscription_id == subscription.id).order_by(BillingPeriod.starts_at)))


def period_payments(period) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.period_id == period.id)
                                   .order_by(Payment.period_attempt)))


def grants(period) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(CreditEntry.quantity), 0)).where(
        CreditEntry.period_id == period.id, CreditEntry.reason == CreditReason.PERIOD_GRANT))


def test_a_renewal_is_charged_once_with_receipt_and_credits(app, clock, processor):
    member = subscriber(credits=4)
    charges = processor.count_charges()
    report = run_billing(PERIOD_END + timedelta(hours=1))
    assert report.counts[Did.RENEWED] == 1 and report.counts[Did.PAID] == 1
    first, second = periods(member.subscription)
    assert first.status is PeriodStatus.PAID and grants(first) == 0  # adopted, granted before
    assert second.starts_at == PERIOD_END and second.status is PeriodStatus.PAID
    assert member.subscription.current_period_start == PERIOD_END
    (payment,) = period_payments(second)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.amount_minor == 12000
    assert payment.reference == f"renewal-{member.subscription.id}-{second.id}-1"
    assert processor.charge(payment.gateway_id).amount_minor == 12000
    receipt = db.session.get(Document, second.document_id)
    assert receipt.doc_type is DocumentType.RECEIPT and receipt.payment_id == payment.id
    assert grants(second) == 4
    assert db.session.scalar(select(CreditEntry.expires_at).where(
        CreditEntry.period_id == second.id)) == second.ends_at
    again = run_billing(PERIOD_END + timedelta(hours=2))
    assert again.subscriptions == 0 and not again.lines
    assert processor.count_charges() == charges + 1


def test_months_of_renewals_count_the_promo_down(app, clock, processor):
    member = subscriber(price=10000)
    promo = make_promo(percent_off=50, duration=DiscountDuration.REPEATING, duration_months=2)
    member.subscription.promo_code, member.subscription.promo_periods_left = promo, 2
    db.session.commit()
    run_billing(PERIOD_START + timedelta(days=130))
    amounts = [p.amount_minor for p in periods(member.subscription)[1:]]
    assert amounts == [5000, 5000, 10000, 10000]
    assert member.subscription.promo_periods_left == 0
    assert all(p.status is PeriodStatus.PAID for p in periods(member.subscription))
    assert [len(period_payments(p)) for p in periods(member.subscription)[1:]] == [1, 1, 1, 1]


def test_a_forever_promo_never_runs_out(app, clock, processor):
    member = subscriber(price=10000)
    promo = make_promo(percent_off=10, duration=DiscountDuration.FOREVER)
    member.subscription.promo_code, member.subscription.promo_periods_left = promo, None
    db.session.commit()
    run_billing(PERIOD_START + timedelta(days=100))
    assert [p.amount_minor for p in periods(member.subscription)[1:]] == [9000, 9000, 9000]


def test_a_scheduled_cancellation_ends_it_at_the_period_end(app, clock, processor):
    member = subscriber()
    member.subscription.cancel_at_period_end = True
    db.session.commit()
    charges = processor.count_charges()
    report = run_billing(PERIOD_END + timedelta(days=40))
    assert report.counts[Did.CANCELLED] == 1
    assert member.subscription.status is SubscriptionStatus.CANCELED
    assert member.subscription.canceled_at == PERIOD_END
    assert len(periods(member.subscription)) == 1 and processor.count_charges() == charges


def test_a_scheduled_plan_change_bills_the_new_plan(app, clock, processor):
    member = subscriber(price=12000, credits=4)
    cheaper = make_plan(price_minor=8000, credits=2)
    member.subscription.scheduled_plan = cheaper
    db.session.commit()
    clock(PERIOD_END - timedelta(minutes=1))
    assert run_billing(PERIOD_END - timedelta(minutes=1)).subscriptions == 0  # not a minute early
    run_billing(PERIOD_END)
    renewed = periods(member.subscription)[-1]
    assert member.subscription.plan_id == cheaper.id and member.subscription.scheduled_plan_id \
        is None
    assert renewed.plan_id == cheaper.id and renewed.amount_minor == 8000 and grants(renewed) == 2


def test_a_declined_renewal_is_retried_on_schedule_then_unpaid(app, clock, processor):
    member = subscriber(card=DECLINES, paid=False)
    report = run_billing(PERIOD_END)
    assert report.counts[Did.FAILED] == 1 and not report.attention
    period = latest_period(member.subscription)
    assert period.status is PeriodStatus.PAST_DUE and grants(period) == 0
    assert member.subscription.status is SubscriptionStatus.PAST_DUE
    assert period.next_retry_at == period_payments(period)[0].created_at + timedelta(days=1)
    assert db.session.scalar(select(func.count()).select_from(OutboundMessage).where(
        OutboundMessage.contact_id == member.contact.id)) == 1  # the payment-method link
    failure = period_payments(period)[0].failure_reason
    assert failure  # the processor's reason is kept
    run_billing(PERIOD_END + timedelta(days=6))  # retries on days 1, 3 and 5
    assert [p.period_attempt for p in period_payments(period)] == [1, 2, 3, 4]
    assert member.subscription.status is SubscriptionStatus.PAST_DUE
    final = run_billing(PERIOD_END + timedelta(days=40))
    assert final.counts[Did.UNPAID] == 1 and final.attention
    assert [p.status for p in period_payments(period)] == [PaymentStatus.FAILED] * 5
    assert period.status is PeriodStatus.UNPAID and period.next_retry_at is None
    assert member.subscription.status is SubscriptionStatus.UNPAID
    assert len(periods(member.subscription)) == 2  # an unpaid subscription does not renew
    assert grants(period) == 0


def test_a_new_card_retries_at_once_and_reactivates(app, clock, processor):
    member = subscriber(card=DECLINES, paid=False)
    run_billing(PERIOD_END + timedelta(days=10))
    period = latest_period(member.subscription)
    assert period.status is PeriodStatus.UNPAID
    saved_at = PERIOD_END + timedelta(days=70)  # 10 Jul: two periods went by unpaid
    clock(saved_at)
    give_card(member.contact)  # the member saves a working card
    db.session.expire_all()
    assert period.next_retry_at == saved_at
    report = run_billing(saved_at)
    assert report.counts[Did.RETRIED_PAID] == 1
    assert period.status is PeriodStatus.PAID and grants(period) == 4
    assert member.subscription.status is SubscriptionStatus.ACTIVE
    # NOTE: the owed period is paid; the months not served are not billed: the next period
    # is the one containing today (1 Jul – 1 Aug), billed in the same run.
    assert report.counts[Did.RENEWED] == 1
    latest = latest_period(member.subscription)
    assert latest.starts_at == PERIOD_START.replace(month=7) and latest.status is \
        PeriodStatus.PAID
    assert len(periods(member.subscription)) == 3


def test_after_the_last_retry_it_may_be_cancelled(app, clock, processor):
    CashierSettings.get().after_final_retry = AfterFinalRetry.CANCEL
    member = subscriber(card=DECLINES, paid=False)
    db.session.commit()
    run_billing(PERIOD_END + timedelta(days=10))
    assert member.subscription.status is SubscriptionStatus.CANCELED
    assert latest_period(member.subscription).status is PeriodStatus.VOID


def test_a_cash_member_gets_an_open_invoice(app, clock, processor):
    member = subscriber(card=None, paid=False)
    CashierSettings.get().invoice_due_days = 10
    db.session.commit()
    report = run_billing(PERIOD_END)
    assert report.counts[Did.INVOICED] == 1
    period = latest_period(member.subscription)
    invoice = db.session.get(Document, period.document_id)
    assert period.status is PeriodStatus.INVOICED and invoice.doc_type is DocumentType.INVOICE
    assert invoice.total_minor == 12000 and "Due by 11 May 2025" in invoice.notes
    assert member.subscription.status is SubscriptionStatus.ACTIVE and grants(period) == 0
    assert run_billing(PERIOD_END + timedelta(days=2)).subscriptions == 0  # invoiced once


def test_a_paid_renewal_invoice_pays_its_period(app, clock, processor):
    """The member pays the renewal's open invoice at the desk: the period is paid, its
    credits granted once, and the next run renews from there."""
    from admin_app.actions.charge_invoice import charge_invoice
    from admin_app.actions.runner import AlreadyDone

    member = subscriber(card=None, paid=False)
    db.session.commit()
    run_billing(PERIOD_END)
    period = latest_period(member.subscription)
    invoice = db.session.get(Document, period.document_id)
    result = charge_invoice(invoice, method=PaymentMethodKind.CASH, actor=SYSTEM,
                            idempotency_key="pay-renewal-invoice")
    assert f"{period} is paid." in result.message
    db.session.expire_all()
    period = db.session.get(BillingPeriod, period.id)
    assert period.status is PeriodStatus.PAID and grants(period) == 4
    assert period.payment_id == result.record.id and invoice.paid_at is not None
    with pytest.raises(AlreadyDone):  # the same submission again changes nothing
        charge_invoice(invoice, method=PaymentMethodKind.CASH, actor=SYSTEM,
                       idempotency_key="pay-renewal-invoice")
    assert grants(period) == 4


def test_a_silent_processor_leaves_the_renewal_pending_for_reconcile(app, clock, processor):
    member = subscriber()
    processor.set_down(True)
    report = run_billing(PERIOD_END)
    period = latest_period(member.subscription)
    (pending,) = period_payments(period)
    assert report.counts[Did.PENDING] == 1 and pending.status is PaymentStatus.PENDING
    again = run_billing(PERIOD_END + timedelta(hours=1))
    assert again.counts[Did.PENDING] == 1 and len(period_payments(period)) == 1
    processor.set_down(False)
    clock(PERIOD_END + timedelta(hours=2))
    reconcile_pending(min_age=timedelta(0))
    db.session.expire_all()
    assert pending.status is PaymentStatus.FAILED  # never reached the processor
    assert period.status is PeriodStatus.PAST_DUE  # a failed charge: retried on schedule
    run_billing(PERIOD_END + timedelta(days=1, hours=3))
    assert period.status is PeriodStatus.PAID and len(period_payments(period)) == 2


def test_a_lost_answer_is_settled_by_reconcile_as_the_period_paid(app, clock, processor):
    member = subscriber()
    with processor.losing_answers():
        run_billing(PERIOD_END)
    period = latest_period(member.subscription)
    assert period.status is PeriodStatus.DUE
    clock(PERIOD_END + timedelta(minutes=5))
    reconcile_pending(min_age=timedelta(0))
    db.session.expire_all()
    assert period.status is PeriodStatus.PAID and grants(period) == 4
    assert period_payments(period)[0].status is PaymentStatus.SUCCEEDED
    assert run_billing(PERIOD_END + timedelta(minutes=10)).subscriptions == 0


def test_the_period_api_opens_once_and_settles_once(app, clock):
    member = subscriber(paid=False, card=None)
    subscription = db.session.get(Subscription, member.subscription.id)
    period = open_period(subscription, starts_at=PERIOD_END, actor=SYSTEM)
    same = open_period(subscription, starts_at=PERIOD_END, actor=SYSTEM)
    assert same.id == period.id
    settle_period_paid(period, None, actor=SYSTEM)
    settle_period_paid(period, None, actor=SYSTEM)
    db.session.commit()
    assert grants(period) == 4 and period.status is PeriodStatus.PAID


@pytest.mark.backends("sqlite")
@pytest.mark.offline_gateway_only("localstripe declines a lost card when it is saved, never "
                                  "when a saved card is charged")
def test_a_hard_decline_is_not_retried_on_the_same_card(app, clock):
    member = subscriber(card="4000000000009987", paid=False)
    run_billing(PERIOD_END + timedelta(days=6))
    period = latest_period(member.subscription)
    assert [p.failure_reason for p in period_payments(period)] == ["lost_card"]
    assert period.status is PeriodStatus.PAST_DUE
    run_billing(PERIOD_END + timedelta(days=8))
    assert period.status is PeriodStatus.UNPAID and len(period_payments(period)) == 1
