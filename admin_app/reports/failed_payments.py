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

from sqlalchemy import func, select

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
from .figures import Figure, Tally
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
        .where(Payment.status == PaymentStatus.FAILED, Payment.created_at >= start,
               Payment.created_at < end)
        .order_by(Payment.created_at, Payment.id)).all()
    by_period = {}
    roots = []
    for row in failed:
        if row.period_id is not None:
            by_period.setdefault(row.period_id, row)  # its first failure this month
        elif row.retry_of_id is None:
            roots.append(row)
    earlier = _periods_failed_before(set(by_period), start)
    for period_id, row in by_period.items():
        if period_id in earlier:
            continue
        period = db.session.get(BillingPeriod, period_id)
        charge = FailedCharge(row.contact_id, period.plan_id, row.currency, row.amount_minor,
                              row.created_at)
        _count(tally, charge, _period_outcome(period, charge))
    plans = _plans_of(subscription_id for *_, subscription_id in roots)
    for row in roots:
        charge = FailedCharge(row.contact_id, plans.get(row.subscription_id), row.currency,
                              row.amount_minor, row.created_at)
        _count(tally, charge, _chain_outcome(row.id, charge))
    return tally.figures()


def _count(tally: Tally, charge: FailedCharge, outcome: str) -> None:
    for prefix in ("failed", outcome):
        tally.add(f"{prefix}_count", charge.plan_id, charge.currency, 1)
        tally.add(f"{prefix}_minor", charge.plan_id, charge.currency, charge.amount_minor)


def _periods_failed_before(period_ids: set[int], start: datetime) -> set[int]:
    ids, found = sorted(period_ids), set()
    for i in range(0, len(ids), _CHUNK):
        found.update(db.session.scalars(
            select(Payment.period_id).distinct()
            .where(Payment.period_id.in_(ids[i:i + _CHUNK]),
                   Payment.status == PaymentStatus.FAILED, Payment.created_at < start)))
    return found


def _plans_of(subscription_ids) -> dict[int, int]:
    ids = sorted({i for i in subscription_ids if i is not None})
    found: dict[int, int] = {}
    for i in range(0, len(ids), _CHUNK):
        found.update(db.session.execute(
            select(Subscription.id, Subscription.plan_id)
            .where(Subscription.id.in_(ids[i:i + _CHUNK]))).all())
    return found


def _period_outcome(period: BillingPeriod, charge: FailedCharge) -> str:
    if period.status == PeriodStatus.PAID:
        payment = db.session.get(Payment, period.payment_id) if period.payment_id else None
        return _recovered_by(charge, payment.created_at if payment else period.paid_at)
    if period.status in (PeriodStatus.UNPAID, PeriodStatus.VOID):
        return "lost"
    if period.subscription.status == SubscriptionStatus.CANCELED:
        return "lost"
    return "retrying"


def _chain_outcome(root_id: int, charge: FailedCharge) -> str:
    """Follow the retries of a failed payment (``retry_of``): paid by one of them, or lost."""
    chain = [root_id]
    for _ in range(20):  # retries of retries: a handful at most
        retries = db.session.execute(
            select(Payment.id, Payment.status, Payment.created_at)
            .where(Payment.retry_of_id.in_(chain[-50:])).order_by(Payment.id)).all()
        paid = [r for r in retries if r.status in PAID]
        if paid:
            return _recovered_by(charge, paid[0].created_at)
        new = [r.id for r in retries if r.id not in chain]
        if not new:
            return "lost"
        chain.extend(new)
    return "lost"


def _recovered_by(charge: FailedCharge, paid_at: datetime | None) -> str:
    """A card saved by the member between the failure and the payment: a new card did it."""
    if paid_at is None:
        return "recovered_retry"
    new_cards = db.session.scalar(
        select(func.count()).select_from(PaymentMethod)
        .where(PaymentMethod.contact_id == charge.contact_id,
               PaymentMethod.created_at > charge.failed_at,
               PaymentMethod.created_at <= paid_at))
    return "recovered_card" if new_cards else "recovered_retry"
