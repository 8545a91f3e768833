"""Workflow 4: downgrade to a cheaper plan, at period end (scheduled) or now."""

from __future__ import annotations

import re

import pytest

from admin_app.actions.adjust_credits import credit_balance
from admin_app.actions.cancel_scheduled_change import cancel_scheduled_change
from admin_app.actions.downgrade_subscription import downgrade_subscription
from admin_app.actions.runner import AlreadyDone
from admin_app.billing.plan_change import cheaper_plans, quote_plan_change, sign_review
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    AccountCreditEntry,
    AccountCreditReason,
    BillingInterval,
    Document,
    DocumentType,
    PaymentStatus,
    Refund,
    SubscriptionStatus,
)
from tests.actions.conftest import audit_entries
from tests.actions.subscription_setup import (
    HALF_WAY,
    clock_fixture,  # noqa: F401 - the ``clock`` fixture
    subscriber,
)
from tests.factories import make_plan

# The subscriber's card and first period are charged at the processor (subscription_setup).
pytestmark = pytest.mark.processor


@pytest.fixture
def basic(app, clock):
    """A member on Gold ($200, 8 sessions) half-way through the period; Basic is $120 with
    4 sessions of the same service."""
    member = subscriber(price=20000, credits=8)
    basic = make_plan(name="Basic", price_minor=12000, credits=4, service=member.service)
    db.session.commit()
    clock(HALF_WAY)
    return member, basic


def _downgrade(member, plan, actor, key, **kw):
    token = kw.pop("review_token", None) or sign_review(quote_plan_change(member.subscription,
                                                                          plan))
    return downgrade_subscription(member.subscription, new_plan=plan, review_token=token,
                                  actor=actor, idempotency_key=key, **kw).record


def test_downgrade_at_period_end_is_scheduled_and_can_be_cancelled(basic, cashier, key):
    member, plan = basic
    assert [p.name for p in cheaper_plans(member.subscription)] == ["Basic"]
    sub = _downgrade(member, plan, cashier, key())
    assert sub.plan_id == member.plan.id and sub.scheduled_plan_id == plan.id
    assert db.session.query(Refund).count() == 0
    assert credit_balance(member.contact.id, member.service.id) == 8
    (entry,) = audit_entries("downgrade_subscription")
    assert entry.after["scheduled_plan_id"] == plan.id
    with pytest.raises(ActionError) as same:
        _downgrade(member, plan, cashier, key())
    assert same.value.code == "change_already_scheduled"
    # a new scheduled change replaces the old one
    cheaper = make_plan(name="Starter", price_minor=9000)
    db.session.commit()
    sub = _downgrade(member, cheaper, cashier, key())
    assert sub.scheduled_plan_id == cheaper.id
    assert "replacing the scheduled change to Basic" in audit_entries(
        "downgrade_subscription")[-1].summary

    cancel_scheduled_change(sub, actor=cashier, idempotency_key=key())
    db.session.refresh(sub)
    assert sub.scheduled_plan_id is None and sub.plan_id == member.plan.id
    assert len(audit_entries("cancel_scheduled_change")) == 1
    with pytest.raises(ActionError) as nothing:
        cancel_scheduled_change(sub, actor=cashier, idempotency_key=key())
    assert nothing.value.code == "nothing_scheduled"


def test_downgrade_now_refunds_the_unused_difference(basic, cashier, key, processor):
    member, plan = basic
    sub = _downgrade(member, plan, cashier, key(), when="now", credit_as="refund")
    db.session.refresh(sub)
    assert sub.plan_id == plan.id and sub.scheduled_plan_id is None
    (refund,) = db.session.query(Refund).all()
    assert refund.amount_minor == 4000  # (200 − 120) × 15/30
    db.session.refresh(member.payment)
    assert member.payment.status is PaymentStatus.PARTIALLY_REFUNDED
    assert processor.charge(member.payment.gateway_id).refunded_minor == 4000
    assert db.session.query(Document).filter_by(doc_type=DocumentType.CREDIT_NOTE,
                                                refund_id=refund.id).count() == 1
    assert credit_balance(member.contact.id, member.service.id) == 6  # 8 − (8 − 4) × 1/2
    (entry,) = audit_entries("downgrade_subscription")
    assert entry.after["credited_minor"] == 4000 and entry.after["refund_id"] == refund.id


