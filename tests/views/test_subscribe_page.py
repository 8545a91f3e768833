"""Contact card → Subscriptions → Subscribe to a plan: the form, the review, the confirmation."""

from __future__ import annotations

import pytest

from admin_app.extensions import db
from admin_app.models import Subscription, SubscriptionStatus
from tests.factories import give_card, make_contact, make_plan, make_promo


@pytest.fixture
def setup(app):
    contact = make_contact(first_name="Lea", last_name="Roth")
    plan = make_plan(name="Pilates 8", price_minor=10000, activation_fee_minor=2000, credits=8)
    make_promo(code="HALF", percent_off=50)
    db.session.commit()
    return contact, plan


def test_the_contact_card_offers_it_and_the_review_shows_the_money(setup, client, login):
    contact, plan = setup
    give_card(contact)
    login("cashier")
    card = client.get(f"/admin/contact/details/?id={contact.id}&tab=subscriptions")
    assert 'id="subscribe-to-plan"' in card.get_data(as_text=True)
    form = client.get(f"/admin/contact/subscribe/?id={contact.id}").get_data(as_text=True)
    assert "Pilates 8" in form and "Visa •••• 4242" in form
    review = client.post(f"/admin/contact/subscribe/?id={contact.id}", data={
        "plan": plan.id, "promo_code": "half", "start": "now", "paid_with": "card",
        "idempotency_key": "k1"})
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and "Review: subscribe Lea Roth to Pilates 8" in html
    for text in ("$20.00", "$50.00 ($100.00 less promo code HALF, $50.00 off)", "$70.00",
                 "8 × ", "Charge $70.00 and subscribe"):
        assert text in html
    assert db.session.query(Subscription).count() == 0  # the review changes nothing
    done = client.post(f"/admin/contact/subscribe/?id={contact.id}", data={
        "plan": str(plan.id), "promo_code": "HALF", "start_date": "", "paid_with": "card",
        "reviewed": "1", "idempotency_key": "k1"})
    assert done.status_code == 302 and "tab=subscriptions" in done.location
    (sub,) = db.session.query(Subscription).all()
    assert sub.status is SubscriptionStatus.ACTIVE and sub.promo_code.code == "HALF"


def test_a_refusal_shows_on_the_form(setup, client, login):
    contact, plan = setup
    login("cashier")
    page = client.post(f"/admin/contact/subscribe/?id={contact.id}", data={
        "plan": plan.id, "promo_code": "NOPE", "start": "now", "paid_with": "cash",
        "idempotency_key": "k2"})
    assert "There is no promo code “NOPE”" in page.get_data(as_text=True)
    junk = client.post(f"/admin/contact/subscribe/?id={contact.id}", data={
        "plan": "x\x00", "paid_with": "cash", "reviewed": "1", "idempotency_key": "k3"})
    assert junk.status_code in (200, 400) and db.session.query(Subscription).count() == 0
