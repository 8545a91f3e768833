"""Hand-made billing histories for the reports' tests: periods, payments, refunds inserted
directly (as the billing engine would leave them), every date given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from admin_app.clock import freeze
from admin_app.extensions import db
from admin_app.models import (
    AppointmentStatus,
    BillingInterval,
    BillingPeriod,
    CreditReason,
    NoShowFeeStatus,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    PeriodStatus,
    Refund,
    RefundReason,
    RefundStatus,
    SubscriptionStatus,
)
from tests.factories import (
    make_appointment,
    make_contact,
    make_credit,
    make_payment,
    make_plan,
    make_subscription,
)


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


NOW = at(4, 10)


def build_history() -> dict:
    """The history of tests/reports/test_metrics.py's docstring (A–H), committed."""
    freeze(NOW)
    basic = make_plan(name="Basic", price_minor=10000)
    premium = make_plan(name="Premium", price_minor=20000)
    weekly_plan = make_plan(name="Weekly", price_minor=1000, interval=BillingInterval.WEEK)
    yearly = make_plan(name="Yearly", price_minor=120000, currency="EUR",
                       interval=BillingInterval.YEAR)
    sub = lambda plan, **kw: make_subscription(  # noqa: E731
        plan=plan, current_period_start=at(1, 1), current_period_end=at(2, 1), **kw)

    a = sub(basic)
    monthly(a, basic, at(1, 10), 3)
    b = sub(premium)
    monthly(b, basic, at(12, 5, year=2025), 2)
    monthly(b, premium, at(2, 5), 2)
    c = sub(basic, status=SubscriptionStatus.CANCELED, canceled_at=at(3, 1))
    monthly(c, premium, at(12, 1, year=2025), 2)
    monthly(c, basic, at(2, 1), 1)
    d = sub(weekly_plan)
    weeks = weekly(d, weekly_plan, at(1, 20), 5)  # Jan 20 ... Feb 17
    late = period(d, weekly_plan, at(2, 24), at(3, 3), status=PeriodStatus.PAST_DUE)
    pay(late, at(2, 24), attempt=1, failed=True)
    pay(late, at(2, 26), attempt=2)
    weekly(d, weekly_plan, at(3, 3), 5)  # Mar 3 ... Mar 31 (ends Apr 7)
    e = sub(yearly)
    monthly(e, yearly, at(2, 15), 1, months=12)
    f = sub(basic)
    monthly(f, basic, at(12, 20, year=2025), 1)
    lapsed = period(f, basic, at(1, 20), at(2, 20), status=PeriodStatus.UNPAID)
    for attempt, day in enumerate((20, 21, 23), start=1):
        pay(lapsed, at(1, day), attempt=attempt, failed=True)
    lapsed.status = PeriodStatus.UNPAID
    monthly(f, basic, at(3, 5), 1)
    g = make_contact()
    bill = make_payment(contact=g, amount_minor=5000, created_at=at(2, 3), paid_at=at(2, 3))
    refund(bill, 2000, at(3, 2))
    h = make_contact()
    make_payment(contact=h, amount_minor=3000, status=PaymentStatus.FAILED, paid_at=None,
                 created_at=at(3, 3))
    second = make_payment(contact=h, amount_minor=4000, status=PaymentStatus.FAILED,
                          paid_at=None, created_at=at(3, 4))
    card(h, at(3, 5, 9))
    make_payment(contact=h, amount_minor=4000, retry_of_id=second.id, created_at=at(3, 5, 10),
                 paid_at=at(3, 5, 10))
    _credits_and_no_shows(a, basic.services[0].service)
    db.session.commit()
    assert len(weeks) == 5
    return {"basic": basic, "premium": premium, "weekly": weekly_plan, "yearly": yearly}


def _credits_and_no_shows(subscription, service) -> None:
    """I: A's credits of Basic's service: 4 granted Jan 10, one booked Jan 15 then given back
    Jan 16, one booked Jan 20, 3 expired Feb 10; 2 added by hand Feb 11. Two no-shows: Feb 12,
    its $75.00 fee charged; Mar 1, its fee waived."""
    contact = subscription.contact
    for quantity, reason, when in ((4, CreditReason.PERIOD_GRANT, at(1, 10)),
                                   (-1, CreditReason.BOOKING, at(1, 15)),
                                   (1, CreditReason.BOOKING_RETURN, at(1, 16)),
                                   (-1, CreditReason.BOOKING, at(1, 20)),
                                   (-3, CreditReason.EXPIRY, at(2, 10)),
                                   (2, CreditReason.MANUAL_ADD, at(2, 11))):
        make_credit(contact=contact, service=service, quantity=quantity, reason=reason,
                    subscription_id=subscription.id, created_at=when)
    fee = make_payment(contact=contact, amount_minor=7500, purpose=PaymentPurpose.NO_SHOW_FEE,
                       created_at=at(2, 12, 12), paid_at=at(2, 12, 12))
    make_appointment(contact=contact, service=service, starts_at=at(2, 12, 10),
                     status=AppointmentStatus.NO_SHOW,
                     no_show_fee_status=NoShowFeeStatus.CHARGED, no_show_fee_payment_id=fee.id)
    make_appointment(contact=contact, service=service, starts_at=at(3, 1, 10),
                     status=AppointmentStatus.NO_SHOW,
                     no_show_fee_status=NoShowFeeStatus.WAIVED, no_show_waive_reason="Ill")
    make_appointment(contact=contact, service=service, starts_at=at(3, 2, 10),
                     status=AppointmentStatus.ATTENDED)
