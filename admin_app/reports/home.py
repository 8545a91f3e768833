"""Home: the headline figures with their change against the previous month, and the to-do
list (what needs doing, each a count linked to the filtered list behind it). The billing
cycle's own queries (renewals due, failed renewals today) are ``billing.renewal_outlook``'s."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import func, select

from ..billing.renewal_outlook import expected_revenue, failed_renewals_today, renewals_due
from ..clinic_time import clinic_zone
from ..clock import utcnow
from ..documents import failed_deliveries_count
from ..extensions import db
from ..models import (
    ALL_PLANS,
    Appointment,
    AppointmentStatus,
    CashierSettings,
    NoShowFeeStatus,
    Payment,
    PaymentMethodKind,
    PaymentStatus,
    Plan,
    Refund,
    RefundStatus,
    Subscription,
    SubscriptionStatus,
)
from .calendar import month_of
from .series import MonthFigures, read_months


@dataclass
class Headline:
    """One headline figure: this period's value and the previous one's (None: no rate)."""

    label: str
    currency: str  # "" for a count or a rate
    now: int | Fraction | None
    before: int | Fraction | None
    kind: str  # money, count, rate
    report: str  # the report's slug
    higher_is_better: bool = True  # refunds: a rise is shown in red


def headlines(now: datetime | None = None) -> tuple[list[Headline], datetime | None]:
    """MRR and active members (now against the end of last month), revenue and refunds (this
    month so far against last month), failed-payment recovery rate (this month's failures
    against last month's); money per currency. Also the moment the figures describe."""
    now = now or utcnow()
    zone = clinic_zone()
    current = month_of(now, zone)
    last, this = read_months([current.previous(), current], plan_id=ALL_PLANS, now=now,
                             zone=zone)
    found: list[Headline] = []
    settings = db.session.get(CashierSettings, 1)
    home_currency = settings.currency if settings else ""  # the clinic's currency first
    currencies = sorted(this.currencies() | last.currencies(),
                        key=lambda c: (c != home_currency, c))
    for c in currencies:
        if this.value("mrr_end", c) or this.value("mrr_start", c):
            found.append(Headline("MRR", c, this.value("mrr_end", c),
                                  this.value("mrr_start", c), "money", "mrr"))
    found.append(Headline("Active members", "", this.value("members_end"),
                          this.value("members_start"), "count", "members"))
    for c in currencies:
        if _net(this, c) or _net(last, c):
            found.append(Headline("Revenue this month", c, _net(this, c), _net(last, c),
                                  "money", "revenue"))
    for c in currencies:
        refunds = this.total("revenue_refunds", c), last.total("revenue_refunds", c)
        if any(refunds):
            found.append(Headline("Refunds this month", c, *refunds, "money", "revenue",
                                  higher_is_better=False))
    for c in currencies:
        if this.value("failed_count", c) or last.value("failed_count", c):
            found.append(Headline("Failed-payment recovery", c, _recovery(this, c),
                                  _recovery(last, c), "rate", "failed-payments"))
    return found, this.as_of


def _net(month: MonthFigures, currency: str) -> int:
    return month.total("revenue_payments", currency) - month.total("revenue_refunds", currency)


def _recovery(month: MonthFigures, currency: str) -> Fraction | None:
    failed = month.value("failed_count", currency)
    recovered = (month.value("recovered_retry_count", currency)
                 + month.value("recovered_card_count", currency))
    return Fraction(recovered, failed) if failed else None


FILTER_TIME = "%Y-%m-%d %H:%M:%S"


@dataclass
class RenewalsDue:
    count: int
    expected_minor: dict[str, int]  # per currency
    after_promo: bool  # False: at list price (too many to price one by one on Home)


# Up to this many renewals, Home prices each one as the renewal will (promo included).
PRICED_ONE_BY_ONE = 200


def renewals_due_soon(days: int = 7, now: datetime | None = None) -> RenewalsDue:
    """Active subscriptions renewing within ``days`` (not ending at their period end) and what
    they should bring in, per currency: each renewal's price after its promo
    (``billing.renewal_outlook``) when there are a few, else the price of the plan they renew
    on (a scheduled change's plan) before promo discounts, summed in the database."""
    now = now or utcnow()
    plan_of = func.coalesce(Subscription.scheduled_plan_id, Subscription.plan_id)
    rows = db.session.execute(
        select(Plan.currency, func.count(), func.sum(Plan.price_minor))
        .select_from(Subscription).join(Plan, Plan.id == plan_of)
        .where(Subscription.status == SubscriptionStatus.ACTIVE,
               Subscription.cancel_at_period_end.is_(False),
               Subscription.current_period_end >= now,
               Subscription.current_period_end < now + timedelta(days=days))
        .group_by(Plan.currency)).all()
    count = sum(n for _, n, _ in rows)
    if count <= PRICED_ONE_BY_ONE:
        return RenewalsDue(count, expected_revenue(renewals_due(days, now=now)), True)
    return RenewalsDue(count, {currency: int(total or 0) for currency, _, total in rows}, False)


@dataclass
class ToDo:
    past_due: int
    unpaid: int
    failed_renewals_today: int
    pending_payments: int
    pending_refunds: int
    open_no_shows: int
    renewals: RenewalsDue
    # The lists' filter values (clinic time, "YYYY-MM-DD HH:MM:SS"): since today's start, and
    # the renewals' window (now to 7 days on).
    since_today: str = ""
    renewal_window: str = ""
    # Documents whose latest email / SMS failed or was not confirmed (``documents.delivery``).
    failed_deliveries: int = 0


def todo(now: datetime | None = None) -> ToDo:
    now = now or utcnow()
    zone = clinic_zone()
    today = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    by_status = dict(db.session.execute(
        select(Subscription.status, func.count())
        .where(Subscription.status.in_((SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID)))
        .group_by(Subscription.status)).all())
    count = lambda query: db.session.scalar(query) or 0  # noqa: E731
    return ToDo(
        past_due=by_status.get(SubscriptionStatus.PAST_DUE, 0),
        unpaid=by_status.get(SubscriptionStatus.UNPAID, 0),
        failed_renewals_today=len(failed_renewals_today(now=now)),
        pending_payments=count(
            select(func.count()).select_from(Payment)
            .where(Payment.status == PaymentStatus.PENDING,
                   Payment.method == PaymentMethodKind.CARD)),
        pending_refunds=count(select(func.count()).select_from(Refund)
                              .where(Refund.status == RefundStatus.PENDING)),
        failed_deliveries=failed_deliveries_count(),
        open_no_shows=count(
            select(func.count()).select_from(Appointment)
            .where(Appointment.status == AppointmentStatus.NO_SHOW,
                   Appointment.no_show_fee_status == NoShowFeeStatus.NONE)),
        renewals=renewals_due_soon(now=now),
        since_today=today.strftime(FILTER_TIME),
        renewal_window=f"{now.astimezone(zone).strftime(FILTER_TIME)} to "
                       f"{(now + timedelta(days=7)).astimezone(zone).strftime(FILTER_TIME)}",
    )
