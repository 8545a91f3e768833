"""Workflow 8: apply a promo code to a subscription (and when creating one)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest

from admin_app.actions.apply_promo import apply_promo
from admin_app.actions.runner import AlreadyDone
from admin_app.billing.promo_rules import upcoming_prices
from admin_app.clock import utcnow
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    BillingInterval,
    DiscountDuration,
    DiscountType,
    PromoRedemption,
    Subscription,
    SubscriptionStatus,
)
from tests.actions.conftest import audit_entries
from tests.factories import make_contact, make_plan, make_promo, make_subscription


@pytest.fixture
def sub(app):
    subscription = make_subscription(plan=make_plan(price_minor=12000))
    db.session.commit()
    return subscription


def test_apply_records_the_redemption_and_the_discount_periods(sub, cashier, key):
    promo = make_promo(code="SPRING", percent_off=25, duration=DiscountDuration.REPEATING,
                       duration_months=2, max_redemptions=5)
    db.session.commit()
    assert upcoming_prices(sub, promo) == [9000, 9000, 12000]
    redemption = apply_promo(sub, promo_code="spring ", actor=cashier, idempotency_key=key()).record
    assert redemption.promo_code_id == promo.id and redemption.actor_id == cashier.id
    db.session.refresh(sub)
    db.session.refresh(promo)
    assert sub.promo_code_id == promo.id and sub.promo_periods_left == 2
    assert promo.times_redeemed == 1
    assert upcoming_prices(sub) == [9000, 9000, 12000]
    (entry,) = audit_entries("apply_promo")
    assert entry.after["promo_periods_left"] == 2 and entry.before["promo_code_id"] is None
    assert "$90.00, $90.00, $120.00" in entry.summary


@pytest.mark.parametrize(("duration", "months", "interval", "periods"), [
    (DiscountDuration.ONCE, None, BillingInterval.MONTH, 1),
    (DiscountDuration.FOREVER, None, BillingInterval.MONTH, None),
    (DiscountDuration.REPEATING, 3, BillingInterval.MONTH, 3),
    (DiscountDuration.REPEATING, 6, BillingInterval.QUARTER, 2),
])
def test_duration_sets_the_periods_left(app, owner, key, duration, months, interval, periods):
    subscription = make_subscription(plan=make_plan(interval=interval))
    promo = make_promo(duration=duration, duration_months=months)
    db.session.commit()
    apply_promo(subscription, promo_code=promo, actor=owner, idempotency_key=key())
    db.session.refresh(subscription)
    assert subscription.promo_periods_left == periods


def test_amount_off_in_the_plan_currency(sub, owner, key):
    promo = make_promo(discount_type=DiscountType.AMOUNT, percent_off=None,
                       amount_off_minor=15000, currency="USD",
                       duration=DiscountDuration.FOREVER)
    db.session.commit()
    apply_promo(sub, promo_code=promo, actor=owner, idempotency_key=key())
    assert upcoming_prices(sub) == [0, 0, 0]  # never below zero


def _refusal_case(case, sub):
    """A promo code (and subscription state) that one rule refuses."""
    if case == "promo_not_found":
        return "NOPE"
    if case == "subscription_cancelled":
        sub.status = SubscriptionStatus.CANCELED
        return make_promo()
    if case == "promo_inactive":
        return make_promo(is_active=False)
    if case == "promo_expired":
        return make_promo(expires_at=utcnow() - timedelta(days=1))
    if case == "promo_exhausted":
        return make_promo(max_redemptions=2, times_redeemed=2)
    if case == "promo_not_for_plan":
        promo = make_promo()
        promo.plans.append(make_plan())
        return promo
    if case == "promo_currency_mismatch":
        return make_promo(discount_type=DiscountType.AMOUNT, percent_off=None,
                          amount_off_minor=500, currency="EUR")
    promo = make_promo()
    db.session.add(PromoRedemption(promo_code=promo, subscription=sub))
    return promo


@pytest.mark.parametrize("case", ["promo_not_found", "subscription_cancelled", "promo_inactive",
                                  "promo_expired", "promo_exhausted", "promo_not_for_plan",
                                  "promo_currency_mismatch", "promo_already_applied"])
def test_each_rule_refuses_and_names_itself(sub, owner, key, case):
    promo = _refusal_case(case, sub)
    db.session.commit()
    redemptions = db.session.query(PromoRedemption).count()
    with pytest.raises(ActionError) as refused:
        apply_promo(sub, promo_code=promo, actor=owner, idempotency_key=key())
    assert refused.value.code == case
    db.session.refresh(sub)
    assert sub.promo_code_id is None and sub.promo_periods_left is None
    assert db.session.query(PromoRedemption).count() == redemptions
    if not isinstance(promo, str):
        db.session.refresh(promo)
        assert refused.value.message.startswith(("Promo code", "Subscription"))
    assert audit_entries("apply_promo") == []


def test_a_new_code_replaces_the_current_one(sub, owner, key):
    first, second = make_promo(percent_off=10), make_promo(percent_off=50)
    db.session.commit()
    apply_promo(sub, promo_code=first, actor=owner, idempotency_key=key())
    apply_promo(sub, promo_code=second, actor=owner, idempotency_key=key())
    db.session.refresh(sub)
    assert sub.promo_code_id == second.id
    assert upcoming_prices(sub) == [6000, 12000, 12000]


def test_last_redemption_is_taken_once(app, owner, key):
    promo = make_promo(max_redemptions=1)
    one, two = make_subscription(), make_subscription()
    db.session.commit()
    apply_promo(one, promo_code=promo, actor=owner, idempotency_key=key())
    with pytest.raises(ActionError) as refused:
        apply_promo(two, promo_code=promo, actor=owner, idempotency_key=key())
    assert refused.value.code == "promo_exhausted"
    db.session.refresh(promo)
    assert promo.times_redeemed == 1


def test_double_submit_redeems_once(sub, owner, key):
    promo = make_promo()
    db.session.commit()
    same = key()
    apply_promo(sub, promo_code=promo, actor=owner, idempotency_key=same)
    with pytest.raises(AlreadyDone):
        apply_promo(sub, promo_code=promo, actor=owner, idempotency_key=same)
    db.session.refresh(promo)
    assert promo.times_redeemed == 1


def test_viewer_may_not_apply(sub, viewer, key):
    promo = make_promo()
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        apply_promo(sub, promo_code=promo, actor=viewer, idempotency_key=key())
    assert refused.value.code == "not_permitted"
    db.session.refresh(promo)
    assert promo.times_redeemed == 0


# --- through the admin: ⋯ → Apply Promo, bulk, and the new-subscription form ----------------

def test_choose_review_and_apply_through_the_admin(client, login, sub):
    promo = make_promo(code="HALF", percent_off=50, duration=DiscountDuration.REPEATING,
                       duration_months=2)
    make_promo(code="OLD", is_active=False)
    db.session.commit()
    login("cashier")
    card = client.get(f"/admin/contact/details/?id={sub.contact_id}&tab=subscriptions")
    assert b"Apply Promo" in card.data
    back = f"/admin/contact/details/?id={sub.contact_id}&tab=subscriptions"
    url = f"/admin/subscription/apply-promo/?id={sub.id}&url={quote(back)}"
    choose = client.get(url).get_data(as_text=True)
    assert "HALF · 50% off, for 2 months" in choose and "OLD" in choose
    chosen = client.post(url, data={"promo_code": "HALF", "idempotency_key": "p-0"})
    assert chosen.status_code == 302 and "code=HALF" in chosen.location
    review = client.get(chosen.location).get_data(as_text=True)
    assert "$120.00, $120.00, $120.00" in review and "$60.00, $60.00, $120.00" in review
    done = client.post(chosen.location, data={"promo_code": "HALF", "idempotency_key": "p-1"})
    assert done.status_code == 302 and done.location.endswith(back)
    again = client.post(chosen.location, data={"promo_code": "HALF", "idempotency_key": "p-1"},
                        follow_redirects=True)
    assert b"Already done" in again.data
    db.session.refresh(promo)
    assert promo.times_redeemed == 1
    db.session.refresh(sub)
    assert sub.promo_code_id == promo.id


def test_a_refused_code_names_the_rule_and_changes_nothing(client, login, sub):
    make_promo(code="GONE", expires_at=utcnow() - timedelta(days=2))
    db.session.commit()
    login("owner")
    response = client.get(f"/admin/subscription/apply-promo/?id={sub.id}&code=GONE")
    assert b"Promo code GONE expired on" in response.data
    assert b"Choose the desired promo code" in response.data
    db.session.refresh(sub)
    assert sub.promo_code_id is None


def test_bulk_apply_reports_per_row(client, login, app):
    promo = make_promo(code="TEN", max_redemptions=1)
    one, two = make_subscription(), make_subscription()
    db.session.commit()
    login("manager")
    page = client.post("/admin/subscription/action/", data={
        "action": "apply_promo", "rowid": [str(one.id), str(two.id)],
        "url": "/admin/subscription/"})
    assert b"Apply Promo to 2 subscriptions" in page.data
    done = client.post("/admin/subscription/bulk/apply_promo/", data={
        "row_ids": f"{one.id},{two.id}", "promo_code": "TEN",
        "idempotency_key": "bulk-p"}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "1 applied, 1 refused" in text and "was already used 1 times" in text
    db.session.refresh(promo)
    assert promo.times_redeemed == 1


def _new_subscription_form(contact_id, plan_id, promo_id, key):
    return {"contact": str(contact_id), "plan": str(plan_id), "promo_code": str(promo_id),
            "idempotency_key": key}


def test_promo_chosen_when_creating_a_subscription(client, login, app):
    contact, plan = make_contact(), make_plan(price_minor=12000)
    good = make_promo(code="WELCOME", duration=DiscountDuration.ONCE)
    other_plan_only = make_promo(code="VIP")
    other_plan_only.plans.append(make_plan())
    db.session.commit()
    login("cashier")
    refused = client.post("/admin/subscription/new/",
                          data=_new_subscription_form(contact.id, plan.id, other_plan_only.id,
                                                      "new-1"),
                          follow_redirects=True)
    assert b"is not allowed for" in refused.data
    assert db.session.query(PromoRedemption).count() == 0
    assert db.session.query(Subscription).filter_by(contact_id=contact.id).count() == 0
    created = client.post("/admin/subscription/new/",
                          data=_new_subscription_form(contact.id, plan.id, good.id, "new-2"))
    assert created.status_code == 302, created.data  # on to Subscribe to a plan, prefilled
    confirmed = client.post(created.location, data={
        "plan": str(plan.id), "promo_code": "WELCOME", "paid_with": "cash", "reviewed": "1",
        "idempotency_key": "new-2"})
    assert confirmed.status_code == 302
    (redemption,) = db.session.query(PromoRedemption).all()
    subscription = redemption.subscription
    assert subscription.promo_code_id == good.id and subscription.promo_periods_left == 0
    db.session.refresh(good)
    assert good.times_redeemed == 1
    (entry,) = audit_entries("subscribe_to_plan")  # through the action, audited once
    assert entry.target_id == str(subscription.id)
    assert entry.after["promo_code_id"] == good.id
    edit = client.get(f"/admin/subscription/edit/?id={subscription.id}").get_data(as_text=True)
    assert 'name="promo_code"' not in edit  # changed only through Apply Promo


def test_viewer_cannot_apply_through_the_admin(client, login, sub):
    make_promo(code="VIEW")
    db.session.commit()
    login("viewer")
    response = client.post(f"/admin/subscription/apply-promo/?id={sub.id}&code=VIEW",
                           data={"promo_code": "VIEW", "idempotency_key": "v"},
                           follow_redirects=True)
    assert b"may not apply promo codes" in response.data
    db.session.refresh(sub)
    assert sub.promo_code_id is None
