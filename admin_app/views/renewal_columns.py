"""The subscriptions list's billing-cycle columns: next renewal, next charge (after the promo)
and retry state, from ``billing.renewal_outlook`` (computed once per row and request)."""

from __future__ import annotations

from flask import g

from ..billing.renewal_outlook import Outlook, renewal_outlook
from ..money import format_money, to_major_string
from .formatting import format_datetime

RENEWAL_COLUMNS = ("next_renewal", "next_charge", "retry_state")
RENEWAL_LABELS = {"next_renewal": "Next renewal", "next_charge": "Next charge",
                  "retry_state": "Retry state"}


def _outlook(row) -> Outlook:
    cache = g.setdefault("renewal_outlooks", {})
    if row.id not in cache:
        cache[row.id] = renewal_outlook(row)
    return cache[row.id]


def next_renewal(view, context, row, name) -> str:
    outlook = _outlook(row)
    if outlook.renews_at is not None:
        return format_datetime(outlook.renews_at)
    if outlook.ends_at is not None:
        return f"ends {format_datetime(outlook.ends_at)}"
    return "—"


def next_charge(view, context, row, name) -> str:
    outlook = _outlook(row)
    return format_money(outlook.amount_minor, outlook.currency) \
        if outlook.amount_minor is not None else "—"


def next_charge_export(view, context, row, name) -> str:
    outlook = _outlook(row)
    return to_major_string(outlook.amount_minor, outlook.currency) \
        if outlook.amount_minor is not None else ""


def retry_state(view, context, row, name) -> str:
    return _outlook(row).retry


RENEWAL_FORMATTERS = {"next_renewal": next_renewal, "next_charge": next_charge,
                      "retry_state": retry_state}
RENEWAL_EXPORT_FORMATTERS = {**RENEWAL_FORMATTERS, "next_charge": next_charge_export}
