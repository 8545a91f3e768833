"""Contact card → Subscriptions → Subscribe to a plan (issue 11): the first payment (activation
fee + first period, one payment with two receipt lines), the first period opened and paid, its
credits, the receipt; every refusal leaves nothing behind but a processor's kept attempt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from admin_app.actions.reconcile_pending import reconcile_pending
from admin_app.actions.runner import AlreadyDone
from admin_app.actions.subscribe_to_plan import review_subscription, subscribe_to_plan
from admin_app.clock import utcnow
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    BillingPeriod,
    CreditEntry,
    CreditReason,
    Document,
    DocumentType,
    Payment,
    PaymentMethodKind,
    PaymentStatus,
    PeriodStatus,
    PromoRedemption,
    Subscription,
    SubscriptionStatus,
)
from tests.actions.conftest import audit_entries
from tests.factories import give_card, make_contact, make_plan, make_promo, make_subscription


@pytest.fixture
def ana(app):
    contact = make_contact(first_name="Ana", last_name="Silva")
    db.session.commit()
    return contact


@pytest.fixture
def plan(app):
    plan = make_plan(name="Physio Monthly", price_minor=12000, activation_fee_minor=2500,
                     credits=4)
    db.session.commit()
    return plan


def _subscribe(contact, plan, actor, key, **kw):
    kw.setdefault("paid_with", "card")
    return subscribe_to_plan(contact, plan=plan, actor=actor, idempotency_key=key(), **kw)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _nothing_started(contact) -> None:
    """No subscription, period, credit, receipt or redemption for ``contact``."""
    db.session.expire_all()
    assert _count(Subscription, Subscription.contact_id == contact.id) == 0
    assert _count(BillingPeriod) == 0 and _count(PromoRedemption) == 0
    assert _count(CreditEntry, CreditEntry.contact_id == contact.id) == 0
    assert _count(Document, Document.contact_id == contact.id) == 0


def test_card_charges_fee_and_first_period_once_with_two_receipt_lines(
        ana, plan, cashier, key, processor):
    give_card(ana)
    result = _subscribe(ana, plan, cashier, key)
    sub = result.record
    assert sub.status is SubscriptionStatus.ACTIVE and sub.contact_id == ana.id
    (payment,) = db.session.scalars(select(Payment).where(Payment.subscription_id == sub.id))
    assert payment.status is PaymentStatus.SUCCEEDED and payment.amount_minor == 14500
    assert processor.charge(payment.gateway_id).amount_minor == 14500
    (period,) = sub.periods.all()
    assert period.status is PeriodStatus.PAID and period.number == 1
    assert period.amount_minor == 12000 and period.payment_id == payment.id
    assert (period.starts_at, period.ends_at) == (sub.current_period_start,
                                                   sub.current_period_end)
    (receipt,) = db.session.scalars(select(Document).where(
        Document.doc_type == DocumentType.RECEIPT, Document.payment_id == payment.id))
    assert [(line.description, line.unit_amount_minor) for line in receipt.lines] == [
        ("Activation fee, Physio Monthly", 2500), ("Physio Monthly, first period", 12000)]
    assert receipt.total_minor == 14500 and period.document_id == receipt.id
    (grant,) = db.session.scalars(select(CreditEntry).where(CreditEntry.contact_id == ana.id))
    assert grant.reason is CreditReason.PERIOD_GRANT and grant.quantity == 4
    assert grant.period_id == period.id and grant.expires_at == period.ends_at
    (entry,) = audit_entries("subscribe_to_plan")
    assert entry.actor_id == cashier.id and entry.after["payment_id"] == payment.id
    assert "$145.00 today" in result.message and "Visa •••• 4242" in result.message


def test_promo_discounts_the_first_period_not_the_activation_fee(ana, plan, cashier, key):
    promo = make_promo(code="WELCOME50", percent_off=50)
    db.session.commit()
    quote = review_subscription(plan, promo_code="welcome50", starts_at=None, contact=ana)
    assert (quote.activation_fee_minor, quote.first_period_minor, quote.due_today_minor) == \
        (2500, 6000, 8500)
    sub = _subscribe(ana, plan, cashier, key, promo_code="welcome50", paid_with="cash").record
    (period,) = sub.periods.all()
    assert (period.amount_minor, period.discount_minor) == (6000, 6000)
    assert period.promo_code_id == promo.id and sub.promo_periods_left == 0
    (payment,) = db.session.scalars(select(Payment).where(Payment.subscription_id == sub.id))
    assert payment.amount_minor == 8500 and payment.method is PaymentMethodKind.CASH
    db.session.refresh(promo)
    assert promo.times_redeemed == 1


def test_cash_and_invoice(ana, plan, cashier, key):
    other = make_contact()
    db.session.commit()
    cash = _subscribe(ana, plan, cashier, key, paid_with="cash").record
    assert cash.status is SubscriptionStatus.ACTIVE
    assert cash.periods.one().status is PeriodStatus.PAID
    invoiced = _subscribe(other, plan, cashier, key, paid_with="invoice").record
    period = invoiced.periods.one()
    assert invoiced.status is SubscriptionStatus.ACTIVE and period.status is PeriodStatus.INVOICED
    invoice = db.session.get(Document, period.document_id)
    assert invoice.doc_type is DocumentType.INVOICE and invoice.total_minor == 14500
    assert invoice.number is not None and "Due by" in invoice.notes
    assert _count(Payment, Payment.contact_id == other.id) == 0
    assert _count(CreditEntry, CreditEntry.contact_id == other.id) == 1


def test_a_later_start_opens_the_first_period_on_that_day(ana, plan, cashier, key):
    later = utcnow() + timedelta(days=10)
    sub = _subscribe(ana, plan, cashier, key, paid_with="cash", starts_at=later).record
    assert sub.current_period_start == later and sub.billing_anchor_at == later
    assert sub.periods.one().starts_at == later


@pytest.mark.processor
def test_declined_card_keeps_the_failed_payment_and_starts_nothing(ana, plan, cashier, key):
    give_card(ana, number="4000000000000341")
    make_promo(code="TEN")
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        _subscribe(ana, plan, cashier, key, promo_code="TEN")
    assert refused.value.code == "card_declined"
    assert "No subscription to Physio Monthly was started" in refused.value.message
    _nothing_started(ana)
    (failed,) = db.session.scalars(select(Payment).where(Payment.contact_id == ana.id))
    assert failed.status is PaymentStatus.FAILED and failed.subscription_id is None
    assert failed.period_id is None
    assert db.session.scalar(select(func.sum(Payment.amount_minor))) == failed.amount_minor
    from admin_app.models import PromoCode

    assert db.session.scalar(select(PromoCode.times_redeemed).where(PromoCode.code == "TEN")) == 0


@pytest.mark.processor
def test_authentication_card_is_refused_and_nothing_started(ana, plan, cashier, key):
    give_card(ana, number="4000002500003155")
    with pytest.raises(ActionError) as refused:
        _subscribe(ana, plan, cashier, key)
    assert refused.value.code == "authentication_required"
    _nothing_started(ana)


def test_no_answer_keeps_it_incomplete_and_reconcile_finishes_it(ana, plan, cashier, key,
                                                                   processor):
    give_card(ana)
    with processor.losing_answers(), pytest.raises(ActionError) as refused:
        _subscribe(ana, plan, cashier, key)
    assert refused.value.code == "gateway_unavailable"
    db.session.expire_all()
    sub = db.session.scalar(select(Subscription).where(Subscription.contact_id == ana.id))
    assert sub.status is SubscriptionStatus.INCOMPLETE
    assert sub.periods.one().status is PeriodStatus.DUE
    assert _count(CreditEntry, CreditEntry.contact_id == ana.id) == 0
    reconcile_pending(min_age=timedelta(0))
    db.session.expire_all()
    assert sub.status is SubscriptionStatus.ACTIVE and sub.periods.one().status is PeriodStatus.PAID
    assert _count(CreditEntry, CreditEntry.contact_id == ana.id) == 1
    assert _count(Document, Document.contact_id == ana.id,
                  Document.doc_type == DocumentType.RECEIPT) == 1


def test_processor_down_then_reconciled_as_never_made_removes_it(ana, plan, cashier, key,
                                                                  processor):
    give_card(ana)
    processor.set_down(True)
    with pytest.raises(ActionError) as refused:
        _subscribe(ana, plan, cashier, key)
    assert refused.value.code == "gateway_unavailable"
    processor.set_down(False)
    reconcile_pending(min_age=timedelta(0))
    _nothing_started(ana)
    (failed,) = db.session.scalars(select(Payment).where(Payment.contact_id == ana.id))
    assert failed.status is PaymentStatus.FAILED


@pytest.mark.parametrize("case", ["inactive", "full", "subscribed", "promo", "no_card",
                                  "past", "how"])
def test_refusals_change_nothing(ana, plan, cashier, key, case):
    kw = {}
    if case == "inactive":
        plan.is_active = False
    elif case == "full":
        plan.max_members = 1
        make_subscription(plan=plan)
    elif case == "subscribed":
        make_subscription(contact=ana, plan=plan)
    elif case == "promo":
        make_promo(code="OLD", expires_at=utcnow() - timedelta(days=1))
        kw["promo_code"] = "OLD"
    elif case == "past":
        kw.update(paid_with="cash", starts_at=utcnow() - timedelta(days=3))
    elif case == "how":
        kw["paid_with"] = "bitcoin"
    db.session.commit()
    subscriptions = _count(Subscription)
    with pytest.raises(ActionError) as refused:
        _subscribe(ana, plan, cashier, key, **kw)
    assert refused.value.code == {
        "inactive": "plan_inactive", "full": "plan_full", "subscribed": "already_subscribed",
        "promo": "promo_expired", "no_card": "no_payment_method", "past": "start_in_past",
        "how": "paid_with_invalid"}[case]
    db.session.expire_all()
    assert _count(Subscription) == subscriptions and _count(Payment) == 0
    assert _count(BillingPeriod) == 0 and audit_entries("subscribe_to_plan") == []


def test_double_submit_subscribes_once(ana, plan, cashier):
    once = "same-form-key"
    subscribe_to_plan(ana, plan=plan, paid_with="cash", actor=cashier, idempotency_key=once)
    with pytest.raises(AlreadyDone):
        subscribe_to_plan(ana, plan=plan, paid_with="cash", actor=cashier,
                          idempotency_key=once)
    assert _count(Subscription) == 1 and _count(Payment) == 1


def test_a_viewer_may_not(ana, plan, viewer, key):
    with pytest.raises(ActionError) as refused:
        _subscribe(ana, plan, viewer, key, paid_with="cash")
    assert refused.value.code == "not_permitted" and _count(Subscription) == 0
