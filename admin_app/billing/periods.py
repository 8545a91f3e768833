"""Billing periods on the calendar: a period lasts the plan's interval × count, month-based
intervals landing on the same day of the month (clamped: Jan 31 + 1 month = Feb 28)."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from ..models import BillingInterval, Plan

MONTHS_PER_INTERVAL = {BillingInterval.MONTH: 1, BillingInterval.QUARTER: 3,
                       BillingInterval.YEAR: 12}


def add_months(moment: datetime, months: int) -> datetime:
    """Same day ``months`` later, clamped to the month's last day."""
    year, month0 = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def add_interval(moment: datetime, interval: BillingInterval | str, count: int = 1) -> datetime:
    """``moment`` moved by ``count`` billing intervals (negative goes back)."""
    interval = BillingInterval(interval)
    if interval is BillingInterval.WEEK:
        return moment + timedelta(weeks=count)
    return add_months(moment, MONTHS_PER_INTERVAL[interval] * count)


def first_period(plan: Plan, start: datetime) -> tuple[datetime, datetime]:
    """The first billing period of a subscription to ``plan`` starting at ``start``."""
    return start, add_interval(start, plan.interval, plan.interval_count)
