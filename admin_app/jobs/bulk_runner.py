"""Carrying a bulk job out, row after row, so that no row is ever done twice and none is lost.

- A row is **claimed** before it is worked on (``outcome`` goes from empty to *working* in a
  committed update that only one worker can win), then the verb runs with the idempotency key
  ``bulk-<job>-<row>``, then the row's outcome and the job's counters are committed together.
- A worker that dies mid-row leaves the row *working*: after ``STALE`` it is claimed again,
  and the verb's key makes a row whose action had committed report ``already_done`` instead
  of acting twice. Several workers share one job safely (each claims its own rows).
- Between rows the job's heartbeat moves and its cancel request is honoured; a running job
  whose heartbeat stopped is handed to a worker again by the sweep (``tasks.sweep_jobs``).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from ..actions.runner import AlreadyDone
from ..actors import SYSTEM
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import AdminUser, BulkJob, BulkJobRow, BulkJobState, RowOutcome
from .bulk_actions import BULK_ACTIONS

STALE = timedelta(minutes=2)


def row_key(job_id: int, row_id: int) -> str:
    return f"bulk-{job_id}-{row_id}"


def execute_bulk_job(job_id: int) -> None:
    """Work on ``job_id`` until no row is left (or it is cancelled); safe to call twice, and
    from several workers at once."""
    job = db.session.get(BulkJob, job_id)
    if job is None or job.is_finished:
        return
    action = BULK_ACTIONS.get(job.action)
    if action is None:
        _set_state(job_id, BulkJobState.FAILED, error=f"Unknown bulk action {job.action!r}.")
        return
    actor = db.session.get(AdminUser, job.actor_id) if job.actor_id else SYSTEM
    params = dict(job.params or {})
    _start(job_id)
    while not _cancel_requested(job_id):
        claimed = _claim_next_row(job_id)
        if claimed is None:
            break
        row_pk, row_id = claimed
        outcome, message = _carry_out(action, job_id, row_id, params, actor)
        _record(job_id, row_pk, outcome, message)
    _finish_if_complete(job_id)


def _start(job_id: int) -> None:
    now = utcnow()
    db.session.execute(update(BulkJob).where(
        BulkJob.id == job_id, BulkJob.state.in_((BulkJobState.QUEUED, BulkJobState.RUNNING)))
        .values(state=BulkJobState.RUNNING, heartbeat_at=now,
                started_at=func.coalesce(BulkJob.started_at, now)))
    db.session.commit()


def _cancel_requested(job_id: int) -> bool:
    requested = db.session.scalar(select(BulkJob.is_cancel_requested)
                                  .where(BulkJob.id == job_id))
    db.session.commit()
    return bool(requested)


def _claim_next_row(job_id: int) -> tuple[int, int] | None:
    """Claim the next row nobody works on (or whose worker went silent); None when done.

    Each lookup is a range of the (job, outcome, id) index: the rows not started, else the
    claimed rows gone stale (a query with both in one OR would read every row of the job)."""
    while True:
        stale_before = utcnow() - STALE
        fresh = (BulkJobRow.outcome.is_(None),)
        stale = (BulkJobRow.outcome == RowOutcome.WORKING, BulkJobRow.claimed_at < stale_before)
        for condition in (fresh, stale):
            candidate = db.session.execute(
                select(BulkJobRow.id, BulkJobRow.row_id)
                .where(BulkJobRow.job_id == job_id, *condition)
                .order_by(BulkJobRow.id).limit(1)).first()
            if candidate is not None:
                break
        else:
            db.session.commit()
            return None
        won = db.session.execute(update(BulkJobRow).where(BulkJobRow.id == candidate.id,
                                                          *condition)
                                 .values(outcome=RowOutcome.WORKING, claimed_at=utcnow()))
        db.session.commit()
        if won.rowcount == 1:
            return candidate.id, candidate.row_id


def _carry_out(action, job_id: int, row_id: int, params: dict,
               actor) -> tuple[RowOutcome, str]:
    try:
        result = action.run_row(row_id, params, actor=actor,
                                idempotency_key=row_key(job_id, row_id))
        return RowOutcome.DONE, result.message
    except AlreadyDone as done:  # carried out before the worker died: not again
        request = done.request
        if request is None or not request.message:
            # NOTE: the worker died inside the action, after its first phase: what it left
            # (a pending payment) is settled by reconcile; the row is not tried again.
            return RowOutcome.FAILED, ("Interrupted while being carried out (the worker "
                                       "stopped): what it recorded is settled by reconcile. "
                                       "Check this row.")
        return (RowOutcome.REFUSED if request.error_code else RowOutcome.DONE), request.message
    except ActionError as refused:
        return RowOutcome.REFUSED, refused.message
    except Exception as error:  # noqa: BLE001 - one broken row must not stop the others
        db.session.rollback()
        current_app.logger.exception("bulk job %s failed on row %s", job_id, row_id)
        return RowOutcome.FAILED, f"Unexpected error ({type(error).__name__})."


_COUNTERS = {RowOutcome.DONE: BulkJob.done_count, RowOutcome.REFUSED: BulkJob.refused_count,
             RowOutcome.FAILED: BulkJob.failed_count}


def _record(job_id: int, row_pk: int, outcome: RowOutcome, message: str) -> None:
    """The row's outcome and the job's counter, in one transaction; only a row still claimed
    counts (a row another worker finished meanwhile is not counted twice)."""
    finished = db.session.execute(update(BulkJobRow).where(
        BulkJobRow.id == row_pk, BulkJobRow.outcome == RowOutcome.WORKING)
        .values(outcome=outcome, message=(message or "")[:300], finished_at=utcnow()))
    if finished.rowcount == 1:
        counter = _COUNTERS[outcome]
        db.session.execute(update(BulkJob).where(BulkJob.id == job_id)
                           .values({counter: counter + 1, BulkJob.heartbeat_at: utcnow()}))
    db.session.commit()


def _finish_if_complete(job_id: int) -> None:
    """Done when no row is left; cancelled (the rest skipped) when asked. Rows another worker
    still holds are left to it: it finishes the job."""
    job = db.session.get(BulkJob, job_id)
    if job.is_cancel_requested:
        db.session.execute(update(BulkJobRow).where(
            BulkJobRow.job_id == job_id, BulkJobRow.outcome.is_(None))
            .values(outcome=RowOutcome.SKIPPED, message="Job cancelled before this row.",
                    finished_at=utcnow()))
        db.session.commit()
    left = db.session.scalar(select(func.count()).select_from(BulkJobRow).where(
        BulkJobRow.job_id == job_id,
        BulkJobRow.outcome.is_(None) | (BulkJobRow.outcome == RowOutcome.WORKING)))
    if left == 0:
        _set_state(job_id, BulkJobState.CANCELLED if job.is_cancel_requested
                   else BulkJobState.DONE)
    else:
        db.session.commit()


def _set_state(job_id: int, state: BulkJobState, error: str | None = None) -> None:
    db.session.execute(update(BulkJob).where(
        BulkJob.id == job_id, BulkJob.state.in_((BulkJobState.QUEUED, BulkJobState.RUNNING)))
        .values(state=state, finished_at=utcnow(), error=error))
    db.session.commit()


def stalled_job_ids() -> list[int]:
    """Jobs that need a worker: queued, or running with a silent heartbeat."""
    stale_before = utcnow() - STALE
    ids = db.session.scalars(select(BulkJob.id).where(
        (BulkJob.state == BulkJobState.QUEUED) & (BulkJob.created_at < stale_before)
        | (BulkJob.state == BulkJobState.RUNNING)
        & (func.coalesce(BulkJob.heartbeat_at, BulkJob.created_at) < stale_before))
        .order_by(BulkJob.id)).all()
    db.session.commit()
    return list(ids)
