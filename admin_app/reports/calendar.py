"""Calendar months in the clinic's time zone, the reports' unit of time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str | None) -> Month:
        """``"2026-03"`` → March 2026; anything else raises ``ValueError``."""
        found = _MONTH.match((text or "").strip())
        if not found or not 1 <= int(found.group(2)) <= 12 or not int(found.group(1)) > 1900:
            raise ValueError(f"{text!r} is not a month (YYYY-MM)")
        return cls(int(found.group(1)), int(found.group(2)))

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{NAMES[self.month - 1]} {self.year}"

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def start(self, zone: ZoneInfo) -> datetime:
        """The month's first moment (midnight of its 1st in the clinic's zone), in UTC."""
        return datetime(self.year, self.month, 1, tzinfo=zone).astimezone(UTC)

    def end(self, zone: ZoneInfo) -> datetime:
        """The next month's first moment, in UTC (the month is ``[start, end)``)."""
        return self.next().start(zone)


def month_of(moment: datetime, zone: ZoneInfo) -> Month:
    local = moment.astimezone(zone)
    return Month(local.year, local.month)


def months_between(first: Month, last: Month) -> list[Month]:
    """Every month from ``first`` to ``last``, both included (empty when last < first)."""
    found, month = [], first
    while month <= last:
        found.append(month)
        month = month.next()
    return found
