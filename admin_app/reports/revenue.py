"""Revenue: money paid in, less money refunded, by what it paid for, per currency.

A payment counts in the month it was paid (``paid_at``) when it succeeded — a payment later
refunded, fully or partly, still counts: its refund counts on its own, in the month the refund
was made (``created_at``), once it succeeded. Net revenue = payments − refunds. A payment's plan
is the plan of the period it paid for, else of its subscription; payments of no subscription
(custom bills, no-show fees, invoices) count in all plans only.

Money counts once, when it comes in: a payment made from account credit (and what of it went
back to account credit) is not revenue again — the credit was money paid before, kept when a
downgrade or cancellation did not refund it; account credit refunded to the card is a refund
of the card payment it was kept from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    BillingPeriod,
    Payment,
    PaymentMethodKind,
    PaymentStatus,
    Refund,
    RefundStatus,
    Subscription,
)
from .figures import Figure, Tally, unindexed

PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


def _plan_of_payment():
    """The plan a payment is counted under (its period's, else its subscription's)."""
    period, subscription = aliased(BillingPeriod), aliased(Subscription)
    plan = func.coalesce(period.plan_id, subscription.plan_id)
    return plan, period, subscription


def revenue_figures(start: datetime, end: datetime) -> list[Figure]:
    """``revenue_payments`` and ``revenue_refunds`` per purpose (dimension) and currency."""
    tally = Tally()
    plan, period, subscription = _plan_of_payment()
    paid = db.session.execute(
        select(Payment.purpose, Payment.currency, plan, func.sum(Payment.amount_minor))
        .outerjoin(period, period.id == Payment.period_id)
        .outerjoin(subscription, subscription.id == Payment.subscription_id)
        .where(Payment.paid_at >= start, Payment.paid_at < end, unindexed(Payment.status).in_(PAID),
               unindexed(Payment.method) != PaymentMethodKind.ACCOUNT_CREDIT)
        .group_by(Payment.purpose, Payment.currency, plan))
    for purpose, currency, plan_id, total in paid:
        tally.add("revenue_payments", plan_id, currency, int(total), dimension=purpose.value)
    refunded = db.session.execute(
        select(Payment.purpose, Refund.currency, plan, func.sum(Refund.amount_minor))
        .join(Payment, Payment.id == Refund.payment_id)
        .outerjoin(period, period.id == Payment.period_id)
        .outerjoin(subscription, subscription.id == Payment.subscription_id)
        .where(Refund.created_at >= start, Refund.created_at < end,
               unindexed(Refund.status) == RefundStatus.SUCCEEDED,
               unindexed(Payment.method) != PaymentMethodKind.ACCOUNT_CREDIT)
        .group_by(Payment.purpose, Refund.currency, plan))
    for purpose, currency, plan_id, total in refunded:
        tally.add("revenue_refunds", plan_id, currency, int(total), dimension=purpose.value)
    return tally.figures()
