"""Each report as tables (one per currency: money is never added across currencies) and the
chart drawn from the same columns, so the page's table, its chart and its CSV are one data."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from ..models import PaymentPurpose
from ..money import exponent, format_money, to_major_string
from .series import MonthFigures

MONEY, COUNT, RATE = "money", "count", "rate"


@dataclass
class Column:
    title: str
    kind: str = COUNT  # money (minor units of the table's currency), count, or rate (Fraction)
    chart: str | None = None  # "bar" or "line": drawn in the chart
    stack: str = "main"
    currency: str = ""  # a money column in another currency than its table's


@dataclass
class Table:
    heading: str
    currency: str  # "" for counts
    columns: list[Column]
    rows: list[list] = field(default_factory=list)  # first cell: the row's label(s)
    labels: int = 1  # how many leading cells are labels (month, service)

    def display(self, column: Column, value) -> str:
        if value is None:
            return "—"
        if column.kind == MONEY:
            return format_money(value, column.currency or self.currency)
        if column.kind == RATE:
            return f"{float(value) * 100:.1f}%"
        return f"{value:,}" if isinstance(value, int) else str(value)

    def csv_value(self, column: Column, value) -> str:
        """Plain numbers for a spreadsheet: money in major units ("75.00"), rates as a
        fraction with four decimals."""
        if value is None:
            return ""
        if column.kind == MONEY:
            return to_major_string(value, column.currency or self.currency)
        if column.kind == RATE:
            return f"{float(value):.4f}"
        return str(value)

    def csv_titles(self) -> list[str]:
        return [c.title + (f" ({c.currency or self.currency})" if c.kind == MONEY else "")
                for c in self.columns]

    def csv_rows(self) -> list[list[str]]:
        return [[self.csv_value(c, v) for c, v in zip(self.columns, row, strict=True)]
                for row in self.rows]

    def chart(self) -> dict:
        """Chart.js data: labels are the rows' first cell; one dataset per charted column,
        values in minor units with their formatted text (tooltips) — the table's own cells."""
        datasets = []
        for index, column in enumerate(self.columns):
            if column.chart is None:
                continue
            values = [row[index] or 0 for row in self.rows]
            datasets.append({"label": column.title, "type": column.chart, "stack": column.stack,
                             "money": column.kind == MONEY, "values": values,
                             "formatted": [self.display(column, v) for v in values]})
        return {"labels": [row[0] for row in self.rows], "currency": self.currency,
                "exponent": exponent(self.currency) if self.currency else 0,
                "datasets": datasets}


def _currencies(months: list[MonthFigures], prefix: str) -> list[str]:
    return sorted({c for m in months for (metric, c, _) in m.values
                   if metric.startswith(prefix) and c})


def _in(month: MonthFigures, currency: str):
    """``metric -> value`` of one month in one currency."""
    return lambda metric: month.value(metric, currency)


