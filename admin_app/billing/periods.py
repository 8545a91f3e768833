"""Billing periods on the calendar, counted from the subscription's anchor in the clinic's
time zone.

A subscription's periods are cut from its **anchor** (``Subscription.billing_anchor_at``, the
start of its first period): period *n* (0 = the first) starts *n* × the plan's interval ×
``interval_count`` after the anchor, on the clinic's wall clock, and ends where period *n + 1*
starts. Month-based intervals land on the anchor's day of the month, clamped to the month's
last day, and come back to it when the month has it: anchored on the 31st, a monthly
subscription renews on Jan 31, Feb 28 (29 in a leap year), Mar 31, Apr 30. A leap-day anchor
renews yearly on Feb 28 in other years. Weekly periods are 7 × count days on the wall clock.

Because every start is computed from the anchor (never from the previous period), clamping
never drifts, and because it is computed on the clinic's wall clock, a period starts at the
same local time of day across daylight-saving changes (a local time the clock skips, 02:30 on
the night clocks go forward, is read with the offset before the change; one that happens twice
is the first). Times are stored in UTC.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ..models import BillingInterval, Plan

MONTHS_PER_INTERVAL = {BillingInterval.MONTH: 1, BillingInterval.QUARTER: 3,
                       BillingInterval.YEAR: 12}


def add_months(moment: datetime, months: int) -> datetime:
    """Same day ``months`` later, clamped to the month's last day (no time zone arithmetic:
    the caller's wall clock)."""
    year, month0 = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def add_interval(moment: datetime, interval: BillingInterval | str, count: int = 1) -> datetime:
    """``moment`` moved by ``count`` billing intervals (negative goes back), on its own wall
    clock. Periods of a subscription use ``period_start`` instead (anchor-based)."""
    interval = BillingInterval(interval)
    if interval is BillingInterval.WEEK:
        return moment + timedelta(weeks=count)
    return add_months(moment, MONTHS_PER_INTERVAL[interval] * count)


def _wall(anchor: datetime, zone: ZoneInfo) -> datetime:
    """The anchor as a naive wall-clock time of ``zone``."""
    return anchor.astimezone(zone).replace(tzinfo=None)


def _from_wall(wall: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall-clock time of ``zone`` as an aware UTC moment (fold 0: a skipped time is
    read with the offset before the change, a repeated one is its first occurrence)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def period_start(anchor: datetime, interval: BillingInterval | str, count: int, index: int,
                 zone: ZoneInfo) -> datetime:
    """The start (UTC) of period ``index`` (0 = the first) of a subscription anchored at
    ``anchor`` on a plan of ``count`` × ``interval``, on ``zone``'s calendar."""
    interval, wall = BillingInterval(interval), _wall(anchor, zone)
    if interval is BillingInterval.WEEK:
        return _from_wall(wall + timedelta(weeks=count * index), zone)
    return _from_wall(add_months(wall, MONTHS_PER_INTERVAL[interval] * count * index), zone)


def period_index(anchor: datetime, interval: BillingInterval | str, count: int,
                 start: datetime, zone: ZoneInfo) -> int | None:
    """Which period of the anchor's calendar starts exactly at ``start`` (``None``: none does,
    e.g. after a change to a plan of another interval)."""
    interval = BillingInterval(interval)
    wall, target = _wall(anchor, zone), _wall(start, zone)
    if interval is BillingInterval.WEEK:
        guess = (target - wall).days // (7 * count)
    else:
        months = (target.year - wall.year) * 12 + target.month - wall.month
        guess = months // (MONTHS_PER_INTERVAL[interval] * count)
    for index in (guess, guess - 1, guess + 1):
        if index >= 0 and period_start(anchor, interval, count, index, zone) == start:
            return index
    return None


def period_after(anchor: datetime, plan: Plan, start: datetime,
                 zone: ZoneInfo) -> tuple[datetime, datetime, datetime]:
    """The period of ``plan`` starting at ``start`` on the calendar of ``anchor``:
    ``(anchor, start, end)``. When ``start`` is not one of the anchor's period starts (the plan's
    interval changed), ``start`` becomes the new anchor."""
    index = period_index(anchor, plan.interval, plan.interval_count, start, zone)
    if index is None:
        anchor, index = start, 0
    return anchor, start, period_start(anchor, plan.interval, plan.interval_count, index + 1,
                                       zone)


def period_containing(anchor: datetime, plan: Plan, moment: datetime,
                      zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The period of the anchor's calendar that contains ``moment`` (its start ≤ moment <
    its end); the first period when ``moment`` is before the anchor."""
    if moment < anchor:
        return anchor, period_start(anchor, plan.interval, plan.interval_count, 1, zone)
    interval, count = BillingInterval(plan.interval), plan.interval_count
    wall, target = _wall(anchor, zone), _wall(moment, zone)
    if interval is BillingInterval.WEEK:
        index = max(0, (target - wall).days // (7 * count) - 1)
    else:
        months = (target.year - wall.year) * 12 + target.month - wall.month
        index = max(0, months // (MONTHS_PER_INTERVAL[interval] * count) - 1)
    while period_start(anchor, interval, count, index + 1, zone) <= moment:
        index += 1
    return (period_start(anchor, interval, count, index, zone),
            period_start(anchor, interval, count, index + 1, zone))


def first_period(plan: Plan, start: datetime,
                 zone: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """The first billing period of a subscription to ``plan`` starting (anchored) at
    ``start``, on the clinic's calendar."""
    if zone is None:
        from ..clinic_time import clinic_zone

        zone = clinic_zone()
    return start, period_start(start, plan.interval, plan.interval_count, 1, zone)
