"""The contact card: a contact's details page with a tab per kind of record they own.

Tabs: Transactions, Subscriptions (with each billing period: its amount, status, payment and
document), Credits (per service: balance, next expiry, and the ledger), Account credit (balance
per currency and its history), Appointments, Payment methods, Documents. Each tab is a
paginated list whose rows are formatted by, and carry
the ⋯ menu of, the admin view that owns that table, so a row looks and acts the same here as in
its own list.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from flask import abort, current_app, request, url_for
from sqlalchemy import func, select

from ..billing.account_credit import account_credit_balances
from ..billing.credit_lots import credit_summary
from ..billing.credit_payments import credit_paid_on_periods
from ..billing.period_retries import retry_state
from ..billing.retry_rules import retryable_failed_payments
from ..extensions import db
from ..models import (
    AccountCreditEntry,
    Appointment,
    BillingPeriod,
    CreditEntry,
    Document,
    Payment,
    PaymentMethod,
    Subscription,
)
from ..money import format_money
from .formatting import format_datetime
from .row_menu import render_row_menu

TAB_PAGE_SIZE = 20
PERIODS_SHOWN = 50


@dataclass(frozen=True)
class CardTab:
    key: str
    label: str
    model: type
    endpoint: str          # the admin view that formats the rows and owns their ⋯ menu
    columns: tuple[str, ...]
    order_by: str = "id"


TABS = (
    CardTab("transactions", "Transactions", Payment, "payment",
            ("id", "created_at", "amount_minor", "status", "amount_refunded_minor", "purpose",
             "method", "description", "failure_reason"), "created_at"),
    CardTab("subscriptions", "Subscriptions", Subscription, "subscription",
            ("id", "plan", "status", "current_period_start", "current_period_end",
             "next_renewal", "next_charge", "retry_state", "scheduled_plan", "promo_code")),
    CardTab("credits", "Credits", CreditEntry, "credit_entry",
            ("created_at", "service", "quantity", "reason", "note", "expires_at", "created_by"),
            "created_at"),
    CardTab("account_credit", "Account credit", AccountCreditEntry, "account_credit_entry",
            ("created_at", "amount_minor", "reason", "note", "payment", "refund", "actor"),
            "created_at"),
    CardTab("appointments", "Appointments", Appointment, "appointment",
            ("id", "starts_at", "service", "status", "credit_status", "no_show_fee_status",
             "no_show_fee_payment"), "starts_at"),
    CardTab("payment_methods", "Payment methods", PaymentMethod, "payment_method",
            ("display_name", "expiry", "is_default", "created_at")),
    CardTab("documents", "Documents", Document, "document",
            ("doc_type", "number", "total_minor", "status", "issued_at", "sent_at")),
)
TABS_BY_KEY = {tab.key: tab for tab in TABS}


@dataclass
class TabRow:
    cells: list
    menu: str


def _tab_counts(contact_id: int) -> dict[str, int]:
    return {
        tab.key: db.session.scalar(
            select(func.count()).select_from(tab.model).where(tab.model.contact_id == contact_id)
        )
        for tab in TABS
    }


def _badges(counts: dict[str, int], credits, account_credit) -> dict[str, str]:
    """What each tab's badge shows: its rows, but the Credits tab the total credit balance and
    the Account credit tab the balance (per currency)."""
    badges = {key: str(count) for key, count in counts.items()}
    badges["credits"] = str(sum(line.balance for line in credits))
    badges["account_credit"] = ", ".join(format_money(amount, currency)
                                         for currency, amount in account_credit) or "0"
    return badges


def _tab_rows(tab: CardTab, contact_id: int, page: int) -> list[TabRow]:
    view = current_app.extensions["admin_views"][tab.endpoint]
    order = getattr(tab.model, tab.order_by)
    records = db.session.scalars(
        select(tab.model).where(tab.model.contact_id == contact_id)
        .order_by(order.desc(), tab.model.id.desc())
        .offset(page * TAB_PAGE_SIZE).limit(TAB_PAGE_SIZE)
    ).all()
    return [
        TabRow(
            cells=[view._get_list_value(None, record, column, view.column_formatters,
                                        view.column_type_formatters)
                   for column in tab.columns],
            menu=render_row_menu(view.row_menu_items(record), record.id),
        )
        for record in records
    ]


@dataclass
class PeriodRow:
    period: BillingPeriod
    payment: Payment | None
    document: Document | None
    retry: str
    from_credit: int = 0


def _period_rows(contact_id: int) -> list[PeriodRow]:
    """The contact's billing periods, latest first: each period billed, its payment (the
    paying one, or the latest attempt), its document (receipt or open invoice) and what
    account credit paid of it."""
    periods = db.session.scalars(
        select(BillingPeriod).join(Subscription).where(Subscription.contact_id == contact_id)
        .order_by(BillingPeriod.starts_at.desc(), BillingPeriod.id.desc())
        .limit(PERIODS_SHOWN)).all()
    from_credit = credit_paid_on_periods([p.id for p in periods])
    return [PeriodRow(p, p.payment, p.document, retry_state(p), from_credit.get(p.id, 0))
            for p in periods]


def render_contact_card(contact_view):
    """Render the card of the contact ``?id=``, on tab ``?tab=`` and page ``?page=``."""
    contact = contact_view.get_one(request.args.get("id", ""))
    if contact is None:
        abort(404)
    tab = TABS_BY_KEY.get(request.args.get("tab", ""), TABS[0])
    page = max(request.args.get("page", 0, type=int), 0)
    counts = _tab_counts(contact.id)
    credits, account_credit = credit_summary(contact.id), account_credit_balances(contact.id)
    pages = max(ceil(counts[tab.key] / TAB_PAGE_SIZE), 1)
    view = current_app.extensions["admin_views"][tab.endpoint]
    return contact_view.render(
        "admin/contact_card.html",
        contact=contact,
        tabs=TABS,
        tab=tab,
        counts=counts,
        badges=_badges(counts, credits, account_credit),
        headers=[view.get_column_name(c) for c in tab.columns],
        rows=_tab_rows(tab, contact.id, page),
        page=page,
        pages=pages,
        page_url=lambda p: url_for(".details_view", id=contact.id, tab=tab.key, page=p),
        tab_url=lambda key: url_for(".details_view", id=contact.id, tab=key),
        credits=credits,
        account_credit=account_credit,
        format_datetime=format_datetime,
        format_money=format_money,
        periods=_period_rows(contact.id) if tab.key == "subscriptions" else [],
        # Failed charges a retry would pay now: offered where a new card is saved and where
        # the failures show.
        retryable_count=(len(retryable_failed_payments(contact))
                         if tab.key in ("payment_methods", "transactions")
                         and contact_view.may_write else 0),
        details=[(contact_view.get_column_name(c), contact_view._get_list_value(
            None, contact, c, contact_view.column_formatters_detail,
            contact_view.column_type_formatters_detail))
            for c in ("email", "phone", "status", "stripe_customer_id", "created_at")],
    )
