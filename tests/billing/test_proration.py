"""The proration arithmetic: worked examples, the docstrings, and properties (hypothesis)."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from admin_app.billing import proration
from admin_app.billing.proration import (
    PeriodShare,
    discounted_price,
    discounted_prices,
    promo_period_count,
    prorate,
    prorate_credits,
    prorate_plan_change,
    round_half_up,
    unused_share,
)

START = datetime(2025, 4, 1, tzinfo=UTC)
END = datetime(2025, 5, 1, tzinfo=UTC)
prices = st.integers(min_value=0, max_value=10**9)
percents = st.integers(min_value=0, max_value=100)


def test_docstring_examples():
    assert doctest.testmod(proration).failed == 0


def test_unused_share_is_clamped_to_the_period():
    assert unused_share(START, END, at=START - timedelta(days=3)) == PeriodShare(2592000, 2592000)
    assert unused_share(START, END, at=END + timedelta(seconds=1)).unused_seconds == 0
    assert unused_share(START, END, at=START + timedelta(days=10)).unused_seconds == 20 * 86400
    with pytest.raises(ValueError):
        unused_share(END, START, at=START)


def test_rounding_is_half_up_on_the_minor_unit():
    assert round_half_up(5, 10) == 1 and round_half_up(4, 10) == 0
    assert prorate(3, PeriodShare(1, 2)) == 2  # 1.5 → 2
    assert prorate(1000, PeriodShare(2, 3)) == 667
    assert discounted_price(999, percent_off=50) == 499  # 499.5 off → 500 off
    with pytest.raises(ValueError):
        prorate(-1, PeriodShare(1, 2))


def test_plan_change_worked_examples():
    half = unused_share(START, END, at=START + timedelta(days=15))
    upgrade = prorate_plan_change(12000, 20000, half)
    assert (upgrade.credit_minor, upgrade.charge_minor, upgrade.net_minor) == (6000, 10000, 4000)
    downgrade = prorate_plan_change(20000, 12000, half)
    assert downgrade.net_minor == -4000 and downgrade.credit_minor == 10000
    assert prorate_plan_change(12000, 20000, PeriodShare(0, 30)).net_minor == 0


def test_promo_prices_and_periods():
    assert discounted_prices(12000, count=3, discounted_periods=None, percent_off=25) == [9000] * 3
    assert discounted_prices(12000, count=3, discounted_periods=2, amount_off_minor=2000) == [
        10000, 10000, 12000]
    assert promo_period_count("once", None, "year") == 1
    assert promo_period_count("repeating", 6, "quarter") == 2
    assert promo_period_count("repeating", 1, "month", 2) == 1


shares = st.integers(min_value=1, max_value=400 * 86400).flatmap(
    lambda total: st.builds(PeriodShare, st.integers(min_value=0, max_value=total),
                            st.just(total)))


@given(old=prices, new=prices, share=shares)
def test_plan_change_stays_within_bounds(old, new, share):
    p = prorate_plan_change(old, new, share)
    assert p.charge_minor - p.credit_minor == p.net_minor
    assert 0 <= p.credit_minor <= old and 0 <= p.charge_minor <= new
    low, high = sorted((0, new - old))
    assert low <= p.net_minor <= high
    if share.unused_seconds == share.total_seconds:
        assert (p.credit_minor, p.charge_minor) == (old, new)
    if share.unused_seconds == 0:
        assert (p.credit_minor, p.charge_minor, p.net_minor) == (0, 0, 0)


@given(old=prices, new=prices, total=st.integers(min_value=1, max_value=400 * 86400),
       data=st.data())
def test_plan_change_shrinks_as_time_passes(old, new, total, data):
    earlier = data.draw(st.integers(min_value=0, max_value=total))
    later = data.draw(st.integers(min_value=earlier, max_value=total))
    # ``later`` seconds have passed: less of the period is unused
    before = prorate_plan_change(old, new, PeriodShare(total - earlier, total))
    after = prorate_plan_change(old, new, PeriodShare(total - later, total))
    assert after.credit_minor <= before.credit_minor
    assert abs(after.net_minor) <= abs(before.net_minor)
    # The charge is credit + net, two roundings: it may come back by a cent, never more.
    assert after.charge_minor <= before.charge_minor + 1


def test_the_charge_may_come_back_by_one_cent_but_the_net_never_grows():
    """The example hypothesis found (63 → 29, a 722,802 s period): the net still shrinks."""
    before = prorate_plan_change(63, 29, PeriodShare(722802 - 108995, 722802))
    after = prorate_plan_change(63, 29, PeriodShare(722802 - 116926, 722802))
    assert after.charge_minor == before.charge_minor + 1
    assert abs(after.net_minor) <= abs(before.net_minor)
    assert after.credit_minor <= before.credit_minor


@given(price=prices, percent=percents, amount=prices)
def test_discounts_never_go_below_zero_nor_above_the_price(price, percent, amount):
    by_percent = discounted_price(price, percent_off=percent)
    by_amount = discounted_price(price, amount_off_minor=amount)
    assert 0 <= by_percent <= price and 0 <= by_amount <= price
    assert discounted_price(price, percent_off=100) == 0
    assert discounted_price(price, percent_off=0) == price


@given(difference=st.integers(min_value=-1000, max_value=1000), share=shares)
def test_prorated_credits_never_exceed_the_difference(difference, share):
    credits = prorate_credits(difference, share)
    assert abs(credits) <= abs(difference)
    assert credits == 0 or (credits > 0) == (difference > 0)


@given(start_offset=st.integers(min_value=-10**7, max_value=10**7),
       seconds=st.integers(min_value=1, max_value=10**8),
       first=st.integers(min_value=-10**8, max_value=10**8),
       step=st.integers(min_value=0, max_value=10**8))
def test_unused_share_is_monotonic_in_time(start_offset, seconds, first, step):
    start = START + timedelta(seconds=start_offset)
    end = start + timedelta(seconds=seconds)
    a = unused_share(start, end, at=START + timedelta(seconds=first))
    b = unused_share(start, end, at=START + timedelta(seconds=first + step))
    assert 0 <= b.unused_seconds <= a.unused_seconds <= a.total_seconds == seconds
