"""Hand-made billing histories for the reports' tests: periods, payments, refunds inserted
directly (as the billing engine would leave them), every date given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from admin_app.extensions import db
from admin_app.models import (
    BillingPeriod,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    PeriodStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from tests.factories import make_payment


def at(month: int, day: int, hour: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def period(subscription, plan, starts_at, ends_at, *, status=PeriodStatus.PAID,
           amount_minor=None, number=1) -> BillingPeriod:
    """A period; when paid, with the payment that paid it at its start."""
    row = BillingPeriod(subscription=subscription, plan=plan, number=number,
                        starts_at=starts_at, ends_at=ends_at,
                        amount_minor=plan.price_minor if amount_minor is None else amount_minor,
                        currency=plan.currency, status=status, created_at=starts_at)
    db.session.add(row)
    db.session.flush()
    if status == PeriodStatus.PAID:
        pay(row, starts_at)
    return row


def pay(row: BillingPeriod, when: datetime, *, attempt: int = 1, failed: bool = False):
    payment = make_payment(contact=row.subscription.contact, subscription=row.subscription,
                           amount_minor=row.amount_minor, currency=row.currency,
                           purpose=PaymentPurpose.SUBSCRIPTION_PERIOD, period_id=row.id,
                           period_attempt=attempt, created_at=when,
                           status=PaymentStatus.FAILED if failed else PaymentStatus.SUCCEEDED,
                           paid_at=None if failed else when)
    if not failed:
        row.status, row.payment_id, row.paid_at = PeriodStatus.PAID, payment.id, when
    row.attempts = attempt
    db.session.flush()
    return payment


def monthly(subscription, plan, first: datetime, count: int, *, months=1):
    """``count`` consecutive paid periods of ``months`` months from ``first``."""
    rows, start = [], first
    for n in range(count):
        month = start.month - 1 + months
        end = start.replace(year=start.year + month // 12, month=month % 12 + 1)
        rows.append(period(subscription, plan, start, end, number=n + 1))
        start = end
    return rows


def weekly(subscription, plan, first: datetime, count: int):
    return [period(subscription, plan, first + timedelta(weeks=n),
                   first + timedelta(weeks=n + 1), number=n + 1) for n in range(count)]


def refund(payment, amount_minor: int, when: datetime) -> Refund:
    row = Refund(payment=payment, amount_minor=amount_minor, currency=payment.currency,
                 reason=RefundReason.REQUESTED_BY_CUSTOMER, status=RefundStatus.SUCCEEDED,
                 created_at=when)
    payment.amount_refunded_minor += amount_minor
    payment.status = (PaymentStatus.REFUNDED if payment.amount_refunded_minor ==
                      payment.amount_minor else PaymentStatus.PARTIALLY_REFUNDED)
    db.session.add(row)
    db.session.flush()
    return row


def card(contact, when: datetime) -> PaymentMethod:
    row = PaymentMethod(contact=contact, brand="visa", last4="4242", exp_month=12,
                        exp_year=2030, is_default=True, created_at=when)
    db.session.add(row)
    db.session.flush()
    return row
