"""Proration and discounts in integer minor units: no floats, ever.

Rounding rule: every amount is rounded **half up** on the minor unit, once. ``round_half_up``
works on exact integer ratios, so 1234.5 cents is 1235 and 1234.49… is 1234.

Time is counted in whole seconds. A period is ``[start, end)``; at a moment ``at`` its unused
share is ``(end - at) / (end - start)``, clamped to ``[0, 1]`` (before the period: all of it,
after it: nothing).

>>> from datetime import UTC, datetime
>>> share = unused_share(datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 5, 1, tzinfo=UTC),
...                      at=datetime(2025, 4, 16, tzinfo=UTC))
>>> share.unused_seconds // 86400, share.total_seconds // 86400
(15, 30)
>>> prorate(12000, share)  # half of a $120.00 period
6000
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

SECONDS_PER_DAY = 86_400
# How many billing periods of each interval a month-long promo covers: months × 4 per week,
# months ÷ 1, ÷ 3, ÷ 12 (a week counts as a quarter of a month, as the demo history does).
_PERIODS_PER_MONTH = {"week": (4, 1), "month": (1, 1), "quarter": (1, 3), "year": (1, 12)}


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up (half away from zero for negatives).

    >>> round_half_up(25, 10), round_half_up(24, 10), round_half_up(-25, 10)
    (3, 2, -3)
    """
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


def _seconds(delta: timedelta) -> int:
    return delta.days * SECONDS_PER_DAY + delta.seconds


@dataclass(frozen=True)
class PeriodShare:
    """The unused part of a period, as an exact ratio of whole seconds."""

    unused_seconds: int
    total_seconds: int

    def describe(self) -> str:
        """ "15 days 4 h of 30 days" """
        days, rest = divmod(self.unused_seconds, SECONDS_PER_DAY)
        total_days = round_half_up(self.total_seconds, SECONDS_PER_DAY)
        return f"{days} days {rest // 3600} h of {total_days} days"


def unused_share(period_start: datetime, period_end: datetime, *, at: datetime) -> PeriodShare:
    """The share of ``[period_start, period_end)`` still unused at ``at`` (whole seconds)."""
    total = _seconds(period_end - period_start)
    if total <= 0:
        raise ValueError("a period must end after it starts")
    unused = min(max(_seconds(period_end - at), 0), total)
    return PeriodShare(unused, total)


def prorate(amount_minor: int, share: PeriodShare) -> int:
    """``amount_minor`` × the unused share, rounded half up.

    >>> prorate(1000, PeriodShare(1, 3))  # 333.33… cents
    333
    >>> prorate(1000, PeriodShare(1, 8))  # 125 exactly
    125
    >>> prorate(1, PeriodShare(1, 2))  # half a cent rounds up
    1
    """
    if amount_minor < 0:
        raise ValueError("amount must not be negative")
    return round_half_up(amount_minor * share.unused_seconds, share.total_seconds)


@dataclass(frozen=True)
class PlanChangeProration:
    """A plan change in the middle of a period.

    ``credit_minor``: the unused time of the old price, given back; ``charge_minor``: the rest
    of the period at the new price; ``net_minor = charge_minor - credit_minor``: positive is
    charged now (upgrade), negative is owed to the member (downgrade).
    """

    credit_minor: int
    charge_minor: int
    net_minor: int
    share: PeriodShare


def prorate_plan_change(old_price_minor: int, new_price_minor: int,
                        share: PeriodShare) -> PlanChangeProration:
    """Prorate a switch from ``old_price_minor`` to ``new_price_minor`` per period.

    The net is the price difference × the unused share, rounded half up once; the credit is the
    old price × the share, rounded half up; the new-price charge is ``credit + net``, so the
    three figures always add up to the cent. The net (what is charged or given back) and the
    credit shrink as the period runs out; the charge, a sum of two roundings, may come back up
    by one cent between two moments, never more (NOTE: no rounding keeps all three figures
    monotone and their sum exact; the net is the one the member pays).

    Worked example: $120 → $200 a month, half the month left: credit $60.00, charge
    $100.00, net charged now $40.00.

    >>> p = prorate_plan_change(12000, 20000, PeriodShare(15, 30))
    >>> p.credit_minor, p.charge_minor, p.net_minor
    (6000, 10000, 4000)
    >>> p = prorate_plan_change(20000, 12000, PeriodShare(10, 30))  # downgrade, a third left
    >>> p.credit_minor, p.charge_minor, p.net_minor
    (6667, 4000, -2667)
    """
    credit = prorate(old_price_minor, share)
    difference = new_price_minor - old_price_minor
    net = round_half_up(difference * share.unused_seconds, share.total_seconds)
    return PlanChangeProration(credit_minor=credit, charge_minor=credit + net, net_minor=net,
                               share=share)


def prorate_credits(difference: int, share: PeriodShare) -> int:
    """A change of credits per period (signed), for the unused share, rounded half up.

    >>> prorate_credits(4, PeriodShare(15, 30)), prorate_credits(-3, PeriodShare(15, 30))
    (2, -2)
    """
    return round_half_up(difference * share.unused_seconds, share.total_seconds)


def discounted_price(price_minor: int, *, percent_off: int | None = None,
                     amount_off_minor: int | None = None) -> int:
    """The price under a promo: ``percent_off`` (the discount rounded half up) or
    ``amount_off_minor``; never below zero.

    >>> discounted_price(12345, percent_off=10)  # 1234.5 off rounds to 1235
    11110
    >>> discounted_price(12000, amount_off_minor=2500)
    9500
    >>> discounted_price(2000, amount_off_minor=2500)  # never below zero
    0
    """
    if price_minor < 0:
        raise ValueError("price must not be negative")
    if percent_off is not None:
        if not 0 <= percent_off <= 100:
            raise ValueError("percent_off must be between 0 and 100")
        return price_minor - round_half_up(price_minor * percent_off, 100)
    return max(0, price_minor - (amount_off_minor or 0))


def discounted_prices(price_minor: int, *, count: int, discounted_periods: int | None,
                      percent_off: int | None = None,
                      amount_off_minor: int | None = None) -> list[int]:
    """The prices of the next ``count`` periods when the promo discounts the next
    ``discounted_periods`` of them (``None``: all of them, a "forever" code).

    >>> discounted_prices(12000, count=3, discounted_periods=1, percent_off=50)
    [6000, 12000, 12000]
    """
    promo = discounted_price(price_minor, percent_off=percent_off,
                             amount_off_minor=amount_off_minor)
    return [promo if discounted_periods is None or index < discounted_periods else price_minor
            for index in range(count)]


def promo_period_count(duration: str, duration_months: int | None, interval: str,
                       interval_count: int = 1) -> int | None:
    """How many billing periods a promo discounts: once → 1, forever → ``None`` (no end),
    "N months" → the periods covering N months, rounded up (N for a monthly plan).

    >>> promo_period_count("repeating", 3, "month"), promo_period_count("repeating", 3, "year")
    (3, 1)
    >>> promo_period_count("repeating", 2, "week"), promo_period_count("forever", None, "month")
    (8, None)
    """
    if duration == "forever":
        return None
    if duration == "once":
        return 1
    per_month, months_per_interval = _PERIODS_PER_MONTH[str(interval)]
    periods = -(-(duration_months or 1) * per_month // (months_per_interval * interval_count))
    return max(1, periods)
