"""The billing cycle as admins see it: the subscriptions list's next renewal, next charge
(after the promo) and retry state; the contact card's billing periods with their payment and
document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from admin_app.actors import SYSTEM
from admin_app.billing.period_billing import open_period, settle_period_paid
from admin_app.billing.period_retries import record_period_failure
from admin_app.clock import freeze
from admin_app.extensions import db
from admin_app.models import DiscountDuration, PaymentStatus, PeriodStatus, SubscriptionStatus
from tests.factories import (
    make_contact,
    make_payment,
    make_plan,
    make_promo,
    make_subscription,
)

START = datetime(2027, 1, 31, 15, 0, tzinfo=UTC)


def _subscriptions():
    freeze(START)
    plan = make_plan(name="Reformer Monthly", price_minor=20000)
    paying = make_subscription(contact=make_contact(first_name="Paula"), plan=plan,
                               current_period_start=START, billing_anchor_at=START,
                               current_period_end=START + timedelta(days=28),
                               promo_code=make_promo(percent_off=25,
                                                     duration=DiscountDuration.REPEATING,
                                                     duration_months=2),
                               promo_periods_left=2)
    period = open_period(paying, starts_at=START, actor=SYSTEM)
    paid = make_payment(contact=paying.contact, amount_minor=period.amount_minor,
                        subscription_id=paying.id)
    settle_period_paid(period, paid, actor=SYSTEM)
    failing = make_subscription(contact=make_contact(first_name="Fred"), plan=plan,
                                current_period_start=START, billing_anchor_at=START,
                                current_period_end=START + timedelta(days=28))
    owed = open_period(failing, starts_at=START, actor=SYSTEM)
    owed.attempts = 1
    declined = make_payment(contact=failing.contact, amount_minor=20000, period_id=owed.id,
                            period_attempt=1, status=PaymentStatus.FAILED,
                            failure_reason="card_declined", subscription_id=failing.id,
                            paid_at=None)
    record_period_failure(owed, declined)
    db.session.commit()
    freeze(None)
    return paying, failing, period, owed


def test_the_list_shows_next_renewal_amount_after_promo_and_retry_state(client, login):
    paying, failing, _, owed = _subscriptions()
    assert owed.status is PeriodStatus.PAST_DUE and failing.status is \
        SubscriptionStatus.PAST_DUE
    login("viewer")
    html = client.get("/admin/subscription/").get_data(as_text=True)
    for header in ("Next renewal", "Next charge", "Retry state"):
        assert header in html
    assert "$150.00" in html  # the second promo period: 25% off $200.00
    assert "retry 1 of 4 on 01 Feb" in html


def test_the_contact_card_lists_each_period_with_payment_and_document(client, login):
    paying, _, period, _ = _subscriptions()
    login("viewer")
    html = client.get(f"/admin/contact/details/?id={paying.contact_id}&tab=subscriptions") \
        .get_data(as_text=True)
    assert 'id="billing-periods"' in html and f'data-period="{period.id}"' in html
    assert "31 Jan 2027" in html and "$150.00" in html and "($50.00 promo)" in html
    assert "RCT-" in html  # the period's receipt


def test_the_contact_card_says_what_account_credit_paid_of_a_period(client, login):
    from admin_app.models import PaymentMethodKind

    _, failing, _, owed = _subscriptions()
    make_payment(contact=failing.contact, amount_minor=4500, period_id=owed.id,
                 subscription_id=failing.id, method=PaymentMethodKind.ACCOUNT_CREDIT)
    db.session.commit()
    login("viewer")
    html = client.get(f"/admin/contact/details/?id={failing.contact_id}&tab=subscriptions") \
        .get_data(as_text=True)
    assert "$45.00 paid from account credit" in html
