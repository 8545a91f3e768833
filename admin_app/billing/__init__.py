"""The billing engine's arithmetic: pure functions on integer minor units, no database.

``proration`` answers "how much of this period is left, and what is it worth": the unused share
of a period, the proration of a plan change, the price of a plan under a promo code.
"""

from .proration import (
    PeriodShare,
    PlanChangeProration,
    discounted_price,
    discounted_prices,
    promo_period_count,
    prorate,
    prorate_credits,
    prorate_plan_change,
    round_half_up,
    unused_share,
)

__all__ = ["PeriodShare", "PlanChangeProration", "discounted_price", "discounted_prices",
           "promo_period_count", "prorate", "prorate_credits", "prorate_plan_change",
           "round_half_up", "unused_share"]
