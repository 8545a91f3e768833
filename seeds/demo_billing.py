"""The demo's billing cycle: every period the history billed on record, and the stories
``flask billing run --until …`` plays out (README, "The billing cycle").

- every period the history paid before the current one gets its row, paid by its charges
  (their attempts in order), so Reports and Home read months of history;
- every active and past due subscription gets its current period's row
  (``period_billing.adopt_current_period``: the past due ones with their failed charges as its
  attempts and their next retry on the Cashier settings' schedule);
- one past due member stays **in retry** (two failed attempts, the next retry in two days);
- one member is **unpaid** (the retries ran out last month);
- one member with a promo code has **one discounted period left**;
- one member pays **cash**: no card on file, so renewals issue an open invoice;
- the scheduled downgrade (Physio Monthly → Reformer & Yoga Monthly) is the history's.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from admin_app.billing.period_billing import adopt_current_period, latest_period
from admin_app.billing.period_retries import DEFAULT_SCHEDULE
from admin_app.extensions import db
from admin_app.models import (
    BillingPeriod,
    DiscountDuration,
    Document,
    DocumentType,
    PaymentMethod,
    PeriodStatus,
    Subscription,
    SubscriptionStatus,
)

from .demo_subscriptions import PastPeriod


def seed_billing_cycle(rng: random.Random, now: datetime,
                       past_periods: list[PastPeriod]) -> dict[str, int]:
    """Apply the module's stories to the loaded history; returns {story: subscription id}."""
    live = list(db.session.scalars(select(Subscription).where(Subscription.status.in_(
        (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE))).order_by(Subscription.id)))
    for subscription in live:
        adopt_current_period(subscription)
    db.session.flush()
    record_past_periods(past_periods)
    stories: dict[str, int] = {}
    past_due = [s for s in live if s.status is SubscriptionStatus.PAST_DUE]
    if len(past_due) >= 2:
        in_retry, unpaid = past_due[0], past_due[1]
        period = latest_period(in_retry)
        period.next_retry_at = now + timedelta(days=2)
        stories["past due, in retry"] = in_retry.id
        period = latest_period(unpaid)
        period.status, period.next_retry_at = PeriodStatus.UNPAID, None
        period.attempts = max(period.attempts, len(DEFAULT_SCHEDULE) + 1)
        unpaid.status = SubscriptionStatus.UNPAID
        stories["unpaid"] = unpaid.id
    active = [s for s in live if s.status is SubscriptionStatus.ACTIVE
              and not s.cancel_at_period_end and s.scheduled_plan_id is None]
    promo = next((s for s in active if s.promo_code is not None
                  and s.promo_code.duration is DiscountDuration.REPEATING), None)
    if promo is not None:
        promo.promo_periods_left = 1
        stories["promo running out"] = promo.id
    single = [s for s in active if s.promo_code is None and db.session.scalar(
        select(Subscription.id).where(Subscription.contact_id == s.contact_id,
                                      Subscription.id != s.id).limit(1)) is None]
    if single:
        cash = rng.choice(single)
        db.session.execute(delete(PaymentMethod).where(
            PaymentMethod.contact_id == cash.contact_id))
        stories["pays cash (invoiced)"] = cash.id
    scheduled = next((s for s in live if s.scheduled_plan_id is not None), None)
    if scheduled is not None:
        stories["scheduled downgrade"] = scheduled.id
    db.session.flush()
    return stories


def record_past_periods(past_periods: list[PastPeriod]) -> None:
    """The rows of the periods paid before the current ones (the payments flushed, the current
    periods adopted): each paid by the last of its charges, the earlier ones its failed
    attempts; the current period of a live subscription is numbered after them."""
    receipts = dict(db.session.execute(
        select(Document.payment_id, func.min(Document.id))
        .where(Document.doc_type == DocumentType.RECEIPT, Document.payment_id.is_not(None))
        .group_by(Document.payment_id)).all())
    rows = []
    for past in past_periods:
        subscription, paid = past.subscription, past.charges[-1]
        rows.append((past, BillingPeriod(
            subscription_id=subscription.id, plan_id=subscription.plan_id, number=past.number,
            starts_at=past.starts_at, ends_at=past.ends_at, amount_minor=past.amount_minor,
            discount_minor=past.discount_minor, currency=subscription.plan.currency,
            status=PeriodStatus.PAID, attempts=len(past.charges), payment_id=paid.id,
            document_id=receipts.get(paid.id), paid_at=paid.paid_at, created_at=past.starts_at,
            updated_at=paid.paid_at)))
    db.session.add_all(period for _, period in rows)
    db.session.flush()
    for past, period in rows:
        for attempt, charge in enumerate(past.charges, start=1):
            charge.period_id, charge.period_attempt = period.id, attempt
    for subscription in {past.subscription for past in past_periods}:
        current = latest_period(subscription)
        if current.number == 1:  # adopted before the earlier ones were written
            current.number = db.session.scalar(select(func.count()).where(
                BillingPeriod.subscription_id == subscription.id))
    db.session.flush()
