"""The retry schedule as typed in Cashier settings: strict on the form, and the default when a
stored value cannot be read."""

from __future__ import annotations

import pytest

from admin_app.billing.period_retries import DEFAULT_SCHEDULE, parse_schedule, schedule_problem


@pytest.mark.parametrize("text", ["1,3,5,7", "2", " 1, 2 ,10", "1,2,3,4,5,6,7,8,9,60"])
def test_good_schedules(text):
    assert schedule_problem(text) is None
    assert parse_schedule(text) == tuple(int(p) for p in text.split(","))


@pytest.mark.parametrize("text", ["", "0", "1,,3", "3,1", "1,1", "61", "1.5", "-1", "1;3",
                                  "١,٣", "1,2,3,4,5,6,7,8,9,10,11", "\x00"])
def test_bad_schedules_are_refused_and_read_as_the_default(text):
    assert schedule_problem(text)
    assert parse_schedule(text) == DEFAULT_SCHEDULE
