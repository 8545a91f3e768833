"""The clinic's time zone (Settings → Cashier settings → Clinic time zone): times are stored in
UTC and read, typed and computed on the calendar (periods, "today", due dates) in this zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_ZONE = ZoneInfo("UTC")


def zone_named(name: str | None) -> ZoneInfo:
    """The zone called ``name``, UTC when it is empty or unknown."""
    try:
        return ZoneInfo(name) if name else UTC_ZONE
    except (ZoneInfoNotFoundError, ValueError):
        return UTC_ZONE


def clinic_zone() -> ZoneInfo:
    """The clinic's zone, read from the settings row (UTC before the clinic sets one)."""
    from .extensions import db
    from .models import CashierSettings

    settings = db.session.get(CashierSettings, 1)
    return zone_named(settings.time_zone if settings is not None else None)


def to_clinic(moment: datetime, zone: ZoneInfo | None = None) -> datetime:
    """``moment`` (aware) as the clinic's wall-clock time."""
    return moment.astimezone(zone or clinic_zone())


def format_clinic(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M",
                  zone: ZoneInfo | None = None) -> str:
    """``moment`` written in the clinic's time ("" for none)."""
    return "" if moment is None else to_clinic(moment, zone).strftime(pattern)
