"""The clinic's time: every time an admin or a member reads is in the clinic's time zone
(Settings → Cashier settings → Clinic time zone), while the database keeps UTC.

One place for it, so flash messages, payment descriptions, audit summaries, documents, lists
and CSV exports all say the same wall-clock time.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_ZONE = ZoneInfo("UTC")


def clinic_zone() -> ZoneInfo:
    """The clinic's time zone; UTC when none is set or the name is unknown. Read from the
    session (an identity-map lookup once loaded), so a changed setting shows at once."""
    from .extensions import db
    from .models import CashierSettings

    settings = db.session.get(CashierSettings, 1)
    try:
        return ZoneInfo(settings.time_zone) if settings and settings.time_zone else UTC_ZONE
    except (ZoneInfoNotFoundError, ValueError):
        return UTC_ZONE


def to_clinic(dt: datetime) -> datetime:
    """``dt`` (aware, or naive UTC) as the clinic's wall-clock time."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC_ZONE)
    return dt.astimezone(clinic_zone())


def format_clinic(dt: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """``dt`` written in the clinic's time zone with ``pattern`` ("" for no time)."""
    return "" if dt is None else to_clinic(dt).strftime(pattern)


def zone_label() -> str:
    """The zone's name as a column header or a hint says it: "America/New_York"."""
    return clinic_zone().key


def format_day(dt: datetime | None) -> str:
    """The clinic's day of ``dt`` as messages say it: "01 May 2025"."""
    return format_clinic(dt, "%d %b %Y")
