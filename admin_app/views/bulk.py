"""Bulk actions over the ticked rows, or over every row matching the list's search and filters,
with a per-row report that never hides a row that was not done."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app, flash, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.orm import lazyload

from ..actions.queue_bulk_job import queue_bulk_job
from ..actions.runner import AlreadyDone
from ..errors import ActionError
from ..jobs.bulk_actions import BULK_ACTIONS
from ..jobs.tasks import run_bulk_job
from .record_ids import parse_row_ids

SHOWN_REFUSALS = 10


@dataclass
class BulkReport:
    done: list[int] = field(default_factory=list)
    already_done: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)

    def summary(self, done_word: str) -> str:
        """ "48 cancelled, 2 refused: #12 is already cancelled; #19 ..." """
        parts = [f"{len(self.done)} {done_word}"]
        if self.already_done:
            parts.append(f"{len(self.already_done)} already done before")
        text = ", ".join(parts)
        if self.refused:
            reasons = "; ".join(f"#{row_id}: {message.rstrip('.')}"
                                for row_id, message in self.refused[:SHOWN_REFUSALS])
            more = len(self.refused) - SHOWN_REFUSALS
            text += f", {len(self.refused)} refused: {reasons}"
            if more > 0:
                text += f" (and {more} more)"
        return text + "."


def run_bulk(row_ids: list[int], do_one: Callable[[int, str], object], *, bulk_key: str,
             done_word: str) -> BulkReport:
    """Run ``do_one(row_id, idempotency_key)`` for each row, each in its own transaction,
    carrying on past refusals; flash the report. The per-row key makes a resubmitted bulk
    form skip the rows it already did."""
    report = BulkReport()
    for row_id in row_ids:
        try:
            do_one(row_id, f"{bulk_key}:{row_id}"[:80])
            report.done.append(row_id)
        except AlreadyDone:
            report.already_done.append(row_id)
        except ActionError as error:
            report.refused.append((row_id, error.message))
        except Exception as error:  # noqa: BLE001 - one broken row must not hide the others
            current_app.logger.exception("bulk action failed on row %s", row_id)
            report.refused.append((row_id, f"unexpected error ({type(error).__name__})"))
    category = "success" if not report.refused else ("warning" if report.done else "error")
    flash(report.summary(done_word), category)
    return report


def run_bulk_action(action: str, params: dict, row_ids: list[int], *, label: str, key: str,
                    back: str):
    """Run the bulk action ``action`` (``jobs.bulk_actions``) with ``params`` over ``row_ids``
    and answer the request: a few rows (``BULK_INLINE_MAX``) at once, in this request, with
    the report flashed and the way ``back``; more as a background job, the admin taken to its
    page and its progress bar. The same verb runs each row either way."""
    bulk_action = BULK_ACTIONS[action]
    if len(row_ids) <= current_app.config.get("BULK_INLINE_MAX", 50):
        params_of_run = dict(params)

        def do_one(row_id: int, row_key: str):
            return bulk_action.run_row(row_id, params_of_run, actor=current_user,
                                       idempotency_key=row_key)

        run_bulk(row_ids, do_one, bulk_key=key, done_word=bulk_action.done_word)
        return redirect(back)
    try:
        job = queue_bulk_job(action=action, label=label, params=params, row_ids=row_ids,
                             actor=current_user, idempotency_key=key).record
    except AlreadyDone as done:  # the same form submitted again: its job, not a second one
        flash(done.message, "info")
        if done.request is None or done.request.result_id is None:
            return redirect(back)
        return redirect(url_for("bulk_job.details_view", id=done.request.result_id))
    except ActionError as refused:
        flash(refused.message, "error")
        return redirect(back)
    run_bulk_job(job.id)
    flash(f"{label}: {job.total:,} rows are being done in the background; this page shows "
          "their progress.", "info")
    return redirect(url_for("bulk_job.details_view", id=job.id))


@dataclass(frozen=True)
class Selection:
    """The rows a bulk action applies to, and whether they are every row matching the list."""

    ids: list[int]
    is_all_matching: bool = False

    def describe(self, noun: str) -> str:
        """ "2 selected subscriptions" · "all 120 subscriptions matching the list" """
        count = len(self.ids)
        if self.is_all_matching:
            return f"all {count} {noun} matching the list"
        return f"{count} selected {noun}"


def selection(view, ticked_ids) -> Selection:
    """The rows a bulk action applies to: every row matching the list the admin was looking
    at (its search and filters, from the form's return URL) when "all matching" was chosen,
    else the ticked rows of the page, read strictly (``record_ids.BadRowIds``)."""
    if request.form.get("select_all_matching") != "1":
        return Selection(parse_row_ids(ticked_ids))
    ids = ids_matching(view, request.form.get("url") or view.get_url(".index_view"))
    return Selection(parse_row_ids(map(str, ids)), is_all_matching=True)


def ids_matching(view, list_url: str) -> list[int]:
    with current_app.test_request_context(list_url):
        args = view._get_list_extra_args()
        g.skip_count = True
        try:
            _, query = view.get_list(0, None, False, args.search, args.filters, execute=False,
                                     page_size=0)
        finally:
            g.skip_count = False
    query = query.options(lazyload("*")).order_by(None).order_by(view.model.id)
    return [row.id for row in query.yield_per(1000)]