def _rate(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


def mrr_tables(months: list[MonthFigures]) -> list[Table]:
    tables = []
    for currency in _currencies(months, "mrr_"):
        table = Table(f"MRR in {currency}", currency, [
            Column("Month"), Column("MRR at start", MONEY), Column("New", MONEY, "bar"),
            Column("Reactivation", MONEY, "bar"), Column("Expansion", MONEY, "bar"),
            Column("Contraction", MONEY, "bar"), Column("Churn", MONEY, "bar"),
            Column("MRR at end", MONEY, "line")])
        for m in months:
            v = _in(m, currency)
            table.rows.append([m.month.label, v("mrr_start"), v("mrr_new"),
                               v("mrr_reactivation"), v("mrr_expansion"),
                               -v("mrr_contraction"), -v("mrr_churn"), v("mrr_end")])
        tables.append(table)
    return tables


def members_tables(months: list[MonthFigures]) -> list[Table]:
    table = Table("Members", "", [
        Column("Month"), Column("Members at start"), Column("New", chart="bar"),
        Column("Cancelled", chart="bar"), Column("Members at end", chart="line"),
        Column("Subscriber churn rate", RATE)])
    for m in months:
        start, new, cancelled = (m.value("members_start"), m.value("members_new"),
                                 m.value("members_cancelled"))
        table.rows.append([m.month.label, start, new, -cancelled, m.value("members_end"),
                           _rate(cancelled, start + new)])
    return [table]


def revenue_tables(months: list[MonthFigures]) -> list[Table]:
    tables = []
    for currency in _currencies(months, "revenue_"):
        columns = [Column("Month")] + [Column(p.label, MONEY, "bar", stack="purpose")
                                       for p in PaymentPurpose]
        columns += [Column("Payments", MONEY), Column("Refunds", MONEY),
                    Column("Net revenue", MONEY, "line")]
        table = Table(f"Revenue in {currency}", currency, columns)
        for m in months:
            net_by = [m.value("revenue_payments", currency, p.value)
                      - m.value("revenue_refunds", currency, p.value) for p in PaymentPurpose]
            paid, refunded = (m.total("revenue_payments", currency),
                              m.total("revenue_refunds", currency))
            table.rows.append([m.month.label, *net_by, paid, -refunded, paid - refunded])
        tables.append(table)
    return tables


def failed_payment_tables(months: list[MonthFigures]) -> list[Table]:
    tables = []
    for currency in _currencies(months, "failed_"):
        table = Table(f"Failed payments in {currency}", currency, [
            Column("Month"), Column("Failed charges"), Column("Failed amount", MONEY),
            Column("Recovered by a retry", chart="bar", stack="outcome"),
            Column("Recovered by a new card", chart="bar", stack="outcome"),
            Column("Lost", chart="bar", stack="outcome"),
            Column("Still retrying", chart="bar", stack="outcome"),
            Column("Recovered amount", MONEY), Column("Lost amount", MONEY),
            Column("Recovery rate", RATE)])
        for m in months:
            v = _in(m, currency)
            recovered = v("recovered_retry_count") + v("recovered_card_count")
            table.rows.append([
                m.month.label, v("failed_count"), v("failed_minor"), v("recovered_retry_count"),
                v("recovered_card_count"), v("lost_count"), v("retrying_count"),
                v("recovered_retry_minor") + v("recovered_card_minor"), v("lost_minor"),
                _rate(recovered, v("failed_count"))])
        tables.append(table)
    return tables


def usage_tables(months: list[MonthFigures], service_names: dict[int, str]) -> list[Table]:
    """One row per month and service; the chart shows each month's totals over services."""
    currencies = _currencies(months, "no_show_fees_minor")
    columns = [Column("Month"), Column("Service"), Column("Credits granted"),
               Column("Credits used"), Column("Credits expired"), Column("No-shows"),
               Column("Fees charged"), Column("Fees waived")]
    columns += [Column(f"Fees charged in {c}", MONEY, currency=c) for c in currencies]
    table = Table("Credits and appointments", "", columns, labels=2)
    for m in months:
        services = sorted({int(d) for (_, _, d) in m.values if d.isdigit()},
                          key=lambda s: service_names.get(s, ""))
        for service_id in services:
            d = str(service_id)
            table.rows.append([m.month.label, service_names.get(service_id, f"#{d}"),
                               m.value("credits_granted", "", d), m.value("credits_used", "", d),
                               m.value("credits_expired", "", d), m.value("no_shows", "", d),
                               m.value("no_show_fees_charged", "", d),
                               m.value("no_show_fees_waived", "", d),
                               *[m.value("no_show_fees_minor", c, d) for c in currencies]])
    return [table]


def usage_chart(table: Table, months: list[MonthFigures]) -> dict:
    """Each month's totals over services: credits granted, used, expired; no-shows."""
    charted = {"Credits granted": ("bar", 2), "Credits used": ("bar", 3),
               "Credits expired": ("bar", 4), "No-shows": ("line", 5)}
    labels = [m.month.label for m in months]
    datasets = []
    for title, (kind, index) in charted.items():
        values = [sum(row[index] for row in table.rows if row[0] == label) for label in labels]
        datasets.append({"label": title, "type": kind, "stack": title, "money": False,
                         "values": values, "formatted": [f"{v:,}" for v in values]})
    return {"labels": labels, "currency": "", "exponent": 0, "datasets": datasets}
