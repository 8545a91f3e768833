"""The Reports menu: each report's name, what its figures mean (shown on its page), and how
its tables are built from the month figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import CashierSettings, Service
from .series import MonthFigures
from .tables import (
    Table,
    failed_payment_tables,
    members_tables,
    mrr_tables,
    revenue_tables,
    usage_chart,
    usage_tables,
)


@dataclass(frozen=True)
class ReportKind:
    slug: str
    title: str
    definitions: tuple[tuple[str, str], ...]
    tables: Callable[[list[MonthFigures]], list[Table]]
    chart: Callable[[Table, list[MonthFigures]], dict] | None = None

    def tables_of(self, months: list[MonthFigures]) -> list[Table]:
        """The report's tables, the clinic's own currency first."""
        settings = db.session.get(CashierSettings, 1)
        home = settings.currency if settings else ""
        return sorted(self.tables(months), key=lambda t: (t.currency != home, t.currency))

    def chart_of(self, table: Table, months: list[MonthFigures]) -> dict:
        return self.chart(table, months) if self.chart else table.chart()


def _usage(months: list[MonthFigures]) -> list[Table]:
    names = dict(db.session.execute(select(Service.id, Service.name)).all())
    return usage_tables(months, names)


REPORTS = {r.slug: r for r in (
    ReportKind("mrr", "MRR", (
        ("MRR", "monthly recurring revenue at the month's end (now, for this month): each "
                "active or past-due subscription's period price after its promo discount, per "
                "month (weekly × 52/12, quarterly ÷ 3, yearly ÷ 12, divided by the plan's "
                "interval count). Unpaid, void and cancelled subscriptions do not count. Per "
                "currency: two currencies are never added."),
        ("New", "subscriptions counted at the end and not at the start, never paid before."),
        ("Reactivation", "counted at the end and not at the start, but paid before (they had "
                         "lapsed)."),
        ("Expansion / Contraction", "counted at both, now for more / less: an upgrade or a "
                                    "downgrade, a promo ending or starting."),
        ("Churn", "counted at the start and not at the end: cancelled, or its period went "
                  "unpaid or void."),
        ("Adds up", "MRR at end = MRR at start + new + reactivation + expansion − "
                    "contraction − churn. With a plan chosen, a move to another plan is churn "
                    "in one plan and new in the other."),
    ), mrr_tables),
    ReportKind("members", "Members", (
        ("Members", "contacts with at least one subscription counted in MRR (active or past "
                    "due) at the month's start and end."),
        ("New", "members at the end who were not at the start (first-timers and returning)."),
        ("Cancelled", "members at the start who are not at the end."),
        ("Subscriber churn rate", "cancelled ÷ (members at the start + new)."),
    ), members_tables),
    ReportKind("revenue", "Revenue", (
        ("Payments", "succeeded payments, in the month they were paid, by what they paid for "
                     "(a payment refunded later still counts here). What account credit paid "
                     "is not counted again: that money came in with the payment it was kept "
                     "from."),
        ("Refunds", "succeeded refunds, in the month they were made, under what the refunded "
                    "payment paid for (account credit refunded to the card included)."),
        ("Net revenue", "payments − refunds, per currency (never added across currencies); "
                        "each column by purpose is that purpose's payments − refunds."),
    ), revenue_tables),
    ReportKind("failed-payments", "Failed payments", (
        ("Failed charges", "what was owed and failed to be charged, once, in the month of the "
                           "first failed attempt: a billing period (all its attempts) or "
                           "another payment with its retries."),
        ("Recovered", "paid afterwards: by a new card when the member saved a card between the "
                      "failure and the payment, otherwise by a retry (or cash at the desk)."),
        ("Lost", "a period whose retries ran out (unpaid), voided or whose subscription was "
                 "cancelled; another payment never paid."),
        ("Still retrying", "a period still due or past due."),
        ("Recovery rate", "recovered ÷ failed charges."),
    ), failed_payment_tables),
    ReportKind("credits-appointments", "Credits and appointments", (
        ("Credits granted", "period grants and credits added by hand, per service."),
        ("Credits used", "bookings less the credits given back by a cancellation in time."),
        ("Credits expired", "credits that expired unused (rolled-over credits are not new)."),
        ("No-shows", "appointments in the month marked no-show; fees charged, waived, and "
                     "the fees' amounts per currency. Appointments belong to no plan."),
    ), _usage, usage_chart),
)}
