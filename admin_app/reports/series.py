"""The figures of a range of months for one plan, read from the summary table; months the
worker has not computed yet are computed directly (the same functions, ``compute_month``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..clinic_time import clinic_zone
from ..clock import utcnow
from ..extensions import db
from ..models import ReportFigure, ReportMonth
from .calendar import Month, month_of
from .summary import compute_month


@dataclass
class MonthFigures:
    """One month's figures for one plan: ``value(metric, currency, dimension)``."""

    month: Month
    as_of: datetime | None
    values: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def value(self, metric: str, currency: str = "", dimension: str = "") -> int:
        return self.values.get((metric, currency, dimension), 0)

    def total(self, metric: str, currency: str = "") -> int:
        """Summed over dimensions (never over currencies)."""
        return sum(v for (m, c, _), v in self.values.items() if m == metric and c == currency)

    def dimensions(self, metric_prefix: str) -> set[str]:
        return {d for (m, _, d) in self.values if m.startswith(metric_prefix) and d}

    def currencies(self) -> set[str]:
        return {c for (_, c, _) in self.values if c}


def read_months(months: list[Month], *, plan_id: int, now: datetime | None = None,
                zone: ZoneInfo | None = None) -> list[MonthFigures]:
    """``months`` (none after the current one) with their figures for ``plan_id``."""
    zone = zone or clinic_zone()
    now = now or utcnow()
    months = [m for m in months if m <= month_of(now, zone)]
    keys = [m.key for m in months]
    stored = {row.month: row.as_of for row in db.session.scalars(
        select(ReportMonth).where(ReportMonth.month.in_(keys)))}
    values: dict[str, dict] = defaultdict(dict)
    for f in db.session.scalars(select(ReportFigure).where(ReportFigure.month.in_(keys),
                                                           ReportFigure.plan_id == plan_id)):
        values[f.month][(f.metric, f.currency, f.dimension)] = f.value
    found = []
    for month in months:
        if month.key in stored:
            found.append(MonthFigures(month, stored[month.key], values[month.key]))
            continue
        computed = compute_month(month, now=now, zone=zone)
        found.append(MonthFigures(month, computed.as_of, {
            (f.metric, f.currency, f.dimension): f.value
            for f in computed.figures if f.plan_id == plan_id}))
    return found