def test_downgrade_now_as_account_credit(basic, owner, key):
    member, plan = basic
    _downgrade(member, plan, owner, key(), when="now", credit_as="account_credit")
    (credit,) = db.session.query(AccountCreditEntry).all()
    assert (credit.amount_minor, credit.currency, credit.reason) == (
        4000, "USD", AccountCreditReason.DOWNGRADE)
    assert credit.contact_id == member.contact.id and credit.actor_id == owner.id
    assert db.session.query(Refund).count() == 0


def _assert_unchanged(member):
    db.session.refresh(member.subscription)
    assert member.subscription.plan_id == member.plan.id
    assert member.subscription.scheduled_plan_id is None
    assert credit_balance(member.contact.id, member.service.id) == 8
    assert db.session.query(AccountCreditEntry).count() == 0


@pytest.mark.parametrize("case", ["pricier", "same", "inactive", "currency", "interval",
                                  "not_active", "cancel_scheduled", "option", "outdated"])
def test_refusals_change_nothing(basic, owner, key, case):
    member, basic_plan = basic
    sub = member.subscription
    plan, kw = basic_plan, {}
    if case == "pricier":
        plan = make_plan(price_minor=30000)
    elif case == "same":
        plan = member.plan
    elif case == "inactive":
        plan = make_plan(price_minor=100, is_active=False)
    elif case == "currency":
        plan = make_plan(price_minor=100, currency="EUR")
    elif case == "interval":
        plan = make_plan(price_minor=100, interval=BillingInterval.WEEK)
    elif case == "not_active":
        sub.status = SubscriptionStatus.INCOMPLETE
    elif case == "cancel_scheduled":
        sub.cancel_at_period_end = True
    elif case == "option":
        kw = {"when": "tomorrow"}
    else:
        kw = {"review_token": "not-a-token"}
    db.session.commit()
    code = {"pricier": "not_a_downgrade", "same": "not_a_downgrade",
            "inactive": "plan_inactive", "currency": "currency_mismatch",
            "interval": "interval_mismatch", "not_active": "subscription_not_active",
            "cancel_scheduled": "cancellation_scheduled", "option": "invalid_option",
            "outdated": "review_outdated"}[case]
    with pytest.raises(ActionError) as refused:
        _downgrade(member, plan, owner, key(), **kw)
    assert refused.value.code == code
    sub.status, sub.cancel_at_period_end = SubscriptionStatus.ACTIVE, False
    db.session.commit()
    _assert_unchanged(member)
    assert audit_entries("downgrade_subscription") == []


def test_refund_needs_a_period_payment(app, clock, owner, key):
    member = subscriber(price=20000, credits=8, paid=False)
    plan = make_plan(price_minor=12000)
    db.session.commit()
    clock(HALF_WAY)
    with pytest.raises(ActionError) as refused:
        _downgrade(member, plan, owner, key(), when="now", credit_as="refund")
    assert refused.value.code == "no_period_payment"
    _assert_unchanged(member)


def test_refund_larger_than_what_is_left_is_refused(basic, owner, key):
    member, plan = basic
    member.payment.amount_refunded_minor = 19000
    member.payment.status = PaymentStatus.PARTIALLY_REFUNDED
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        _downgrade(member, plan, owner, key(), when="now", credit_as="refund")
    assert refused.value.code == "refund_exceeds_remaining"
    _assert_unchanged(member)


def test_processor_down_keeps_the_refund_pending_and_changes_nothing_else(basic, owner, key,
                                                                          processor):
    member, plan = basic
    processor.set_down(True)
    try:
        with pytest.raises(ActionError) as refused:
            _downgrade(member, plan, owner, key(), when="now", credit_as="refund")
    finally:
        processor.set_down(False)
    assert refused.value.code == "gateway_unavailable"
    assert db.session.query(Refund).one().status.value == "pending"
    _assert_unchanged(member)


def test_double_submit_credits_once(basic, owner, key):
    member, plan = basic
    same = key()
    _downgrade(member, plan, owner, same, when="now")
    with pytest.raises(AlreadyDone):
        _downgrade(member, plan, owner, same, when="now", review_token="whatever")
    assert db.session.query(AccountCreditEntry).count() == 1


