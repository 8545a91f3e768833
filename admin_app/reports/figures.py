"""One number of a report: what it counts, for which plan, currency and dimension."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import func

from ..models import ALL_PLANS


class Figure(NamedTuple):
    """``metric`` for one month; ``plan_id`` 0 is all plans, ``currency`` "" a count (people,
    things), ``dimension`` "" or what the figure is split by (a payment's purpose, a service
    id). Money in minor units."""

    metric: str
    plan_id: int
    currency: str
    dimension: str
    value: int


class Tally:
    """Sums values per (metric, plan, currency, dimension), for a plan and for all plans
    together (``add`` counts once in each)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, int, str, str], int] = defaultdict(int)

    def add(self, metric: str, plan_id: int | None, currency: str, value: int,
            dimension: str = "") -> None:
        self.values[(metric, ALL_PLANS, currency, dimension)] += value
        if plan_id:
            self.values[(metric, plan_id, currency, dimension)] += value

    def put(self, metric: str, plan_id: int, currency: str, value: int,
            dimension: str = "") -> None:
        self.values[(metric, plan_id, currency, dimension)] += value

    def figures(self) -> list[Figure]:
        return [Figure(*key, value) for key, value in sorted(self.values.items()) if value]


def by_key(figures: Iterable[Figure]) -> dict[tuple[str, int, str, str], int]:
    return {(f.metric, f.plan_id, f.currency, f.dimension): f.value for f in figures}


def unindexed(column):
    """``column`` as an expression no index serves (``coalesce(column, column)``, the same
    value). For a status or a sort key beside a selective range: without statistics SQLite
    would rather walk the status index (most rows) or the min()'s own index (every row) than
    the range's index (a month of rows)."""
    return func.coalesce(column, column)
