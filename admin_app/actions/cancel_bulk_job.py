"""Cancel a bulk job (Background jobs → the job → Cancel job)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.locks import lock
from ..errors import ActionError
from ..models import BulkJob
from .runner import STAFF, ActionResult, ActionRun


def cancel_bulk_job(job: BulkJob, *, actor: Actor,
                    idempotency_key: str) -> ActionResult[BulkJob]:
    """Ask the worker to stop ``job`` after the row it is on: rows done stay done, the others
    are skipped (a queued job stops before its first row).

    Error codes: ``not_permitted``, ``job_finished``, ``already_done``.
    """
    with ActionRun("cancel_bulk_job", actor=actor, key=idempotency_key, target=job,
                   roles=STAFF, doing="cancel background jobs") as run:
        job = lock(BulkJob, job.id)
        if job.is_finished:
            raise ActionError("job_finished", f"{job} is already {job.state.label.lower()}.")
        run.before = {"state": job.state.value, "processed": job.processed}
        job.is_cancel_requested = True
        return run.done(job, f"{job}: cancelling after the current row "
                             f"({job.processed:,} of {job.total:,} done so far).",
                        after={"is_cancel_requested": True})
