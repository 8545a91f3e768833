"""No business change through plain CRUD: a subscription is created through an action (with
its promo code, audited, refused whole) and its status, period, plan, cancellation and promo
are not edited by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from admin_app.extensions import db
from admin_app.models import (
    AuditEntry,
    BillingInterval,
    DiscountDuration,
    PromoCode,
    PromoRedemption,
    Subscription,
    SubscriptionStatus,
)
from tests.factories import make_contact, make_plan, make_promo

HAND_EDITS = {"status": "canceled", "current_period_start": "2020-01-01 00:00:00",
              "current_period_end": "2030-01-01 00:00:00", "canceled_at": "2020-01-01 00:00:00",
              "cancel_at_period_end": "y", "promo_periods_left": "9"}


def _audit(action):
    return db.session.query(AuditEntry).filter_by(action=action).all()


def test_edit_form_shows_what_actions_own_without_fields(client, login, records):
    login("manager")
    sub = records["subscription"]
    html = client.get(f"/admin/subscription/edit/?id={sub.id}").get_data(as_text=True)
    assert 'name="contact"' in html
    for name in ("status", "current_period_start", "current_period_end", "canceled_at",
                 "cancel_at_period_end", "scheduled_plan", "promo_code", "plan"):
        assert f'name="{name}"' not in html, name
    assert "Changed only through the subscription's actions" in html
    assert "Active" in html and str(sub.promo_code) in html
    assert f"/admin/subscription/cancel/?id={sub.id}" in html  # its ⋯ menu


def test_status_period_and_plan_cannot_be_edited_by_hand(client, login, records):
    login("owner")
    sub = records["subscription"]
    before = (sub.status, sub.current_period_start, sub.current_period_end, sub.plan_id,
              sub.promo_code_id, sub.cancel_at_period_end)
    other_plan, other_promo = make_plan(), make_promo()
    db.session.commit()
    response = client.post(f"/admin/subscription/edit/?id={sub.id}", data={
        **HAND_EDITS, "contact": str(sub.contact_id), "plan": str(other_plan.id),
        "scheduled_plan": str(other_plan.id), "promo_code": str(other_promo.id)})
    assert response.status_code == 302, response.data
    db.session.expire_all()
    sub = db.session.get(Subscription, sub.id)
    assert (sub.status, sub.current_period_start, sub.current_period_end, sub.plan_id,
            sub.promo_code_id, sub.cancel_at_period_end) == before
    assert sub.canceled_at is None and sub.scheduled_plan_id is None
    assert not _audit("edit")  # nothing changed, nothing to audit


def test_create_starts_an_active_subscription_through_the_action(client, login, app):
    contact, plan = make_contact(), make_plan(interval=BillingInterval.MONTH)
    db.session.commit()
    user = login("cashier")
    form = client.get("/admin/subscription/new/").get_data(as_text=True)
    assert 'name="status"' not in form and 'name="current_period_end"' not in form
    assert 'name="promo_code"' in form and 'name="idempotency_key"' in form
    response = client.post("/admin/subscription/new/", data={
        **HAND_EDITS, "contact": str(contact.id), "plan": str(plan.id), "promo_code": "",
        "idempotency_key": "create-1"})
    assert response.status_code == 302, response.data
    sub = db.session.query(Subscription).one()
    assert sub.status is SubscriptionStatus.ACTIVE and not sub.cancel_at_period_end
    assert sub.canceled_at is None and sub.promo_code_id is None
    start = sub.current_period_start
    assert abs(datetime.now(UTC) - start) < timedelta(minutes=5)  # now, not what was posted
    assert sub.current_period_end > start + timedelta(days=27)
    (entry,) = _audit("create_subscription")
    assert entry.actor_id == user.id and entry.target_id == str(sub.id)
    assert entry.after["status"] == "active" and "promo_code_id" not in entry.after
    assert not _audit("create")  # one audit entry: the action's
    again = client.post("/admin/subscription/new/", data={
        "contact": str(contact.id), "plan": str(plan.id), "idempotency_key": "create-1"},
        follow_redirects=True)
    assert "Already done, not repeated" in again.get_data(as_text=True)
    assert db.session.query(Subscription).count() == 1


def test_create_with_a_promo_is_audited_with_its_redemption(client, login, app):
    contact, plan = make_contact(), make_plan(price_minor=12000)
    promo = make_promo(code="WELCOME", duration=DiscountDuration.ONCE, max_redemptions=5)
    db.session.commit()
    login("manager")
    response = client.post("/admin/subscription/new/", data={
        "contact": str(contact.id), "plan": str(plan.id), "promo_code": str(promo.id),
        "idempotency_key": "create-p"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "promo code WELCOME (10% off, once) applied" in html
    (redemption,) = db.session.query(PromoRedemption).all()
    sub = redemption.subscription
    assert (sub.promo_code_id, sub.promo_periods_left) == (promo.id, 1)
    assert db.session.get(PromoCode, promo.id).times_redeemed == 1
    (entry,) = _audit("create_subscription")
    assert entry.after["promo_code_id"] == promo.id
    assert entry.after["promo_redemption_id"] == redemption.id


@pytest.mark.parametrize(("promo_kw", "rule"), [
    ({"is_active": False}, "is not active"),
    ({"max_redemptions": 1, "times_redeemed": 1}, "was already used 1 times"),
    ({"expires_at": datetime(2020, 1, 1, tzinfo=UTC)}, "expired on"),
])
def test_create_with_a_refused_promo_creates_nothing(client, login, app, promo_kw, rule):
    contact, plan = make_contact(), make_plan()
    promo = make_promo(code="NOPE", **promo_kw)
    db.session.commit()
    login("cashier")
    response = client.post("/admin/subscription/new/", data={
        "contact": str(contact.id), "plan": str(plan.id), "promo_code": str(promo.id),
        "idempotency_key": "refused-1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and rule in html
    assert 'value="refused-1"' not in html  # a fresh key for the next try
    assert db.session.query(Subscription).count() == 0
    assert db.session.query(PromoRedemption).count() == 0
    assert not _audit("create_subscription") and not _audit("create")
    assert db.session.get(PromoCode, promo.id).times_redeemed == promo_kw.get("times_redeemed", 0)


def test_inactive_plans_are_not_offered_nor_accepted(client, login, app):
    contact, retired = make_contact(), make_plan(name="Retired plan", is_active=False)
    db.session.commit()
    login("owner")
    assert "Retired plan" not in client.get("/admin/subscription/new/").get_data(as_text=True)
    response = client.post("/admin/subscription/new/", data={
        "contact": str(contact.id), "plan": str(retired.id), "idempotency_key": "r-1"})
    assert response.status_code == 200 and db.session.query(Subscription).count() == 0


def test_viewer_cannot_create(client, login, app):
    contact, plan = make_contact(), make_plan()
    db.session.commit()
    login("viewer")
    client.post("/admin/subscription/new/", data={
        "contact": str(contact.id), "plan": str(plan.id), "idempotency_key": "v-1"})
    assert db.session.query(Subscription).count() == 0


def test_appointment_with_a_decided_fee_is_frozen(client, login, records):
    from admin_app.models import NoShowFeeStatus

    login("owner")
    appointment = records["appointment"]
    appointment.no_show_fee_status = NoShowFeeStatus.WAIVED
    db.session.commit()
    page = client.get(f"/admin/appointment/edit/?id={appointment.id}")
    assert page.status_code == 302 and "details" in page.location
    client.post(f"/admin/appointment/edit/?id={appointment.id}", data={
        "contact": str(appointment.contact_id), "service": str(appointment.service_id),
        "starts_at": "2026-03-01 09:00:00", "status": "attended"})
    db.session.expire_all()
    assert records["appointment"].status.value == "no_show"
