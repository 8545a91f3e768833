"""Monthly recurring revenue (MRR) and members, from the billing periods.

**MRR at a moment**: for every subscription whose billing period covering that moment is
active (``paid``, ``due`` — being charged —, ``invoiced``) or ``past_due`` — not ``unpaid``,
not ``void`` — and which was not cancelled by then, the period's price after the promo
discount (``amount_minor``), per month: weekly × 52 / 12, monthly × 1, quarterly ÷ 3,
yearly ÷ 12, divided by the plan's interval count; rounded to the minor unit per
subscription. Summed per currency, never across currencies.

A month's figures compare each subscription's MRR at the month's start (= the previous
month's end) with its MRR at the month's end (or now, for the month still running):

- **new**: none before, some now, and no paid period before the month;
- **reactivation**: none before, some now, but paid periods earlier (it had lapsed: unpaid,
  or its billing stopped);
- **expansion** / **contraction**: more / less than before (an upgrade, a downgrade, a promo
  ending or starting);
- **churn**: some before, none now (cancelled, or its period went unpaid or void).

So ``MRR at the end = MRR at the start + new + reactivation + expansion − contraction −
churn``, month after month. For one plan the same is computed over that plan's periods only:
a member moving between plans churns from one and is new (or reactivated) in the other, and is
expansion or contraction in all plans together.

**Members** are contacts with at least one subscription counted in MRR. A month's *new
members* had none at its start (first-timers and returning members), *cancelled* had one at
its start and none at its end; subscriber churn rate = cancelled ÷ (members at the start +
new).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import String, or_, select, type_coerce

from ..extensions import db
from ..models import ALL_PLANS, BillingInterval, BillingPeriod, PeriodStatus, Plan, Subscription
from .figures import Figure, Tally, unindexed

COUNTED = (PeriodStatus.PAID, PeriodStatus.DUE, PeriodStatus.INVOICED, PeriodStatus.PAST_DUE)
PAID_BEFORE = (PeriodStatus.PAID, PeriodStatus.INVOICED)
PER_MONTH = {BillingInterval.WEEK: Fraction(52, 12), BillingInterval.MONTH: Fraction(1),
             BillingInterval.QUARTER: Fraction(1, 3), BillingInterval.YEAR: Fraction(1, 12)}
MOVEMENTS = ("new", "reactivation", "expansion", "contraction", "churn")
_CHUNK = 500


@lru_cache(maxsize=4096)
def monthly_minor(amount_minor: int, interval: BillingInterval | str, interval_count: int) -> int:
    """A period's price per month, in minor units, half up: ``monthly_minor(1000, week, 1)``
    is 4333 (10.00 × 52 / 12 = 43.333…)."""
    ratio = PER_MONTH[BillingInterval(interval)]
    num, den = amount_minor * ratio.numerator, ratio.denominator * interval_count
    return (2 * num + den) // (2 * den)


class Billed(NamedTuple):
    """A subscription counted in MRR at a moment."""

    subscription_id: int
    contact_id: int
    plan_id: int
    currency: str
    mrr_minor: int


def billed_at(moment: datetime) -> dict[int, Billed]:
    """Every subscription counted in MRR at ``moment``: its period covering the instant just
    before ``moment`` (a period ending exactly then still counts, the next one not yet)."""
    rows = db.session.execute(
        select(BillingPeriod.subscription_id, Subscription.contact_id, BillingPeriod.plan_id,
               BillingPeriod.currency, BillingPeriod.amount_minor,
               type_coerce(Plan.interval, String), Plan.interval_count)
        .join(Subscription, Subscription.id == BillingPeriod.subscription_id)
        .join(Plan, Plan.id == BillingPeriod.plan_id)
        .where(BillingPeriod.ends_at >= moment, BillingPeriod.starts_at < moment,
               unindexed(BillingPeriod.status).in_(COUNTED),
               or_(Subscription.canceled_at.is_(None), Subscription.canceled_at >= moment)))
    found: dict[int, Billed] = {}
    for sub_id, contact_id, plan_id, currency, amount, interval, count in rows:
        # Overlapping periods of one subscription (not expected): the later row wins.
        found[sub_id] = Billed(sub_id, contact_id, plan_id, currency,
                               monthly_minor(amount, interval, count))
    return found


def paid_before(subscription_ids: set[int], moment: datetime) -> set[tuple[int, int]]:
    """(subscription, plan) pairs with a paid (or invoiced) period starting before
    ``moment``: what tells a reactivation from a new subscription."""
    found: set[tuple[int, int]] = set()
    ids = sorted(subscription_ids)
    for i in range(0, len(ids), _CHUNK):
        found.update(db.session.execute(
            select(BillingPeriod.subscription_id, BillingPeriod.plan_id).distinct()
            .where(BillingPeriod.subscription_id.in_(ids[i:i + _CHUNK]),
                   BillingPeriod.starts_at < moment,
                   BillingPeriod.status.in_(PAID_BEFORE))).all())
    return found


def mrr_figures(start: datetime, end: datetime) -> list[Figure]:
    """MRR and members figures of the month ``[start, end)`` (``end`` = now while it runs).

    Metrics: ``mrr_start``, ``mrr_end``, ``mrr_<movement>`` (per currency, positive
    amounts: churn and contraction are subtracted), ``members_start``, ``members_end``,
    ``members_new``, ``members_cancelled`` (counts)."""
    before, after = billed_at(start), billed_at(end)
    returning = paid_before({s for s in after if s not in before}, start)
    returning_subs = {sub_id for sub_id, _ in returning}
    tally = Tally()
    for billed in before.values():
        tally.add("mrr_start", billed.plan_id, billed.currency, billed.mrr_minor)
    for billed in after.values():
        tally.add("mrr_end", billed.plan_id, billed.currency, billed.mrr_minor)
    for sub_id in before.keys() | after.keys():
        old, new = before.get(sub_id), after.get(sub_id)
        # All plans together, then each plan's own view (a plan change leaves one plan).
        _move(tally, ALL_PLANS, old, new, returning=sub_id in returning_subs)
        for plan_id in {b.plan_id for b in (old, new) if b is not None}:
            _move(tally, plan_id, old if old and old.plan_id == plan_id else None,
                  new if new and new.plan_id == plan_id else None,
                  returning=(sub_id, plan_id) in returning)
    _members(tally, before, after)
    return tally.figures()


def _move(tally: Tally, plan_id: int, old: Billed | None, new: Billed | None, *,
          returning: bool) -> None:
    if old is not None and new is not None and old.currency != new.currency:
        # Another currency is another business: churn in one, new in the other.
        _move(tally, plan_id, old, None, returning=returning)
        _move(tally, plan_id, None, new, returning=True)
        return
    if old is None and new is not None:
        tally.put("mrr_reactivation" if returning else "mrr_new", plan_id, new.currency,
                  new.mrr_minor)
    elif old is not None and new is None:
        tally.put("mrr_churn", plan_id, old.currency, old.mrr_minor)
    elif old is not None and new is not None and new.mrr_minor != old.mrr_minor:
        kind = "mrr_expansion" if new.mrr_minor > old.mrr_minor else "mrr_contraction"
        tally.put(kind, plan_id, old.currency, abs(new.mrr_minor - old.mrr_minor))


def _members(tally: Tally, before: dict[int, Billed], after: dict[int, Billed]) -> None:
    """Contacts with a counted subscription at the start and at the end, per plan and in all."""
    def members(billed: dict[int, Billed]) -> dict[int, set[int]]:
        found: dict[int, set[int]] = defaultdict(set)
        for b in billed.values():
            found[ALL_PLANS].add(b.contact_id)
            found[b.plan_id].add(b.contact_id)
        return found

    start, end = members(before), members(after)
    for plan_id in start.keys() | end.keys():
        was, now = start.get(plan_id, set()), end.get(plan_id, set())
        tally.put("members_start", plan_id, "", len(was))
        tally.put("members_end", plan_id, "", len(now))
        tally.put("members_new", plan_id, "", len(now - was))
        tally.put("members_cancelled", plan_id, "", len(was - now))


__all__ = ["monthly_minor", "billed_at", "mrr_figures", "MOVEMENTS", "COUNTED"]
