"""A paid period's service credits: the plan's credits per period, granted once per (period,
service) as ``period_grant`` ledger entries that expire at the period's end.

Granted when the period is paid (``period_billing.settle_period_paid``), never before: a past
due or unpaid period grants nothing until it is paid. Granting again changes nothing (the
ledger's unique (period, service) index for period grants backs the check below).
"""

from __future__ import annotations

from sqlalchemy import select

from ..actors import Actor
from ..extensions import db
from ..models import BillingPeriod, CreditEntry, CreditReason, Service


def grant_period_credits(period: BillingPeriod, *, actor: Actor) -> dict[Service, int]:
    """Grant the credits of ``period``'s plan for the period (expiring at its end); returns
    {service: credits} granted now (empty when they were granted before)."""
    already = set(db.session.scalars(select(CreditEntry.service_id).where(
        CreditEntry.period_id == period.id, CreditEntry.reason == CreditReason.PERIOD_GRANT)))
    subscription = period.subscription
    granted = {}
    for line in period.plan.services:
        if line.service_id in already or line.credits_per_period <= 0:
            continue
        db.session.add(CreditEntry(
            contact_id=subscription.contact_id, service_id=line.service_id,
            subscription_id=subscription.id, period_id=period.id,
            quantity=line.credits_per_period, reason=CreditReason.PERIOD_GRANT,
            note=f"Period {period.number} of {period.plan.name}"[:200],
            expires_at=period.ends_at, created_by_id=actor.id))
        granted[line.service] = line.credits_per_period
    db.session.flush()
    return granted
