"""Reports (menu): each report a chart and the table under it, for a range of months and a
plan, with its CSV. The figures come from ``reports`` (the summary table); this view only
reads the page's choices and renders."""

from __future__ import annotations

import csv
import io

from flask import Response, request
from flask_admin import BaseView, expose
from sqlalchemy import select
from werkzeug.exceptions import BadRequest

from ..clinic_time import clinic_zone
from ..clock import utcnow
from ..csv_cells import safe_cell
from ..extensions import db
from ..models import ALL_PLANS, Plan
from ..reports.calendar import Month, month_of, months_between
from ..reports.catalog import REPORTS, ReportKind
from ..reports.series import read_months
from .access import AccessMixin

DEFAULT_MONTHS = 12
MAX_MONTHS = 60


class ReportChoices:
    """The page's range (from/to months) and plan, read strictly; a bad value is an error
    message and the default, never a 500."""

    def __init__(self, args) -> None:
        zone = clinic_zone()
        self.current = month_of(utcnow(), zone)
        self.errors: list[str] = []
        self.last = self._month(args.get("to"), self.current, "To")
        first = self.last
        for _ in range(DEFAULT_MONTHS - 1):
            first = first.previous()
        self.first = self._month(args.get("from"), first, "From")
        if self.last > self.current:
            self.last = self.current
        if self.first > self.last:
            self.errors.append("“From” is after “To”: showing the 12 months up to “To”.")
            self.first = first
        self.months = months_between(self.first, self.last)
        if len(self.months) > MAX_MONTHS:
            self.errors.append(f"At most {MAX_MONTHS} months at once: showing the last "
                               f"{MAX_MONTHS}.")
            self.months = self.months[-MAX_MONTHS:]
            self.first = self.months[0]
        self.plans = db.session.execute(select(Plan.id, Plan.name).order_by(Plan.name)).all()
        self.plan_id = ALL_PLANS
        raw = (args.get("plan") or "").strip()
        if raw:
            if raw.isdigit() and len(raw) < 10 and int(raw) in {p.id for p in self.plans}:
                self.plan_id = int(raw)
            else:
                self.errors.append("No such plan: showing all plans.")

    def _month(self, raw: str | None, default: Month, name: str) -> Month:
        if not raw:
            return default
        try:
            return Month.parse(raw)
        except ValueError:
            self.errors.append(f"“{name}” must be a month like {default.key}: showing "
                               f"{default.label}.")
            return default

    @property
    def plan_name(self) -> str:
        return next((p.name for p in self.plans if p.id == self.plan_id), "All plans")

    def query(self) -> dict[str, str]:
        found = {"from": self.first.key, "to": self.last.key}
        if self.plan_id:
            found["plan"] = str(self.plan_id)
        return found


class ReportView(AccessMixin, BaseView):
    """One report of the Reports menu (one instance per report, same page)."""

    def __init__(self, report: ReportKind, **kwargs) -> None:
        self.report = report
        super().__init__(name=report.title, category="Reports",
                         endpoint=f"report_{report.slug.replace('-', '_')}",
                         url=f"/admin/reports/{report.slug}", **kwargs)

    def _tables(self, choices: ReportChoices):
        months = read_months(choices.months, plan_id=choices.plan_id)
        return months, self.report.tables_of(months)

    @expose("/")
    def index(self):
        choices = ReportChoices(request.args)
        months, tables = self._tables(choices)
        charts = [self.report.chart_of(table, months) for table in tables]
        as_of = max((m.as_of for m in months if m.as_of is not None), default=None)
        return self.render("admin/report.html", report=self.report, choices=choices,
                           tables=list(zip(tables, charts, strict=True)), as_of=as_of,
                           reports=REPORTS.values())

    @expose("/csv")
    def csv(self):
        """The page's tables as one CSV: a heading column (the table), then its columns."""
        choices = ReportChoices(request.args)
        if choices.errors:
            raise BadRequest("; ".join(choices.errors))
        _, tables = self._tables(choices)
        out = io.StringIO()
        writer = csv.writer(out)
        for table in tables:
            writer.writerow([safe_cell(t) for t in ["Table", *table.csv_titles()]])
            for row in table.csv_rows():
                writer.writerow([safe_cell(cell) for cell in [table.heading, *row]])
        name = f"{self.report.slug}-{choices.first.key}-{choices.last.key}"
        if choices.plan_id:
            name += f"-plan-{choices.plan_id}"
        return Response(out.getvalue(), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"'})


def report_views() -> list[ReportView]:
    return [ReportView(report) for report in REPORTS.values()]
