"""Simulated time over many subscriptions: the billing engine run every few days for a year and
more, in a clinic far from UTC, with anchors on the 28th–31st, weekly to yearly plans, promos,
scheduled cancellations and plan changes, declining cards, cash members, new cards and
processor outages mixed in at random; the books' invariants are checked after every step.

The offline gateway on each database (the renewal suite on localstripe is
``tests/actions/test_renewals.py``). Hypothesis draws the scenario's random choices; each
example adds its own subscriptions and checks only those.
"""

from __future__ import annotations

import calendar
import itertools
import os
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from admin_app.actions.reconcile_pending import reconcile_pending
from admin_app.actors import SYSTEM
from admin_app.billing.period_billing import open_period
from admin_app.billing.periods import period_start
from admin_app.billing.renewals import billing_run
from admin_app.billing.retry_rules import PAID_STATUSES
from admin_app.clock import freeze
from admin_app.extensions import db
from admin_app.models import (
    BillingPeriod,
    CashierSettings,
    Contact,
    CreditEntry,
    CreditReason,
    DiscountDuration,
    DiscountType,
    Document,
    DocumentType,
    Payment,
    PaymentMethodKind,
    PaymentStatus,
    PeriodStatus,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from admin_app.payments import get_gateway
from tests.factories import give_card, make_contact, make_plan, make_promo

ZONE = ZoneInfo("Pacific/Auckland")  # UTC+13 in the southern summer, +12 in winter
START = datetime(2027, 1, 31, 9, 0, tzinfo=ZONE).astimezone(UTC)
GOOD, DECLINES = "4242424242424242", "4000000000000341"
# The suite's size keeps `make test` fast; SIM_SUBSCRIPTIONS=300 runs it over hundreds.
SIM_SUBSCRIPTIONS = int(os.environ.get("SIM_SUBSCRIPTIONS", 30))
OWED = (PeriodStatus.DUE, PeriodStatus.PAST_DUE, PeriodStatus.UNPAID)
_BATCHES = itertools.count(1)
PLAN_SHAPES = [("month", 1), ("month", 1), ("month", 2), ("week", 1), ("quarter", 1),
               ("year", 1)]


def _plans() -> list[Plan]:
    batch = next(_BATCHES)
    return [make_plan(name=f"{interval} x{count} {n}/{batch}", price_minor=1000 * (n + 3),
                      interval=interval, interval_count=count, credits=1 + n % 3)
            for n, (interval, count) in enumerate(PLAN_SHAPES)]


def _subscribe(rng: random.Random, plans: list[Plan], promos) -> tuple[Subscription, object]:
    """A subscription whose first period is open and due: the engine charges it."""
    contact = make_contact()
    plan = rng.choice(plans)
    anchor_day = rng.choice([28, 29, 30, 31, 31, 1, 15])
    anchor = datetime(2027, 1, min(anchor_day, 31), rng.choice([0, 9, 23]), 30,
                      tzinfo=ZONE).astimezone(UTC)
    subscription = Subscription(
        contact=contact, plan=plan, status=SubscriptionStatus.ACTIVE,
        current_period_start=anchor, billing_anchor_at=anchor,
        current_period_end=period_start(anchor, plan.interval, plan.interval_count, 1, ZONE))
    if rng.random() < 0.3:
        promo = rng.choice(promos)
        subscription.promo_code = promo
        subscription.promo_periods_left = {DiscountDuration.ONCE: 1,
                                           DiscountDuration.REPEATING: 3,
                                           DiscountDuration.FOREVER: None}[promo.duration]
    db.session.add(subscription)
    db.session.flush()
    limit = subscription.promo_periods_left
    period = open_period(subscription, starts_at=anchor, actor=SYSTEM)
    period.next_retry_at = anchor
    return subscription, limit


def _card(contact, number: str) -> None:
    give_card(contact, number=number)


class Books:
    """The invariants, over the scenario's subscriptions (a few queries per check, whatever the
    number of periods)."""

    def __init__(self, ids: list[int], promo_limits: dict[int, int | None]):
        self.ids, self.promo_limits = ids, promo_limits

    def check(self, now: datetime) -> None:
        db.session.expire_all()
        subscriptions = db.session.scalars(select(Subscription).where(
            Subscription.id.in_(self.ids))).all()
        periods = defaultdict(list)
        for period in db.session.scalars(select(BillingPeriod).where(
                BillingPeriod.subscription_id.in_(self.ids)).order_by(BillingPeriod.starts_at)):
            periods[period.subscription_id].append(period)
        period_ids = [p.id for ps in periods.values() for p in ps]
        self.payments = defaultdict(list)
        for payment in db.session.scalars(select(Payment).where(
                Payment.period_id.in_(period_ids))):
            self.payments[payment.period_id].append(payment)
        self.grants = dict(db.session.execute(
            select(CreditEntry.period_id, func.sum(CreditEntry.quantity))
            .where(CreditEntry.period_id.in_(period_ids),
                   CreditEntry.reason == CreditReason.PERIOD_GRANT)
            .group_by(CreditEntry.period_id)).all())
        self.documents = {d.id: d for d in db.session.scalars(select(Document).where(
            Document.id.in_([p.document_id for ps in periods.values() for p in ps
                             if p.document_id])))}
        self.plans = {plan.id: plan for plan in db.session.scalars(select(Plan))}
        for subscription in subscriptions:
            self._subscription(subscription, periods[subscription.id], now)
        self._credits_never_negative()
        self._processor_matches()
        db.session.expunge_all()  # the scenario's rows are read again at the next check

    def _subscription(self, subscription, periods, now: datetime) -> None:
        for earlier, later in zip(periods, periods[1:], strict=False):
            # contiguous, except after an unpaid period paid late (the months not served)
            assert later.starts_at == earlier.ends_at or later.starts_at > earlier.ends_at and \
                earlier.paid_at is not None and earlier.paid_at > earlier.ends_at
            assert later.number == earlier.number + 1
        discounted = 0
        anchor = subscription.billing_anchor_at.astimezone(ZONE)
        for period in periods:
            self._period(period)
            discounted += period.discount_minor > 0
            start = period.starts_at.astimezone(ZONE)
            if self.plans[period.plan_id].interval != "week" and period.starts_at >= \
                    subscription.billing_anchor_at:
                last = calendar.monthrange(start.year, start.month)[1]
                assert start.day == min(anchor.day, last) and start.time() == anchor.time()
        limit = self.promo_limits.get(subscription.id, 0)
        if limit is not None:
            assert discounted <= limit
        if subscription.status is SubscriptionStatus.ACTIVE and periods and \
                periods[-1].status not in OWED:
            assert subscription.current_period_end > now  # brought up to date
        if subscription.status is SubscriptionStatus.UNPAID:
            assert periods[-1].status is PeriodStatus.UNPAID

    def _period(self, period: BillingPeriod) -> None:
        payments = self.payments[period.id]
        paid = [p for p in payments if p.status in PAID_STATUSES]
        attempts = [p.period_attempt for p in payments if p.period_attempt is not None]
        assert len(attempts) == len(set(attempts)) and len(attempts) <= period.attempts
        assert len(paid) <= 1, f"{period} was paid twice"
        grants = self.grants.get(period.id, 0)
        plan = self.plans[period.plan_id]
        if period.status is PeriodStatus.PAID:
            assert grants == sum(line.credits_per_period for line in plan.services)
            if period.amount_minor > 0:
                (payment,) = paid
                assert payment.amount_minor == period.amount_minor
                receipt = self.documents[period.document_id]
                assert receipt.doc_type is DocumentType.RECEIPT
                assert receipt.payment_id == payment.id
                assert receipt.total_minor == period.amount_minor
        else:
            assert grants == 0 and not paid
        if period.status is PeriodStatus.INVOICED:
            assert self.documents[period.document_id].total_minor == period.amount_minor
        assert period.amount_minor + period.discount_minor == plan.price_minor

    def _credits_never_negative(self) -> None:
        lowest = db.session.scalar(select(func.min(select(func.sum(CreditEntry.quantity))
                                                   .group_by(CreditEntry.contact_id,
                                                             CreditEntry.service_id)
                                                   .subquery().c[0])))
        assert lowest is None or lowest >= 0

    def _processor_matches(self) -> None:
        from admin_app.payments.offline import charges

        ours = {p.gateway_id: p.amount_minor for p in db.session.scalars(select(Payment).where(
            Payment.method == PaymentMethodKind.CARD, Payment.status.in_(PAID_STATUSES)))}
        with get_gateway().engine.connect() as conn:
            made = {row.id: row.amount_minor for row in conn.execute(
                charges.select().where(charges.c.status == "succeeded"))}
        assert ours == made


def _simulate(rng: random.Random, *, subscriptions: int, days: int,
              step_days: int) -> dict[SubscriptionStatus, int]:
    settings_row = CashierSettings.get()
    settings_row.time_zone = "Pacific/Auckland"
    freeze(START - timedelta(days=1))
    plans = _plans()
    promos = [make_promo(percent_off=50, duration=DiscountDuration.ONCE),
              make_promo(percent_off=20, duration=DiscountDuration.REPEATING, duration_months=3),
              make_promo(amount_off_minor=500, currency="USD", discount_type=DiscountType.AMOUNT,
                         percent_off=None, duration=DiscountDuration.FOREVER)]
    made = [_subscribe(rng, plans, promos) for _ in range(subscriptions)]
    ids = [subscription.id for subscription, _ in made]
    contact_ids = {subscription.id: subscription.contact_id for subscription, _ in made}
    limits = {s.id: limit for s, limit in made if s.promo_code_id is not None}
    plan_ids = [plan.id for plan in plans]
    db.session.commit()
    for subscription_id in ids:
        kind = rng.random()
        if kind < 0.75:
            _card(db.session.get(Contact, contact_ids[subscription_id]),
                  GOOD if kind < 0.6 else DECLINES)
    books = Books(ids, limits)
    now, end = START - timedelta(days=1), START + timedelta(days=days)
    gateway = get_gateway()
    while now < end:
        now += timedelta(days=step_days, hours=rng.randint(0, 23))
        freeze(now)
        gateway.set_down(rng.random() < 0.1)
        for subscription_id in rng.sample(ids, k=min(3, len(ids))):
            subscription = db.session.get(Subscription, subscription_id)
            choice = rng.random()
            if subscription.status is SubscriptionStatus.CANCELED:
                continue
            if choice < 0.25:
                subscription.cancel_at_period_end = True
            elif choice < 0.5:
                subscription.scheduled_plan_id = rng.choice(plan_ids)
            elif choice < 0.7 and subscription.status in (SubscriptionStatus.PAST_DUE,
                                                           SubscriptionStatus.UNPAID):
                db.session.commit()
                gateway.set_down(False)
                _card(db.session.get(Contact, subscription.contact_id), GOOD)
            db.session.commit()
        billing_run(now)
        gateway.set_down(False)
        if rng.random() < 0.5:
            reconcile_pending(min_age=timedelta(0))
        books.check(now)
        # the unfinished business is pending at the processor, nothing else
        waiting = db.session.scalar(select(func.count()).select_from(Subscription).where(
            Subscription.id.in_(books.ids), Subscription.status == SubscriptionStatus.ACTIVE,
            Subscription.current_period_end <= now))
        pending = db.session.scalar(select(func.count()).select_from(Payment).where(
            Payment.status == PaymentStatus.PENDING))
        assert waiting <= pending
    reconcile_pending(min_age=timedelta(0))
    billing_run(now)
    books.check(now)
    statuses = defaultdict(int)
    for subscription in db.session.scalars(select(Subscription).where(
            Subscription.id.in_(books.ids))):
        statuses[subscription.status] += 1
    return statuses


@pytest.mark.backends("sqlite", "postgresql")
def test_a_year_of_billing_over_hundreds_of_subscriptions(app, backend):
    statuses = _simulate(random.Random(11), subscriptions=SIM_SUBSCRIPTIONS, days=400,
                         step_days=12)
    # the scenario reached every outcome
    assert {SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELED,
            SubscriptionStatus.UNPAID} <= set(statuses)
    assert db.session.scalar(select(func.count()).select_from(BillingPeriod)) > \
        8 * SIM_SUBSCRIPTIONS


@pytest.mark.backends("sqlite")
@settings(max_examples=4, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 8),
       step=st.integers(3, 30), days=st.integers(20, 400))
def test_random_scenarios_keep_the_books(app, backend, seed, count, step, days):
    _simulate(random.Random(seed), subscriptions=count, days=days, step_days=step)
