"""Shared setup for the subscription action tests: a frozen clock at the start of a 30-day
period, and a subscriber with a saved card, a paid period and the period's credits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from admin_app.billing.charging import charge_saved_card
from admin_app.clock import freeze
from admin_app.extensions import db
from admin_app.models import (
    Contact,
    CreditReason,
    Payment,
    PaymentPurpose,
    Plan,
    Service,
    Subscription,
)
from tests.factories import give_card, make_contact, make_credit, make_plan, make_subscription
from tests.transactions import committed

PERIOD_START = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
PERIOD_END = PERIOD_START + timedelta(days=30)
HALF_WAY = PERIOD_START + timedelta(days=15)
DECLINES = "4000000000000341"  # a card the processor declines when charged


@pytest.fixture(name="clock")
def clock_fixture():
    """The clock frozen at the period start; call it with a datetime to move it."""
    freeze(PERIOD_START)
    try:
        yield freeze
    finally:
        freeze(None)


@dataclass
class Subscriber:
    contact: Contact
    plan: Plan
    service: Service
    subscription: Subscription
    payment: Payment | None


def subscriber(*, price: int = 12000, credits: int = 4, card: str | None = "4242424242424242",
               paid: bool = True, plan: Plan | None = None, **plan_kw) -> Subscriber:
    """A contact subscribed since PERIOD_START (the clock must be there), the period paid by
    card and its credits granted."""
    contact = make_contact()
    plan = plan or make_plan(price_minor=price, credits=credits, **plan_kw)
    service = plan.services[0].service
    subscription = make_subscription(contact=contact, plan=plan,
                                     current_period_start=PERIOD_START,
                                     current_period_end=PERIOD_END)
    make_credit(contact=contact, service=service, quantity=plan.services[0].credits_per_period,
                reason=CreditReason.PERIOD_GRANT, subscription=subscription,
                expires_at=PERIOD_END)
    db.session.commit()
    if card:
        give_card(contact, number=card)
    payment = None
    if paid:
        with committed():
            payment = charge_saved_card(contact, amount_minor=plan.price_minor,
                                        currency=plan.currency,
                                        purpose=PaymentPurpose.SUBSCRIPTION_PERIOD,
                                        description="First period",
                                        subscription_id=subscription.id).payment
    return Subscriber(contact, plan, service, subscription, payment)


def run_billing(until):
    """``billing run`` up to ``until``, then the session's rows read afresh."""
    from admin_app.billing.renewals import billing_run

    report = billing_run(until)
    db.session.expire_all()
    return report
