"""Periods cut from the anchor on the clinic's calendar (``billing.periods``): month ends, leap
days, a zone far from UTC, daylight-saving changes; a property over random anchors."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from admin_app.billing.periods import period_after, period_containing, period_index, period_start

AUCKLAND = ZoneInfo("Pacific/Auckland")  # UTC+12/+13, DST in the southern summer
NEW_YORK = ZoneInfo("America/New_York")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14


def local(zone, *args):
    return datetime(*args, tzinfo=zone).astimezone(UTC)


def starts(anchor, interval, count, n, zone):
    return [period_start(anchor, interval, count, i, zone).astimezone(zone) for i in range(n)]


def test_a_31st_anchor_clamps_to_short_months_and_comes_back():
    anchor = local(AUCKLAND, 2027, 1, 31, 9, 0)
    days = [(s.month, s.day, s.hour) for s in starts(anchor, "month", 1, 5, AUCKLAND)]
    assert days == [(1, 31, 9), (2, 28, 9), (3, 31, 9), (4, 30, 9), (5, 31, 9)]


def test_leap_years_and_leap_day_anchor():
    anchor = local(NEW_YORK, 2027, 1, 31, 0, 0)
    assert [(s.month, s.day) for s in starts(anchor, "month", 1, 14, NEW_YORK)][13] == (2, 29)
    leap = local(NEW_YORK, 2028, 2, 29, 10, 0)
    assert [(s.year, s.month, s.day) for s in starts(leap, "year", 1, 5, NEW_YORK)] == [
        (2028, 2, 29), (2029, 2, 28), (2030, 2, 28), (2031, 2, 28), (2032, 2, 29)]


def test_quarterly_and_counts():
    anchor = local(AUCKLAND, 2027, 11, 30, 0, 0)
    assert [(s.month, s.day) for s in starts(anchor, "quarter", 1, 4, AUCKLAND)] == [
        (11, 30), (2, 29), (5, 30), (8, 30)]
    assert [(s.month, s.day) for s in starts(anchor, "month", 2, 3, AUCKLAND)] == [
        (11, 30), (1, 30), (3, 30)]


def test_the_local_time_holds_across_daylight_saving():
    # New York: clocks go forward on 14 Mar 2027 and back on 7 Nov 2027.
    anchor = local(NEW_YORK, 2027, 3, 1, 0, 30)
    monthly = starts(anchor, "month", 1, 10, NEW_YORK)
    assert {(s.hour, s.minute) for s in monthly} == {(0, 30)}
    utc_hours = {period_start(anchor, "month", 1, i, NEW_YORK).hour for i in range(10)}
    assert utc_hours == {5, 4}  # the UTC time moves, the clinic's does not
    weekly = starts(local(AUCKLAND, 2027, 3, 28, 9, 0), "week", 1, 8, AUCKLAND)
    assert {s.hour for s in weekly} == {9}
    assert [b - a for a, b in zip(weekly, weekly[1:], strict=False)] == [timedelta(days=7)] * 7


def test_a_skipped_local_time_is_read_before_the_change():
    anchor = local(NEW_YORK, 2027, 2, 14, 2, 30)  # 2:30 does not exist on 14 Mar 2027
    march = period_start(anchor, "month", 1, 1, NEW_YORK)
    assert march == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)


def test_a_day_in_the_clinic_is_not_the_utc_day():
    anchor = local(KIRITIMATI, 2027, 1, 31, 6, 0)  # 30 Jan 16:00 UTC
    assert anchor.day == 30
    feb = period_start(anchor, "month", 1, 1, KIRITIMATI)
    assert feb.astimezone(KIRITIMATI).day == 28 and feb.day == 27


def test_period_after_resets_the_anchor_off_its_calendar():
    plan = SimpleNamespace(interval="month", interval_count=1)
    anchor = local(AUCKLAND, 2027, 1, 31)
    feb = period_start(anchor, "month", 1, 1, AUCKLAND)
    assert period_after(anchor, plan, feb, AUCKLAND) == (
        anchor, feb, period_start(anchor, "month", 1, 2, AUCKLAND))
    weekly = SimpleNamespace(interval="week", interval_count=1)
    new_anchor, start, end = period_after(anchor, weekly, feb + timedelta(days=3), AUCKLAND)
    assert new_anchor == start == feb + timedelta(days=3) and end == start + timedelta(days=7)


zones = st.sampled_from([AUCKLAND, NEW_YORK, KIRITIMATI, ZoneInfo("UTC"),
                         ZoneInfo("Pacific/Pago_Pago"), ZoneInfo("Europe/London")])
anchors = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31))


@given(anchors, zones, st.sampled_from(["week", "month", "quarter", "year"]),
       st.integers(1, 3), st.integers(0, 40))
def test_periods_tile_time_and_keep_the_anchor_day(naive, zone, interval, count, index):
    anchor = naive.replace(tzinfo=zone).astimezone(UTC)
    start = period_start(anchor, interval, count, index, zone)
    end = period_start(anchor, interval, count, index + 1, zone)
    assert end > start
    assert period_index(anchor, interval, count, start, zone) == index
    plan = SimpleNamespace(interval=interval, interval_count=count)
    middle = start + (end - start) / 2
    assert period_containing(anchor, plan, middle, zone) == (start, end)
    assert period_containing(anchor, plan, start, zone) == (start, end)
    if interval != "week":
        wall, first = start.astimezone(zone), anchor.astimezone(zone)
        assert wall.day == min(first.day, calendar.monthrange(wall.year, wall.month)[1])
