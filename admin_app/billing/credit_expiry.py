"""Credits expire: each lot (``credit_lots``) is closed once, at its expiry, by ledger entries
dated the moment it expired.

- **Expire** (a plan's default, and every lot not granted by a plan): what is left of the lot
  becomes an ``expiry`` entry of −left.
- **Roll over** (``Plan.unused_credits == roll_over``, on the plan of the period that granted
  the lot, while the subscription goes on past the lot's end): up to one period's allotment of
  that service moves into the next period as a pair of ``rollover`` entries (−n out of the
  lot, +n expiring at the end of the next period); the rest expires. Rolled-over credits never
  roll again: they are used first within their lot and expire at its end.

**Exactly once.** Closing a lot writes its ``credit_lot_closing`` row (unique per contact,
service and expiry) in the same transaction as its entries, with the contact row locked:
running the expiry twice, or two runs at once, closes each lot once. A contact's lots are
closed in a transaction of their own, so a run killed halfway resumes where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.exc import IntegrityError

from ..clinic_time import clinic_zone, format_clinic
from ..clock import utcnow
from ..extensions import db
from ..models import (
    BillingPeriod,
    Contact,
    CreditEntry,
    CreditLotClosing,
    CreditReason,
    PlanService,
    Subscription,
    SubscriptionStatus,
    UnusedCredits,
)
from .credit_lots import credit_lots
from .locks import lock
from .periods import period_after

BATCH = 500


@dataclass
class ExpiryReport:
    lots_closed: int = 0
    expired: int = 0
    rolled_over: int = 0
    contacts: set = field(default_factory=set)


def _due_lots(until: datetime, limit: int):
    """(contact, service, expires_at) of lots due by ``until`` and not closed yet, oldest
    first."""
    closed = exists().where(and_(CreditLotClosing.contact_id == CreditEntry.contact_id,
                                 CreditLotClosing.service_id == CreditEntry.service_id,
                                 CreditLotClosing.expires_at == CreditEntry.expires_at))
    return db.session.execute(
        select(CreditEntry.contact_id, CreditEntry.service_id, CreditEntry.expires_at)
        .where(CreditEntry.expires_at.is_not(None), CreditEntry.expires_at <= until,
               CreditEntry.quantity > 0, ~closed)
        .group_by(CreditEntry.contact_id, CreditEntry.service_id, CreditEntry.expires_at)
        .order_by(CreditEntry.expires_at, CreditEntry.contact_id, CreditEntry.service_id)
        .limit(limit)).all()


def _granting_subscription(contact_id: int, service_id: int, expires_at: datetime):
    """The latest plan grant into the lot: (subscription, plan of its period) or None."""
    grant = db.session.scalar(
        select(CreditEntry).where(
            CreditEntry.contact_id == contact_id, CreditEntry.service_id == service_id,
            CreditEntry.expires_at == expires_at, CreditEntry.subscription_id.is_not(None),
            CreditEntry.reason.in_((CreditReason.PERIOD_GRANT, CreditReason.PLAN_CHANGE)))
        .order_by(CreditEntry.created_at.desc(), CreditEntry.id.desc()).limit(1))
    if grant is None:
        return None
    subscription = db.session.get(Subscription, grant.subscription_id)
    period = db.session.get(BillingPeriod, grant.period_id) if grant.period_id else None
    return subscription, (period.plan if period is not None else subscription.plan)


def _goes_on_after(subscription: Subscription, moment: datetime) -> bool:
    """Whether the subscription continues past ``moment`` (not cancelled by then)."""
    if subscription.status is SubscriptionStatus.CANCELED:
        return False
    if subscription.canceled_at is not None and subscription.canceled_at <= moment:
        return False
    return not (subscription.cancel_at_period_end and subscription.current_period_end <= moment)


def next_period_end(subscription: Subscription, plan, starts_at: datetime) -> datetime:
    """The end of the subscription's period starting at ``starts_at``: its billing period row
    when the renewal opened it, else the current period when it starts then, else the next
    period on the subscription's anchor calendar (the clinic's zone)."""
    period = db.session.scalar(select(BillingPeriod).where(
        BillingPeriod.subscription_id == subscription.id, BillingPeriod.starts_at == starts_at))
    if period is not None:
        return period.ends_at
    if subscription.current_period_start == starts_at:
        return subscription.current_period_end
    anchor = subscription.billing_anchor_at or starts_at
    return period_after(anchor, plan, starts_at, clinic_zone())[2]


def _rollover(contact_id: int, service_id: int, expires_at: datetime, rollable: int):
    """(credits rolling over, subscription, new expiry) for the lot, or (0, None, None)."""
    granted = _granting_subscription(contact_id, service_id, expires_at)
    if granted is None or rollable <= 0:
        return 0, None, None
    subscription, plan = granted
    if plan.unused_credits is not UnusedCredits.ROLL_OVER \
            or not _goes_on_after(subscription, expires_at):
        return 0, None, None
    allotment = db.session.scalar(select(PlanService.credits_per_period).where(
        PlanService.plan_id == plan.id, PlanService.service_id == service_id)) or 0
    rolling = min(rollable, allotment)
    if rolling <= 0:
        return 0, None, None
    return rolling, subscription, next_period_end(subscription, plan, expires_at)


def close_lot(contact_id: int, service_id: int, expires_at: datetime) -> CreditLotClosing | None:
    """Close one lot in the current transaction (the caller commits): lock the contact, then
    roll over and expire what is left. ``None`` when it was closed already."""
    lock(Contact, contact_id)
    already = db.session.scalar(select(CreditLotClosing.id).where(
        CreditLotClosing.contact_id == contact_id, CreditLotClosing.service_id == service_id,
        CreditLotClosing.expires_at == expires_at))
    if already is not None:
        return None
    lot = credit_lots(contact_id, service_id).get(expires_at)
    left = max(lot.remaining, 0) if lot is not None else 0
    rolling, subscription, rolls_to = _rollover(contact_id, service_id, expires_at,
                                                lot.rollable if lot is not None else 0)
    ended = format_clinic(expires_at)
    common = {"contact_id": contact_id, "service_id": service_id, "created_at": expires_at}
    if rolling:
        db.session.add_all([
            CreditEntry(**common, quantity=-rolling, reason=CreditReason.ROLLOVER,
                        expires_at=expires_at, subscription_id=subscription.id,
                        note=f"Rolled over to the period ending {format_clinic(rolls_to)}"),
            CreditEntry(**common, quantity=rolling, reason=CreditReason.ROLLOVER,
                        expires_at=rolls_to, subscription_id=subscription.id,
                        note=f"Rolled over from the period ended {ended}")])
    if left - rolling > 0:
        db.session.add(CreditEntry(**common, quantity=rolling - left, reason=CreditReason.EXPIRY,
                                   expires_at=expires_at,
                                   note=f"Unused credits expired {ended}"))
    closing = CreditLotClosing(contact_id=contact_id, service_id=service_id,
                               expires_at=expires_at, expired=left - rolling,
                               rolled_over=rolling, closed_at=utcnow())
    db.session.add(closing)
    db.session.flush()
    return closing


def close_due_lots(until: datetime | None = None) -> ExpiryReport:
    """Close every lot due by ``until`` (now), one contact per transaction, including lots
    that rolling over made due (a run far behind the clock)."""
    until = until or utcnow()
    report = ExpiryReport()
    while True:
        by_contact: dict[int, list] = {}
        for contact_id, service_id, expires_at in _due_lots(until, BATCH):
            by_contact.setdefault(contact_id, []).append((service_id, expires_at))
        db.session.rollback()
        closed_now = 0
        for contact_id, lots in by_contact.items():
            try:
                closings = [close_lot(contact_id, service_id, expires_at)
                            for service_id, expires_at in lots]
                db.session.commit()
            except IntegrityError:  # another run closed them meanwhile (SQLite: no row locks)
                db.session.rollback()
                continue
            for closing in filter(None, closings):
                closed_now += 1
                report.lots_closed += 1
                report.expired += closing.expired
                report.rolled_over += closing.rolled_over
                report.contacts.add(contact_id)
        if closed_now == 0:  # nothing left, or only lots another run is closing
            return report


def expire_due_credits(until: datetime | None = None) -> int:
    """Expire (or roll over) every credit lot due by ``until`` (now); returns how many credits
    expired. Safe to run twice, and by two processes at once."""
    return close_due_lots(until).expired
