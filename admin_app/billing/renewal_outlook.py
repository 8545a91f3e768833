"""What the billing cycle has coming and what went wrong, for the subscriptions list, the
contact card and Home (the queries Home shows; the reports' helper places them).

- ``renewal_outlook(subscription)``: its next renewal (date, and the amount after the promo,
  on the scheduled plan if a change is scheduled) or its end, and its retry state
  ("retry 2 of 4 on 03 Dec").
- ``renewals_due(days)``: active subscriptions renewing in the next ``days`` days with what
  each renewal will charge; ``expected_revenue`` sums them per currency.
- ``owed_subscriptions()``: past due and unpaid subscriptions with their owed period.
- ``failed_renewals_today()``: renewal charges that failed today (the clinic's day).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ..clinic_time import clinic_zone
from ..clock import utcnow
from ..extensions import db
from ..models import (
    BillingPeriod,
    Payment,
    PaymentStatus,
    PeriodStatus,
    Subscription,
    SubscriptionStatus,
)
from .period_billing import latest_period, next_period_price
from .period_retries import retry_state


@dataclass(frozen=True)
class Outlook:
    """A subscription's next renewal (``renews_at``, ``amount_minor`` after the promo) or its
    end (``ends_at``), and its retry state ("" when nothing failed)."""

    renews_at: datetime | None
    amount_minor: int | None
    currency: str
    ends_at: datetime | None
    retry: str


def renewal_outlook(subscription: Subscription) -> Outlook:
    plan = subscription.scheduled_plan or subscription.plan
    period = latest_period(subscription)
    retry = retry_state(period) if period is not None else ""
    if subscription.status is SubscriptionStatus.CANCELED:
        return Outlook(None, None, plan.currency, subscription.canceled_at, retry)
    if subscription.cancel_at_period_end:
        return Outlook(None, None, plan.currency, subscription.current_period_end, retry)
    if subscription.status in (SubscriptionStatus.UNPAID, SubscriptionStatus.INCOMPLETE) or \
            (period is not None and period.status in (PeriodStatus.PAST_DUE,
                                                      PeriodStatus.UNPAID)):
        return Outlook(None, None, plan.currency, None, retry)
    amount, _ = next_period_price(subscription)
    return Outlook(subscription.current_period_end, amount, plan.currency, None, retry)


@dataclass(frozen=True)
class DueRenewal:
    subscription: Subscription
    renews_at: datetime
    amount_minor: int
    currency: str


def renewals_due(days: int = 7, *, now: datetime | None = None,
                 limit: int = 500) -> list[DueRenewal]:
    """Active subscriptions renewing within ``days`` days (not those cancelling at period
    end), soonest first, with the amount each renewal will charge."""
    now = now or utcnow()
    rows = db.session.scalars(select(Subscription).where(
        Subscription.status == SubscriptionStatus.ACTIVE,
        Subscription.cancel_at_period_end.is_(False),
        Subscription.current_period_end >= now,
        Subscription.current_period_end < now + timedelta(days=days))
        .order_by(Subscription.current_period_end, Subscription.id).limit(limit))
    due = []
    for subscription in rows:
        amount, _ = next_period_price(subscription)
        currency = (subscription.scheduled_plan or subscription.plan).currency
        due.append(DueRenewal(subscription, subscription.current_period_end, amount, currency))
    return due


def expected_revenue(due: list[DueRenewal]) -> dict[str, int]:
    """{currency: minor units} the renewals ``due`` will charge."""
    totals: dict[str, int] = defaultdict(int)
    for renewal in due:
        totals[renewal.currency] += renewal.amount_minor
    return dict(totals)


@dataclass(frozen=True)
class Owed:
    subscription: Subscription
    period: BillingPeriod | None
    retry: str


def owed_subscriptions(limit: int = 500) -> list[Owed]:
    """Past due and unpaid subscriptions (unpaid first), with the period they owe."""
    rows = db.session.scalars(select(Subscription).where(Subscription.status.in_(
        (SubscriptionStatus.UNPAID, SubscriptionStatus.PAST_DUE)))
        .order_by(Subscription.status.desc(), Subscription.id).limit(limit))
    owed = []
    for subscription in rows:
        period = latest_period(subscription)
        owed.append(Owed(subscription, period, retry_state(period) if period else ""))
    return owed


def clinic_day_start(now: datetime | None = None) -> datetime:
    """Midnight of today in the clinic's zone, as UTC."""
    local = (now or utcnow()).astimezone(clinic_zone())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def failed_renewals_today(*, now: datetime | None = None) -> list[Payment]:
    """Renewal charges (payments of a billing period) that failed today, latest first."""
    start = clinic_day_start(now)
    return list(db.session.scalars(select(Payment).where(
        Payment.period_id.is_not(None), Payment.status == PaymentStatus.FAILED,
        Payment.created_at >= start, Payment.created_at < start + timedelta(days=1))
        .order_by(Payment.created_at.desc(), Payment.id.desc())))