def test_viewer_may_not_downgrade_nor_cancel_the_change(basic, viewer, owner, key):
    member, plan = basic
    with pytest.raises(ActionError) as refused:
        _downgrade(member, plan, viewer, key())
    assert refused.value.code == "not_permitted"
    _downgrade(member, plan, owner, key())
    with pytest.raises(ActionError) as cancel:
        cancel_scheduled_change(member.subscription, actor=viewer, idempotency_key=key())
    assert cancel.value.code == "not_permitted"
    db.session.refresh(member.subscription)
    assert member.subscription.scheduled_plan_id == plan.id


# --- through the admin: ⋯ → Downgrade → select → review → Downgrade; Cancel scheduled change -

def _token(page: str) -> str:
    return re.search(r'name="review_token" type="hidden" value="([^"]+)"', page).group(1)


def test_downgrade_at_period_end_through_the_admin(client, login, basic):
    member, plan = basic
    sub = member.subscription
    login("cashier")
    choose = client.get(f"/admin/subscription/downgrade/?id={sub.id}").get_data(as_text=True)
    assert "Basic · $120.00" in choose
    url = f"/admin/subscription/downgrade/?id={sub.id}&plan={plan.id}"
    review = client.get(url).get_data(as_text=True)
    for shown in ("$120.00 per month", "−$100.00", "$60.00", "$40.00 (as account credit, or "
                  f"refunded from payment #{member.payment.id})", "switches on 01 May 2025"):
        assert shown in review, shown
    done = client.post(url, data={"review_token": _token(review), "when": "period_end",
                                  "credit_as": "account_credit", "idempotency_key": "d-1"},
                       follow_redirects=True)
    assert b"switches to Basic at period end" in done.data
    db.session.refresh(sub)
    assert sub.scheduled_plan_id == plan.id
    # the list shows it as a scheduled change; a new review warns it would be replaced
    listing = client.get("/admin/subscription/").get_data(as_text=True)
    assert "Scheduled plan change" in listing and "Cancel scheduled change" in listing
    starter = make_plan(name="Starter", price_minor=9000)
    db.session.commit()
    again = client.get(f"/admin/subscription/downgrade/?id={sub.id}&plan={starter.id}")
    assert b"This replaces the scheduled change to Basic" in again.data
    cancelled = client.post(f"/admin/subscription/cancel-scheduled-change/?id={sub.id}",
                            data={"idempotency_key": "cs-1"}, follow_redirects=True)
    assert b"Scheduled change of subscription" in cancelled.data
    db.session.refresh(sub)
    assert sub.scheduled_plan_id is None


def test_downgrade_now_with_a_refund_through_the_admin(client, login, basic):
    member, plan = basic
    login("owner")
    url = f"/admin/subscription/downgrade/?id={member.subscription.id}&plan={plan.id}"
    token = _token(client.get(url).get_data(as_text=True))
    done = client.post(url, data={"review_token": token, "when": "now", "credit_as": "refund",
                                  "idempotency_key": "d-2"}, follow_redirects=True)
    assert b"refunded $40.00" in done.data
    assert db.session.query(Refund).one().amount_minor == 4000


def test_outdated_downgrade_review_is_refused(client, login, basic):
    member, plan = basic
    login("owner")
    url = f"/admin/subscription/downgrade/?id={member.subscription.id}&plan={plan.id}"
    token = _token(client.get(url).get_data(as_text=True))
    member.subscription.scheduled_plan = make_plan(price_minor=50)
    db.session.commit()
    response = client.post(url, data={"review_token": token, "when": "now",
                                      "credit_as": "account_credit", "idempotency_key": "d-3"})
    assert b"review it again" in response.data
    assert db.session.query(AccountCreditEntry).count() == 0


def test_viewer_cannot_downgrade_through_the_admin(client, login, basic):
    member, plan = basic
    login("viewer")
    response = client.get(f"/admin/subscription/downgrade/?id={member.subscription.id}",
                          follow_redirects=True)
    assert b"may not downgrade subscriptions" in response.data
