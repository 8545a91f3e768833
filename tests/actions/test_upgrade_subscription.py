"""Workflow 3: upgrade to a pricier plan, charging the proration now."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest

from admin_app.actions.adjust_credits import credit_balance
from admin_app.actions.runner import AlreadyDone
from admin_app.actions.upgrade_subscription import upgrade_subscription
from admin_app.billing.plan_change import pricier_plans, quote_plan_change, sign_review
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    BillingInterval,
    CreditEntry,
    CreditReason,
    Document,
    DocumentType,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    PlanService,
    SubscriptionStatus,
)
from tests.actions.conftest import audit_entries
from tests.actions.subscription_setup import (
    HALF_WAY,
    PERIOD_START,
    clock_fixture,  # noqa: F401 - the ``clock`` fixture
    subscriber,
)
from tests.factories import make_plan, make_promo, make_service

# The subscriber's card and first period are charged at the processor (subscription_setup).
pytestmark = pytest.mark.processor


@pytest.fixture
def gold(app, clock):
    """A member on Silver ($120, 4 sessions), half-way through the period; Gold is $200 and
    8 sessions of the same service plus 2 of another."""
    member = subscriber(price=12000, credits=4)
    gold = make_plan(name="Gold", price_minor=20000, credits=8, service=member.service)
    gold.services.append(PlanService(service=make_service(name="Massage"), credits_per_period=2))
    db.session.commit()
    clock(HALF_WAY)
    return member, gold


def _review(sub, plan):
    return sign_review(quote_plan_change(sub, plan))


def _period_payments(sub):
    return db.session.query(Payment).filter_by(subscription_id=sub.id).order_by(Payment.id).all()


def test_upgrade_charges_the_proration_and_switches_plan_and_credits(gold, cashier, key, processor):
    member, plan = gold
    sub = member.subscription
    assert [p.name for p in pricier_plans(sub)] == ["Gold"]
    token = _review(sub, plan)
    upgrade_subscription(sub, new_plan=plan, review_token=token, actor=cashier,
                         idempotency_key=key())
    db.session.refresh(sub)
    assert sub.plan_id == plan.id and sub.status is SubscriptionStatus.ACTIVE
    first, charge = _period_payments(sub)
    assert charge.amount_minor == 4000  # (200 − 120) × 15/30
    assert charge.status is PaymentStatus.SUCCEEDED
    assert charge.purpose is PaymentPurpose.SUBSCRIPTION_PERIOD
    assert processor.charge(charge.gateway_id).amount_minor == 4000
    (receipt,) = db.session.query(Document).filter_by(payment_id=charge.id).all()
    assert receipt.doc_type is DocumentType.RECEIPT and receipt.total_minor == 4000
    # 4 → 8 sessions half-way: +2; Massage 0 → 2 half-way: +1
    assert credit_balance(member.contact.id, member.service.id) == 6
    changes = db.session.query(CreditEntry).filter_by(reason=CreditReason.PLAN_CHANGE).all()
    assert sorted(e.quantity for e in changes) == [1, 2]
    assert all(e.expires_at == sub.current_period_end for e in changes)
    (entry,) = audit_entries("upgrade_subscription")
    assert entry.before["plan_id"] == member.plan.id and entry.after["charged_minor"] == 4000


def test_upgrade_drops_a_scheduled_change_and_a_promo_not_for_the_new_plan(gold, owner, key):
    member, plan = gold
    sub = member.subscription
    sub.scheduled_plan = make_plan(price_minor=100)
    promo = make_promo()
    promo.plans.append(member.plan)
    sub.promo_code, sub.promo_periods_left = promo, 2
    db.session.commit()
    upgrade_subscription(sub, new_plan=plan, review_token=_review(sub, plan), actor=owner,
                         idempotency_key=key())
    db.session.refresh(sub)
    assert sub.scheduled_plan_id is None and sub.promo_code_id is None


def _assert_unchanged(member):
    db.session.refresh(member.subscription)
    assert member.subscription.plan_id == member.plan.id
    assert credit_balance(member.contact.id, member.service.id) == 4


@pytest.mark.parametrize("case", ["cheaper", "same", "inactive", "currency", "interval",
                                  "not_active"])
def test_plan_refusals_change_nothing(gold, owner, key, case):
    member, gold_plan = gold
    sub = member.subscription
    plan = {"cheaper": lambda: make_plan(price_minor=5000),
            "same": lambda: member.plan,
            "inactive": lambda: make_plan(price_minor=30000, is_active=False),
            "currency": lambda: make_plan(price_minor=30000, currency="EUR"),
            "interval": lambda: make_plan(price_minor=30000, interval=BillingInterval.YEAR),
            "not_active": lambda: gold_plan}[case]()
    if case == "not_active":
        sub.status = SubscriptionStatus.PAST_DUE
    db.session.commit()
    code = {"cheaper": "not_an_upgrade", "same": "not_an_upgrade", "inactive": "plan_inactive",
            "currency": "currency_mismatch", "interval": "interval_mismatch",
            "not_active": "subscription_not_active"}[case]
    with pytest.raises(ActionError) as refused:
        upgrade_subscription(sub, new_plan=plan, review_token="x", actor=owner,
                             idempotency_key=key())
    assert refused.value.code == code
    assert len(_period_payments(sub)) == 1 and audit_entries("upgrade_subscription") == []


@pytest.mark.parametrize("change", ["subscription", "price", "time", "forged"])
def test_outdated_review_is_refused(gold, owner, key, clock, change):
    member, plan = gold
    sub = member.subscription
    token = _review(sub, plan)
    if change == "subscription":
        sub.cancel_at_period_end = True
    elif change == "price":
        plan.price_minor = 21000
    elif change == "time":
        clock(HALF_WAY + timedelta(hours=1))
    else:
        token = token[:-2] + "xx"
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        upgrade_subscription(sub, new_plan=plan, review_token=token, actor=owner,
                             idempotency_key=key())
    assert refused.value.code == "review_outdated" and "review it again" in refused.value.message
    assert len(_period_payments(sub)) == 1
    db.session.refresh(sub)
    assert sub.plan_id == member.plan.id


def test_the_reviewed_amount_is_charged_even_a_minute_later(gold, owner, key, clock):
    member, plan = gold
    token = _review(member.subscription, plan)
    clock(HALF_WAY + timedelta(minutes=1))
    upgrade_subscription(member.subscription, new_plan=plan, review_token=token, actor=owner,
                         idempotency_key=key())
    assert _period_payments(member.subscription)[-1].amount_minor == 4000


@pytest.mark.parametrize(("card", "code"), [("4000000000000341", "card_declined"),
                                            ("4000002500003155", "authentication_required"),
                                            (None, "no_payment_method")])
def test_decline_keeps_the_failed_payment_and_switches_nothing(app, clock, owner, key, card,
                                                               code):
    member = subscriber(card=card, paid=False)
    plan = make_plan(price_minor=20000)
    db.session.commit()
    clock(HALF_WAY)
    with pytest.raises(ActionError) as refused:
        upgrade_subscription(member.subscription, new_plan=plan,
                             review_token=_review(member.subscription, plan), actor=owner,
                             idempotency_key=key())
    assert refused.value.code == code
    payments = _period_payments(member.subscription)
    if card:
        assert [p.status for p in payments] == [PaymentStatus.FAILED]
        assert "plan was not changed" in refused.value.message
        assert len(audit_entries("upgrade_subscription")) == 1
    else:
        assert payments == []
    _assert_unchanged(member)


def test_processor_down_switches_nothing(gold, owner, key, processor):
    member, plan = gold
    token = _review(member.subscription, plan)
    processor.set_down(True)
    try:
        with pytest.raises(ActionError) as refused:
            upgrade_subscription(member.subscription, new_plan=plan, review_token=token,
                                 actor=owner, idempotency_key=key())
    finally:
        processor.set_down(False)
    assert refused.value.code == "gateway_unavailable"
    _assert_unchanged(member)


def test_double_submit_charges_once(gold, owner, key):
    member, plan = gold
    token, same = _review(member.subscription, plan), key()
    upgrade_subscription(member.subscription, new_plan=plan, review_token=token, actor=owner,
                         idempotency_key=same)
    with pytest.raises(AlreadyDone):
        upgrade_subscription(member.subscription, new_plan=plan, review_token=token,
                             actor=owner, idempotency_key=same)
    with pytest.raises(ActionError) as fresh_key:  # a new submission of the old review
        upgrade_subscription(member.subscription, new_plan=plan, review_token=token,
                             actor=owner, idempotency_key=key())
    assert fresh_key.value.code in ("review_outdated", "not_an_upgrade")
    assert len(_period_payments(member.subscription)) == 2


def test_viewer_may_not_upgrade(gold, viewer, key):
    member, plan = gold
    with pytest.raises(ActionError) as refused:
        upgrade_subscription(member.subscription, new_plan=plan,
                             review_token=_review(member.subscription, plan), actor=viewer,
                             idempotency_key=key())
    assert refused.value.code == "not_permitted"
    _assert_unchanged(member)


def test_upgrade_at_the_period_start_charges_the_full_difference(app, clock, owner, key):
    member = subscriber(price=12000)
    plan = make_plan(price_minor=20000)
    db.session.commit()
    clock(PERIOD_START)
    upgrade_subscription(member.subscription, new_plan=plan,
                         review_token=_review(member.subscription, plan), actor=owner,
                         idempotency_key=key())
    assert _period_payments(member.subscription)[-1].amount_minor == 8000


# --- through the admin: ⋯ → Upgrade → select the plan → review → Upgrade --------------------

def _token(page: str) -> str:
    return re.search(r'name="review_token" type="hidden" value="([^"]+)"', page).group(1)


def test_select_review_and_upgrade_through_the_admin(client, login, gold):
    member, plan = gold
    sub = member.subscription
    cheaper = make_plan(name="Tiny", price_minor=100)
    db.session.commit()
    login("cashier")
    back = f"/admin/contact/details/?id={member.contact.id}&tab=subscriptions"
    url = f"/admin/subscription/upgrade/?id={sub.id}&url={quote(back)}"
    choose = client.get(url).get_data(as_text=True)
    assert "Select the subscription plan" in choose and "Gold · $200.00" in choose
    assert cheaper.name not in choose
    chosen = client.post(url, data={"plan": str(plan.id), "idempotency_key": "ch-1"})
    assert chosen.status_code == 302 and f"plan={plan.id}" in chosen.location
    review = client.get(chosen.location).get_data(as_text=True)
    for shown in ("$200.00 per month", "8 × ", "2 × Massage", "$25.00 (not charged",
                  "−$60.00", "$100.00", "$40.00 to Visa •••• 4242", "+2 ", "+1 Massage"):
        assert shown in review, shown
    done = client.post(chosen.location, data={"review_token": _token(review),
                                              "idempotency_key": "up-1"})
    assert done.status_code == 302 and done.location.endswith(back)
    page = client.get(back).get_data(as_text=True)
    assert "upgraded from" in page and "charged $40.00" in page
    db.session.refresh(sub)
    assert sub.plan_id == plan.id


def test_outdated_review_asks_to_review_again(client, login, gold, owner, key):
    member, plan = gold
    sub = member.subscription
    login("owner")
    url = f"/admin/subscription/upgrade/?id={sub.id}&plan={plan.id}"
    token = _token(client.get(url).get_data(as_text=True))
    plan.price_minor = 26000  # the plan's price changed after the review
    db.session.commit()
    response = client.post(url, data={"review_token": token, "idempotency_key": "up-2"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "review it again" in text
    assert "$70.00 to Visa" in text and _token(text) != token  # the fresh review
    assert len(_period_payments(sub)) == 1
    db.session.refresh(sub)
    assert sub.plan_id == member.plan.id


def test_a_decline_is_shown_and_the_plan_stays(client, login, app, clock):
    member = subscriber(card="4000000000000341", paid=False)
    plan = make_plan(price_minor=20000)
    db.session.commit()
    clock(HALF_WAY)
    login("cashier")
    url = f"/admin/subscription/upgrade/?id={member.subscription.id}&plan={plan.id}"
    token = _token(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"review_token": token, "idempotency_key": "up-3"})
    assert b"was declined" in response.data and b"plan was not changed" in response.data
    db.session.refresh(member.subscription)
    assert member.subscription.plan_id == member.plan.id


def test_viewer_cannot_open_the_upgrade(client, login, gold):
    member, plan = gold
    login("viewer")
    response = client.post(f"/admin/subscription/upgrade/?id={member.subscription.id}"
                           f"&plan={plan.id}", data={"review_token": "x",
                                                     "idempotency_key": "v"},
                           follow_redirects=True)
    assert b"may not upgrade subscriptions" in response.data
    assert len(_period_payments(member.subscription)) == 1
