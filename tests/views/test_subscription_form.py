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


def test_create_goes_on_to_subscribe_to_a_plan_prefilled(client, login, app):
    contact, plan = make_contact(), make_plan(interval=BillingInterval.MONTH)
    promo = make_promo(code="WELCOME", duration=DiscountDuration.ONCE)
    db.session.commit()
    login("cashier")
    form = client.get("/admin/subscription/new/").get_data(as_text=True)
    assert 'name="status"' not in form and 'name="current_period_end"' not in form
    assert 'name="promo_code"' in form and "Subscribe to a" in form
    response = client.post("/admin/subscription/new/", data={
        **HAND_EDITS, "contact": str(contact.id), "plan": str(plan.id),
        "promo_code": str(promo.id), "idempotency_key": "create-1"})
    assert response.status_code == 302
    assert f"/admin/contact/subscribe/?id={contact.id}&plan={plan.id}&promo=WELCOME" in \
        response.location
    assert db.session.query(Subscription).count() == 0  # nothing before the review confirms
    page = client.get(response.location).get_data(as_text=True)
    assert f'<option selected value="{plan.id}">' in page and 'value="WELCOME"' in page
    review = client.post(response.location, data={
        "plan": plan.id, "promo_code": "WELCOME", "start": "now", "paid_with": "cash",
        "idempotency_key": "create-1"}).get_data(as_text=True)
    assert "Review: subscribe" in review and "promo code WELCOME" in review
    done = client.post(response.location, data={
        "plan": str(plan.id), "promo_code": "WELCOME", "paid_with": "cash", "reviewed": "1",
        "idempotency_key": "create-1"})
    assert done.status_code == 302
    sub = db.session.query(Subscription).one()
    assert sub.status is SubscriptionStatus.ACTIVE and sub.promo_code_id == promo.id
    assert sub.periods.one().status.value == "paid"
    assert abs(datetime.now(UTC) - sub.current_period_start) < timedelta(minutes=5)
    assert _audit("subscribe_to_plan") and not _audit("create")
    assert db.session.query(PromoRedemption).count() == 1


@pytest.mark.parametrize(("promo_kw", "rule"), [
    ({"is_active": False}, "is not active"),
    ({"max_redemptions": 1, "times_redeemed": 1}, "was already used 1 times"),
    ({"expires_at": datetime(2020, 1, 1, tzinfo=UTC)}, "expired on"),
])
def test_a_refused_promo_is_said_at_the_review_and_creates_nothing(client, login, app,
                                                                   promo_kw, rule):
    contact, plan = make_contact(), make_plan()
    make_promo(code="NOPE", **promo_kw)
    db.session.commit()
    login("cashier")
    response = client.post(f"/admin/contact/subscribe/?id={contact.id}", data={
        "plan": plan.id, "promo_code": "NOPE", "start": "now", "paid_with": "cash",
        "idempotency_key": "refused-1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and rule in html
    assert db.session.query(Subscription).count() == 0
    assert db.session.query(PromoRedemption).count() == 0


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
