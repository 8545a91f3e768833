"""How values look in lists, details and CSV: money, statuses, times, related records."""

from __future__ import annotations

import enum
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, g, has_app_context, url_for
from markupsafe import Markup, escape

from .. import clinic_time
from ..money import format_money, to_major_string


def clinic_zone() -> ZoneInfo:
    """The clinic's time zone (Settings → Cashier settings), read once per request."""
    if has_app_context() and "clinic_zone" in g:
        return g.clinic_zone
    zone = clinic_time.clinic_zone()
    if has_app_context():
        g.clinic_zone = zone
    return zone


def local_time(value: datetime | None) -> datetime | None:
    return clinic_time.to_clinic(value, clinic_zone()) if value is not None else None


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return local_time(value).strftime("%Y-%m-%d %H:%M %Z")


def export_time(value: datetime | None, zone: ZoneInfo) -> str:
    """A time in a CSV: the clinic's wall-clock time, to the second; the header names the zone
    ("Date (America/New_York)")."""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def _datetime_export(view, value, name):
    return export_time(value, g.get("export_zone") or clinic_zone())
def format_day(value: datetime | None) -> str:
    """ "31 Jan 2027", the clinic's day."""
    return local_time(value).strftime("%d %b %Y") if value is not None else ""


def row_currency(row) -> str:
    """The currency a row's amounts are in: its own, its parent's, or the clinic's default."""
    for path in ("currency", "plan.currency", "document.currency", "payment.currency"):
        obj = row
        for part in path.split("."):
            obj = getattr(obj, part, None)
        if obj:
            return obj
    return current_app.config.get("DEFAULT_CURRENCY", "USD")


def money_formatter(view, context, row, name):
    return format_money(getattr(row, name), row_currency(row))


def money_export_formatter(view, context, row, name):
    return to_major_string(getattr(row, name), row_currency(row))


def _enum_label(view, value, name):
    return getattr(value, "label", value.value)


def _datetime_local(view, value, name):
    return format_datetime(value)


def _bool_yes_no(view, value, name):
    return Markup('<span class="badge badge-success">Yes</span>') if value else Markup(
        '<span class="badge badge-light">No</span>'
    )


def _empty(view, value, name):
    return ""


LIST_TYPE_FORMATTERS = {
    type(None): _empty,
    enum.Enum: _enum_label,
    datetime: _datetime_local,
    bool: _bool_yes_no,
    date: lambda view, value, name: value.isoformat(),
}
EXPORT_TYPE_FORMATTERS = {
    type(None): _empty,
    enum.Enum: _enum_label,
    datetime: _datetime_export,
    bool: lambda view, value, name: "yes" if value else "no",
    date: lambda view, value, name: value.isoformat(),
}


STATUS_BADGES = {
    "active": "success", "succeeded": "success", "issued": "success", "attended": "success",
    "charged": "success", "past_due": "warning", "pending": "warning", "incomplete": "secondary",
    "partially_refunded": "info", "refunded": "info", "draft": "secondary", "booked": "primary",
    "failed": "danger", "canceled": "dark", "cancelled": "dark", "no_show": "danger",
    "void": "dark", "waived": "secondary", "lead": "info", "inactive": "secondary",
    "archived": "dark", "paid": "success", "unpaid": "danger", "due": "primary",
    "invoiced": "info",
}


def badge(value) -> Markup | str:
    """A status as a coloured label: green for good, amber for attention, red for failure."""
    if value is None:
        return ""
    css = STATUS_BADGES.get(value.value, "light")
    return Markup(f'<span class="badge badge-{css}">{escape(value.label)}</span>')


def status_badge(view, context, row, name):
    return badge(getattr(row, name))


def money_or_blank_formatter(view, context, row, name):
    """Money where zero means "nothing" (e.g. refunded so far): blank instead of $0.00."""
    return money_formatter(view, context, row, name) if getattr(row, name) else ""


def link_to_record(target) -> Markup | str:
    """A link to a record's details page in the admin, or its plain name when it has none."""
    if target is None:
        return ""
    endpoint = current_app.extensions["record_endpoints"].get(type(target))
    if endpoint is None:
        return str(target)
    url = url_for(f"{endpoint}.details_view", id=target.id)
    return Markup(f'<a href="{escape(url)}">{escape(str(target))}</a>')


def details_link_formatter(view, context, row, name):
    """A record's name in its own list, linked to its details page (a plan's name opens the
    plan)."""
    url = url_for(f"{view.endpoint}.details_view", id=row.id)
    return Markup(f'<a href="{escape(url)}">{escape(getattr(row, name) or "")}</a>')


def words_formatter(view, context, row, name):
    """A stored code as words: "adjust_credits" → "Adjust credits"."""
    value = getattr(row, name)
    return value.replace("_", " ").capitalize() if value else ""


def audit_target_formatter(view, context, row, name):
    """An audit entry's record, linked to its page where it has one: "#59"."""
    if not row.target_id:
        return ""
    endpoints = current_app.extensions["record_endpoints"]
    endpoint = next((e for model, e in endpoints.items()
                     if getattr(model, "__tablename__", None) == row.target_type), None)
    if endpoint is None:
        return f"#{row.target_id}"
    url = url_for(f"{endpoint}.details_view", id=row.target_id)
    return Markup(f'<a href="{escape(url)}">#{escape(row.target_id)}</a>')


def audit_actor_formatter(view, context, row, name):
    """Who acted: the admin (linked), or the panel itself (reconcile, webhooks, jobs)."""
    return link_to_record(row.actor) if row.actor is not None else "The panel"


def relation_link_formatter(view, context, row, name):
    return link_to_record(getattr(row, name))


_DASHBOARD_PATHS = {"cus": "customers", "pi": "payments", "ch": "payments", "re": "refunds"}


def stripe_dashboard_url(gateway_id: str | None) -> str | None:
    """Where a Stripe object is seen in Stripe's dashboard (test-mode objects under /test),
    or ``None`` for ids of the offline gateway and objects without a dashboard page."""
    if not gateway_id or "_off_" in gateway_id \
            or current_app.config.get("PAYMENT_GATEWAY") != "stripe":
        return None
    path = _DASHBOARD_PATHS.get(gateway_id.split("_", 1)[0])
    if path is None:
        return None
    base = current_app.config.get("STRIPE_DASHBOARD_URL", "https://dashboard.stripe.com")
    key = current_app.config.get("STRIPE_SECRET_KEY") or ""
    mode = "/test" if key.startswith(("sk_test_", "rk_test_")) else ""
    return f"{base}{mode}/{path}/{gateway_id}"


def gateway_id_formatter(view, context, row, name):
    """A processor id, linked to Stripe's dashboard when it is a Stripe object."""
    gateway_id = getattr(row, name)
    url = stripe_dashboard_url(gateway_id)
    if url is None:
        return gateway_id or ""
    return Markup(f'<a href="{escape(url)}" target="_blank" rel="noopener">'
                  f'{escape(gateway_id)} <i class="fa fa-external-link"></i></a>')
