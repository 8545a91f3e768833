"""Credits and appointments, per service.

- **credits granted**: period grants and credits added by hand (ledger entries
  ``period_grant``, ``manual_add``), in the month they were written;
- **credits used**: bookings less the credits returned by a cancellation in time;
- **credits expired**: the ledger's expiry entries (rolled-over credits are not new credits);
- **no-shows**: appointments marked no-show, in the month of the appointment; their **fees
  charged** (count, and the fee payments' amounts per currency) and **fees waived**.

With a plan chosen, credits count when they belong to a subscription of that plan;
appointments belong to no plan and show under all plans.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select

from ..extensions import db
from ..models import (
    Appointment,
    AppointmentStatus,
    CreditEntry,
    CreditReason,
    NoShowFeeStatus,
    Payment,
    Subscription,
)
from .figures import Figure, Tally, unindexed
from .revenue import PAID

CREDIT_METRICS = {
    CreditReason.PERIOD_GRANT: ("credits_granted", 1),
    CreditReason.MANUAL_ADD: ("credits_granted", 1),
    CreditReason.BOOKING: ("credits_used", -1),
    CreditReason.BOOKING_RETURN: ("credits_used", -1),
    CreditReason.EXPIRY: ("credits_expired", -1),
}


def usage_figures(start: datetime, end: datetime) -> list[Figure]:
    """``credits_granted``, ``credits_used``, ``credits_expired``, ``no_shows``,
    ``no_show_fees_charged``, ``no_show_fees_waived`` (counts per service id) and
    ``no_show_fees_minor`` (per currency and service id)."""
    tally = Tally()
    credits = db.session.execute(
        select(CreditEntry.service_id, CreditEntry.reason, Subscription.plan_id,
               func.sum(CreditEntry.quantity))
        .outerjoin(Subscription, Subscription.id == CreditEntry.subscription_id)
        .where(CreditEntry.created_at >= start, CreditEntry.created_at < end,
               CreditEntry.reason.in_(tuple(CREDIT_METRICS)))
        .group_by(CreditEntry.service_id, CreditEntry.reason, Subscription.plan_id))
    for service_id, reason, plan_id, total in credits:
        metric, sign = CREDIT_METRICS[reason]
        tally.add(metric, plan_id, "", sign * int(total), dimension=str(service_id))
    charged = case((Appointment.no_show_fee_status == NoShowFeeStatus.CHARGED, 1), else_=0)
    waived = case((Appointment.no_show_fee_status == NoShowFeeStatus.WAIVED, 1), else_=0)
    no_shows = db.session.execute(
        select(Appointment.service_id, func.count(), func.sum(charged), func.sum(waived))
        .where(Appointment.starts_at >= start, Appointment.starts_at < end,
               unindexed(Appointment.status) == AppointmentStatus.NO_SHOW)
        .group_by(Appointment.service_id))
    for service_id, count, charged_count, waived_count in no_shows:
        tally.add("no_shows", None, "", int(count), dimension=str(service_id))
        tally.add("no_show_fees_charged", None, "", int(charged_count or 0),
                  dimension=str(service_id))
        tally.add("no_show_fees_waived", None, "", int(waived_count or 0),
                  dimension=str(service_id))
    fees = db.session.execute(
        select(Appointment.service_id, Payment.currency, func.sum(Payment.amount_minor))
        .join(Payment, Payment.id == Appointment.no_show_fee_payment_id)
        .where(Appointment.starts_at >= start, Appointment.starts_at < end,
               unindexed(Appointment.status) == AppointmentStatus.NO_SHOW,
               Appointment.no_show_fee_status == NoShowFeeStatus.CHARGED,
               Payment.status.in_(PAID))
        .group_by(Appointment.service_id, Payment.currency))
    for service_id, currency, total in fees:
        tally.add("no_show_fees_minor", None, currency, int(total), dimension=str(service_id))
    return tally.figures()
