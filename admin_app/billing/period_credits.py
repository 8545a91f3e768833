"""A subscription's service credits for its current period: what is left of them, and how they
follow a plan change. Used inside the subscription actions' unit of work.

Rules (they are the ones the review and confirmation pages show):

- **The period's remaining credits** of a service are what this subscription put in the ledger
  since the current period began (grants, plan changes, bookings against it; not the expiry of
  an earlier period), never more than the contact's balance and never below zero. Cancelling
  with "remove credits" takes exactly these away.
- **A plan change** moves each service by the difference of credits per period between the new
  and the old plan, scaled by the unused share of the period and rounded half up (upgrading
  from 4 to 8 sessions half-way through the month grants 2). Added credits expire at the period
  end like the period's grant; removed credits never exceed the period's remaining credits.
"""

from __future__ import annotations

from sqlalchemy import func, select

from ..actors import Actor
from ..extensions import db
from ..models import (
    CreditEntry,
    CreditReason,
    Plan,
    Service,
    Subscription,
)
from .credits import credit_balance
from .proration import PeriodShare, prorate_credits


def remaining_period_credits(subscription: Subscription) -> dict[Service, int]:
    """{service: credits left of the current period}, services with something left only."""
    rows = db.session.execute(
        select(CreditEntry.service_id, func.sum(CreditEntry.quantity))
        .where(CreditEntry.subscription_id == subscription.id,
               CreditEntry.created_at >= subscription.current_period_start,
               CreditEntry.reason != CreditReason.EXPIRY)
        .group_by(CreditEntry.service_id).order_by(CreditEntry.service_id)).all()
    remaining = {}
    for service_id, total in rows:
        left = min(int(total), credit_balance(subscription.contact_id, service_id))
        if left > 0:
            remaining[db.session.get(Service, service_id)] = left
    return remaining


def _credits_per_period(plan: Plan) -> dict[int, int]:
    return {line.service_id: line.credits_per_period for line in plan.services}


def plan_change_credits(subscription: Subscription, new_plan: Plan,
                        share: PeriodShare) -> dict[Service, int]:
    """{service: signed credits} that moving ``subscription`` to ``new_plan`` gives or takes
    for the unused ``share`` of the period (removals already limited to what is left)."""
    old, new = _credits_per_period(subscription.plan), _credits_per_period(new_plan)
    remaining = {service.id: left for service, left in remaining_period_credits(subscription)
                 .items()}
    changes = {}
    for service_id in sorted(old.keys() | new.keys()):
        change = prorate_credits(new.get(service_id, 0) - old.get(service_id, 0), share)
        if change < 0:
            change = -min(-change, remaining.get(service_id, 0))
        if change:
            changes[db.session.get(Service, service_id)] = change
    return changes


def write_credit_changes(subscription: Subscription, changes: dict[Service, int], *,
                         reason: CreditReason, note: str, actor: Actor) -> dict[str, int]:
    """Ledger entries for ``changes`` (additions expire at the period end); returns
    {service id: quantity} for the audit entry."""
    for service, quantity in changes.items():
        db.session.add(CreditEntry(
            contact_id=subscription.contact_id, service_id=service.id,
            subscription_id=subscription.id, quantity=quantity, reason=reason, note=note[:200],
            expires_at=subscription.current_period_end if quantity > 0 else None,
            created_by_id=actor.id))
    db.session.flush()
    return {str(service.id): quantity for service, quantity in changes.items()}


def describe_credit_changes(changes: dict[Service, int]) -> str:
    """ "+2 Physio, −1 Yoga" or "none" """
    if not changes:
        return "none"
    return ", ".join(f"{'+' if q > 0 else '−'}{abs(q)} {service}" for service, q in changes.items())
