"""The summary table: every report's figures per month, kept up to date by the worker.

``refresh_summary()`` (the worker's ``refresh_reports`` task, every 10 minutes) recomputes
only what may have changed: months never computed, the month still running (and the previous
one, once, after it closed), and every month touched by a row written since the last refresh
(a period, payment, refund, subscription, appointment or credit entry changed: from the
earliest month that row counts in). ``rebuild_summary()`` (``flask --app admin_app reports
rebuild``) recomputes every month: after changing the clinic's time zone or a plan's billing
interval, which move every month's figures.

Each month is computed by the same functions the pages would run directly (``compute_month``),
so the summary and a direct computation agree: ``tests/reports/test_summary.py`` proves it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select

from ..clinic_time import clinic_zone
from ..clock import utcnow
from ..extensions import db
from ..models import (
    Appointment,
    BillingPeriod,
    CreditEntry,
    Payment,
    PeriodStatus,
    Refund,
    ReportFigure,
    ReportMonth,
    Subscription,
)
from .calendar import Month, month_of, months_between
from .failed_payments import failed_payment_figures
from .figures import Figure, unindexed
from .mrr import mrr_figures
from .revenue import revenue_figures
from .usage import usage_figures

# Rows committed a little before the last refresh started may not have been visible to it.
MARGIN = timedelta(minutes=10)


class ComputedMonth(NamedTuple):
    month: Month
    as_of: datetime
    figures: list[Figure]


def compute_month(month: Month, *, now: datetime | None = None,
                  zone: ZoneInfo | None = None) -> ComputedMonth:
    """Every report's figures for ``month``, straight from the billing tables, as they stand
    at its end (or ``now`` while it runs)."""
    zone = zone or clinic_zone()
    now = now or utcnow()
    start, as_of = month.start(zone), min(month.end(zone), now)
    figures = (mrr_figures(start, as_of) + revenue_figures(start, as_of)
               + failed_payment_figures(start, as_of) + usage_figures(start, as_of))
    return ComputedMonth(month, as_of, figures)


def first_month(zone: ZoneInfo) -> Month | None:
    """The month of the oldest record a report counts (None: no data at all)."""
    candidates = [db.session.scalar(select(func.min(column))) for column in (
        BillingPeriod.starts_at, Payment.created_at, Refund.created_at,
        Appointment.starts_at, CreditEntry.created_at)]
    moments = [moment for moment in candidates if moment is not None]
    return month_of(min(moments), zone) if moments else None


def store_month(computed: ComputedMonth, *, computed_at: datetime) -> None:
    """Replace the month's figures (one transaction; the caller commits)."""
    key = computed.month.key
    db.session.execute(delete(ReportFigure).where(ReportFigure.month == key))
    if computed.figures:
        db.session.execute(insert(ReportFigure), [
            {"month": key, "metric": f.metric, "plan_id": f.plan_id, "currency": f.currency,
             "dimension": f.dimension, "value": f.value} for f in computed.figures])
    db.session.merge(ReportMonth(month=key, as_of=computed.as_of, computed_at=computed_at))


def rebuild_summary(*, now: datetime | None = None) -> int:
    """Recompute every month from the oldest record to now; returns how many."""
    now = now or utcnow()
    zone = clinic_zone()
    first = first_month(zone)
    db.session.execute(delete(ReportFigure))
    db.session.execute(delete(ReportMonth))
    months = months_between(first, month_of(now, zone)) if first else []
    for month in months:
        store_month(compute_month(month, now=now, zone=zone), computed_at=now)
        db.session.commit()
    db.session.commit()
    return len(months)


def refresh_summary(*, now: datetime | None = None) -> list[Month]:
    """Recompute the months that may have changed since the last refresh (see the module);
    returns them. Safe to run twice, and at once from two workers (each writes the same)."""
    now = now or utcnow()
    zone = clinic_zone()
    first = first_month(zone)
    if first is None:
        return []
    current = month_of(now, zone)
    stored = {m.month: m for m in db.session.scalars(select(ReportMonth))}
    last = max((m.computed_at for m in stored.values()), default=None)
    dirty = changed_since(last - MARGIN, zone) if last is not None else first
    months = [m for m in months_between(first, current)
              if m.key not in stored or (dirty is not None and m >= dirty)
              or stored[m.key].as_of < m.end(zone)]
    for month in months:
        store_month(compute_month(month, now=now, zone=zone), computed_at=now)
        db.session.commit()
    return months


def changed_since(since: datetime, zone: ZoneInfo) -> Month | None:
    """The earliest month a row written since ``since`` counts in (None: nothing changed)."""
    def earliest(column, *where, join=None):
        query = select(func.min(unindexed(column)))
        if join is not None:
            query = query.select_from(join)
        return db.session.scalar(query.where(*where))

    moments = [
        earliest(BillingPeriod.starts_at, BillingPeriod.updated_at >= since),
        earliest(Payment.created_at, Payment.updated_at >= since),
        earliest(Payment.paid_at, Payment.updated_at >= since),
        earliest(BillingPeriod.starts_at, Payment.updated_at >= since,
                 join=Payment.__table__.join(BillingPeriod.__table__,
                                             BillingPeriod.id == Payment.period_id)),
        _earliest_retried(since),
        earliest(Refund.created_at, Refund.updated_at >= since),
        earliest(Subscription.canceled_at, Subscription.updated_at >= since),
        # A subscription cancelled with a period still owed: that failure is now lost.
        earliest(BillingPeriod.starts_at, Subscription.updated_at >= since,
                 BillingPeriod.status.in_((PeriodStatus.DUE, PeriodStatus.PAST_DUE)),
                 join=Subscription.__table__.join(
                     BillingPeriod.__table__, BillingPeriod.subscription_id == Subscription.id)),
        earliest(Appointment.starts_at, Appointment.updated_at >= since),
        earliest(CreditEntry.created_at, CreditEntry.created_at >= since),
    ]
    moments = [moment for moment in moments if moment is not None]
    return month_of(min(moments), zone) if moments else None


def _earliest_retried(since: datetime) -> datetime | None:
    """The first failure of the retry chains a payment written since ``since`` belongs to."""
    ids = set(db.session.scalars(select(Payment.retry_of_id).where(
        Payment.updated_at >= since, Payment.retry_of_id.is_not(None))))
    earliest = None
    for _ in range(20):
        if not ids:
            break
        rows = db.session.execute(select(Payment.created_at, Payment.retry_of_id)
                                  .where(Payment.id.in_(sorted(ids)[:500]))).all()
        moments = [created for created, _ in rows]
        if moments:
            earliest = min([*moments, *([earliest] if earliest else [])])
        ids = {parent for _, parent in rows if parent is not None}
    return earliest
