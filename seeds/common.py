"""Calendar and billing arithmetic shared by the demo and the scale seeders."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from admin_app.billing.periods import MONTHS_PER_INTERVAL, add_interval, add_months  # noqa: F401
from admin_app.extensions import db
from admin_app.models import (
    BillingInterval,
    DiscountDuration,
    DiscountType,
    Document,
    DocumentSequence,
    DocumentType,
)

CLINIC_TZ = ZoneInfo("America/New_York")  # the demo clinic's opening hours are local
def approx_days(interval: BillingInterval | str, count: int = 1) -> int:
    """Shortest length of ``count`` intervals in days (a month is at least 28)."""
    interval = BillingInterval(interval)
    return {BillingInterval.WEEK: 7, BillingInterval.MONTH: 28,
            BillingInterval.QUARTER: 89, BillingInterval.YEAR: 365}[interval] * count


def periods(start: datetime, interval: BillingInterval | str, count: int,
            until: datetime) -> list[tuple[datetime, datetime]]:
    """Consecutive billing periods from ``start``; the last one contains ``until``
    (or ends exactly at it)."""
    result = []
    begin = start
    while True:
        end = add_interval(begin, interval, count)
        result.append((begin, end))
        if end >= until:
            return result
        begin = end


def clamp_day(moment: datetime) -> datetime:
    """Move a date back to day 28 at most, so monthly anniversaries never drift."""
    return moment - timedelta(days=max(0, moment.day - 28))


def promo_periods(duration: DiscountDuration | str, duration_months: int | None,
                  interval: BillingInterval | str, count: int = 1) -> int | None:
    """How many billing periods a promo discounts; ``None`` means every period (forever)."""
    duration = DiscountDuration(duration)
    if duration is DiscountDuration.FOREVER:
        return None
    if duration is DiscountDuration.ONCE:
        return 1
    interval = BillingInterval(interval)
    per_period = (0.25 if interval is BillingInterval.WEEK
                  else MONTHS_PER_INTERVAL[interval]) * count
    return max(1, math.ceil((duration_months or 1) / per_period))


def discounted(price_minor: int, discount_type: DiscountType | str, percent_off: int | None,
               amount_off_minor: int | None) -> int:
    """The price after a discount, in minor units, never below zero. Percentages round the
    discount down (the member never pays less than the rounded price)."""
    if DiscountType(discount_type) is DiscountType.PERCENT:
        return price_minor - price_minor * (percent_off or 0) // 100
    return max(0, price_minor - (amount_off_minor or 0))


def last_document_number(doc_type: DocumentType) -> int:
    """The highest number given to ``doc_type``: by its documents or by its counter."""
    highest = db.session.scalar(select(func.max(Document.number))
                                .where(Document.doc_type == doc_type)) or 0
    counter = db.session.get(DocumentSequence, doc_type)
    return max(highest, counter.last_number if counter is not None else 0)


def sync_document_sequences() -> None:
    """Move each type's counter (``document_sequence``) up to the highest issued number.

    The app numbers documents from that counter, so documents inserted by the seeders must
    advance it, or the next receipt issued in the app would reuse number 1.
    """
    for doc_type in DocumentType:
        highest = db.session.scalar(select(func.max(Document.number))
                                    .where(Document.doc_type == doc_type)) or 0
        counter = db.session.get(DocumentSequence, doc_type)
        if counter is None:
            if highest:
                db.session.add(DocumentSequence(doc_type=doc_type, last_number=highest))
        elif counter.last_number < highest:
            counter.last_number = highest
    db.session.flush()
