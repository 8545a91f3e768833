"""Failed payments and how many were recovered.

A **failed charge** is something owed whose charge failed, counted once, in the month of its
first failed attempt, with the amount of that attempt: a billing period (however many of its
attempts failed), or any other payment (custom bill, no-show fee) with the retries made of it.
Its outcome, as the books stand now:

- **recovered by a new card**: paid later, by a charge made after the member saved a card;
- **recovered by a retry**: paid later otherwise (the renewal's retries, a manual retry, cash
  at the desk);
- **lost**: a period whose retries ran out (unpaid) or that is no longer owed (void, the
  subscription cancelled), or another payment never paid;
- **still retrying**: a period still due or past due.

Recovery rate = recovered ÷ failed charges, per currency.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select

from ..extensions import db
from ..models import (
    BillingPeriod,
    Payment,
    PaymentMethod,
    PaymentStatus,
    PeriodStatus,
    Subscription,
    SubscriptionStatus,
)
from .figures import Figure, Tally, unindexed
from .revenue import PAID

OUTCOMES = ("recovered_card", "recovered_retry", "lost", "retrying")
_CHUNK = 500


class FailedCharge(NamedTuple):
    contact_id: int
    plan_id: int | None
    currency: str
    amount_minor: int
    failed_at: datetime


def failed_payment_figures(start: datetime, end: datetime) -> list[Figure]:
    """``failed_count``/``failed_minor`` and ``<outcome>_count``/``<outcome>_minor`` per
    currency, for the failed charges first failing in ``[start, end)``."""
    tally = Tally()
    failed = db.session.execute(
        select(Payment.id, Payment.contact_id, Payment.currency, Payment.amount_minor,
               Payment.created_at, Payment.period_id, Payment.retry_of_id, Payment.subscription_id)
        .where(Payment.created_at >= start, Payment.created_at < end,
               unindexed(Payment.status) == PaymentStatus.FAILED)
        .order_by(Payment.created_at, Payment.id)).all()
    by_period, roots = {}, []
    for row in failed:
        if row.period_id is not None:
            by_period.setdefault(row.period_id, row)  # its first failure this month
        elif row.retry_of_id is None:
            roots.append(row)
    for period_id in _periods_failed_before(set(by_period), start):
        del by_period[period_id]
    periods = _periods(set(by_period))
    paid_by = _created_at({p.payment_id for p in periods.values() if p.payment_id})
    charges: list[tuple[FailedCharge, str | datetime]] = []
    for period_id, row in by_period.items():
        period = periods[period_id]
        charge = FailedCharge(row.contact_id, period.plan_id, row.currency, row.amount_minor,
                              row.created_at)
        if period.status == PeriodStatus.PAID:
            charges.append((charge, paid_by.get(period.payment_id) or period.paid_at))
        elif period.status in (PeriodStatus.UNPAID, PeriodStatus.VOID) \
                or period.subscription_status == SubscriptionStatus.CANCELED:
            charges.append((charge, "lost"))
        else:
            charges.append((charge, "retrying"))
    plans = _plans_of(row.subscription_id for row in roots)
    recovered = _chains_paid({row.id for row in roots})
    for row in roots:
        charge = FailedCharge(row.contact_id, plans.get(row.subscription_id), row.currency,
                              row.amount_minor, row.created_at)
        charges.append((charge, recovered.get(row.id, "lost")))
    cards = _cards_saved({charge.contact_id for charge, outcome in charges
                          if isinstance(outcome, datetime)})
    for charge, outcome in charges:
        if isinstance(outcome, datetime):
            new_card = any(charge.failed_at < saved <= outcome
                           for saved in cards.get(charge.contact_id, ()))
            outcome = "recovered_card" if new_card else "recovered_retry"
        _count(tally, charge, outcome)
    return tally.figures()


def _count(tally: Tally, charge: FailedCharge, outcome: str) -> None:
    for prefix in ("failed", outcome):
        tally.add(f"{prefix}_count", charge.plan_id, charge.currency, 1)
        tally.add(f"{prefix}_minor", charge.plan_id, charge.currency, charge.amount_minor)


def _chunks(ids):
    ids = sorted(ids)
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def _periods_failed_before(period_ids: set[int], start: datetime) -> set[int]:
    found = set()
    for chunk in _chunks(period_ids):
        found.update(db.session.scalars(
            select(Payment.period_id).distinct()
            .where(Payment.period_id.in_(chunk), Payment.status == PaymentStatus.FAILED,
                   Payment.created_at < start)))
    return found


def _periods(period_ids: set[int]) -> dict:
    found = {}
    for chunk in _chunks(period_ids):
        for row in db.session.execute(
                select(BillingPeriod.id, BillingPeriod.plan_id, BillingPeriod.status,
                       BillingPeriod.payment_id, BillingPeriod.paid_at,
                       Subscription.status.label("subscription_status"))
                .join(Subscription, Subscription.id == BillingPeriod.subscription_id)
                .where(BillingPeriod.id.in_(chunk))):
            found[row.id] = row
    return found


def _created_at(payment_ids: set[int]) -> dict[int, datetime]:
    found = {}
    for chunk in _chunks(payment_ids):
        found.update(db.session.execute(
            select(Payment.id, Payment.created_at).where(Payment.id.in_(chunk))).all())
    return found


def _plans_of(subscription_ids) -> dict[int, int]:
    found: dict[int, int] = {}
    for chunk in _chunks({i for i in subscription_ids if i is not None}):
        found.update(db.session.execute(
            select(Subscription.id, Subscription.plan_id)
            .where(Subscription.id.in_(chunk))).all())
    return found


def _chains_paid(root_ids: set[int]) -> dict[int, datetime]:
    """For each failed payment, when one of its retries (or retries of retries) was paid."""
    root_of = {i: i for i in root_ids}
    paid: dict[int, datetime] = {}
    frontier = set(root_ids)
    for _ in range(20):  # retries of retries: a handful at most
        if not frontier:
            break
        found = []
        for chunk in _chunks(frontier):
            found += db.session.execute(
                select(Payment.id, Payment.retry_of_id, Payment.status, Payment.created_at)
                .where(Payment.retry_of_id.in_(chunk))).all()
        frontier = set()
        for row in sorted(found, key=lambda r: r.id):
            root = root_of[row.retry_of_id]
            root_of[row.id] = root
            if row.status in PAID:
                paid.setdefault(root, row.created_at)
            else:
                frontier.add(row.id)
    return paid


def _cards_saved(contact_ids: set[int]) -> dict[int, list[datetime]]:
    found: dict[int, list[datetime]] = {}
    for chunk in _chunks(contact_ids):
        for contact_id, created_at in db.session.execute(
                select(PaymentMethod.contact_id, PaymentMethod.created_at)
                .where(PaymentMethod.contact_id.in_(chunk))):
            found.setdefault(contact_id, []).append(created_at)
    return found
