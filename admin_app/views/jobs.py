"""Settings → Background jobs: every bulk job (who, what, when, progress, outcome) and the
schedule; a job's page with its live progress bar, refused rows, Cancel job and its per-row
results as CSV."""

from __future__ import annotations

from flask import current_app, jsonify, redirect, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from ..actions.cancel_bulk_job import cancel_bulk_job
from ..clinic_time import clinic_zone
from ..clock import utcnow
from ..extensions import db
from ..jobs.bulk_actions import BULK_ACTIONS
from ..jobs.tasks import SCHEDULE, next_run
from ..models import BulkJob, BulkJobRow, RowOutcome, ScheduledRun
from .action_forms import ActionForm
from .action_pages import ActionPage, load_record
from .base import AppModelView
from .csv_export import stream_csv
from .formatting import export_time, format_datetime

SHOWN_REFUSALS = 50


def job_progress(job: BulkJob) -> dict:
    """What the job page shows and polls: counts, rate, time left, the running summary."""
    now = utcnow()
    elapsed = (((job.finished_at or now) - job.started_at).total_seconds()
               if job.started_at else 0)
    rate = job.processed / elapsed if elapsed > 0 else 0.0
    left = job.total - job.processed
    done_word = BULK_ACTIONS[job.action].done_word if job.action in BULK_ACTIONS else "done"
    parts = [f"{job.done_count:,} {done_word}"]
    if job.refused_count:
        parts.append(f"{job.refused_count:,} refused")
    if job.failed_count:
        parts.append(f"{job.failed_count:,} failed")
    return {"id": job.id, "state": job.state.value, "state_label": job.state.label,
            "total": job.total, "processed": job.processed, "done": job.done_count,
            "refused": job.refused_count, "failed": job.failed_count,
            "percent": round(100 * job.processed / job.total, 1) if job.total else 100.0,
            "rate": round(rate, 1),
            "seconds_left": round(left / rate) if rate > 0 and not job.is_finished else None,
            "summary": ", ".join(parts) + ("; cancelling after the current row"
                                           if job.is_cancel_requested and not job.is_finished
                                           else ""),
            "is_finished": job.is_finished}


class BulkJobView(AppModelView):
    """Settings → Background jobs (every role may look; staff may cancel)."""

    allow_create = False
    allow_edit = False
    allow_delete = False
    can_export = False
    can_view_details = True
    list_template = "admin/model/bulk_job_list.html"
    details_template = "admin/model/bulk_job_details.html"
    column_list = ["id", "label", "state", "total", "done_count", "refused_count",
                   "failed_count", "actor", "created_at", "finished_at"]
    column_filters = ["state", "action", "created_at"]
    column_searchable_list = ["label", "action"]
    column_labels = {"label": "Job", "total": "Rows", "done_count": "Done",
                     "refused_count": "Refused", "failed_count": "Failed", "actor": "By",
                     "created_at": "Submitted", "finished_at": "Finished"}
    column_default_sort = ("id", True)

    def schedule(self) -> list[dict]:
        """The worker's schedule: each task, how often, its last run and outcome."""
        runs = {run.name: run for run in db.session.scalars(select(ScheduledRun))}
        now = utcnow()
        return [{"name": name, "when": when, "run": runs.get(name),
                 "next": next_run(name, now)} for name, (when, _) in SCHEDULE.items()]

    def progress(self, job: BulkJob) -> dict:
        return job_progress(job)

    @expose("/progress/")
    def progress_view(self):
        job = load_record(self)
        return jsonify(job_progress(job))

    def refused_rows(self, job: BulkJob) -> list[BulkJobRow]:
        return db.session.scalars(select(BulkJobRow).where(
            BulkJobRow.job_id == job.id,
            BulkJobRow.outcome.in_((RowOutcome.REFUSED, RowOutcome.FAILED)))
            .order_by(BulkJobRow.id).limit(SHOWN_REFUSALS)).all()

    def row_url(self, job: BulkJob, row_id: int) -> str | None:
        """The page of a job's row (the subscription, appointment... it acted on)."""
        action = BULK_ACTIONS.get(job.action)
        endpoint = current_app.extensions["record_endpoints"].get(action.model) \
            if action else None
        return url_for(f"{endpoint}.details_view", id=row_id) if endpoint else None

    def cancel_form(self) -> ActionForm:
        return ActionForm()

    @expose("/cancel/", methods=("POST",))
    def cancel_view(self):
        page = ActionPage.open(self, doing="cancel background jobs",
                               back=lambda job: url_for(".details_view", id=job.id))
        return page.submit(ActionForm(), lambda key: cancel_bulk_job(
            page.record, actor=current_user, idempotency_key=key)) or redirect(page.back)

    @expose("/results.csv")
    def results_view(self):
        job = load_record(self)
        query = db.session.query(BulkJobRow).filter(BulkJobRow.job_id == job.id) \
            .order_by(BulkJobRow.id)
        zone = clinic_zone()  # read once: the stream runs on a connection of its own
        return stream_csv(query, ["Row", "Outcome", "Message", f"Finished ({zone.key})"],
                          lambda row: [row.row_id, row.outcome.label if row.outcome else
                                       "Not reached", row.message or "",
                                       export_time(row.finished_at, zone)],
                          f"job-{job.id}-results.csv")

    def format_time(self, moment) -> str:
        return format_datetime(moment) if moment else "—"
