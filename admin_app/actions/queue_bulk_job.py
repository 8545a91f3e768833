"""Queue a bulk action over many rows for the worker (a bulk job)."""

from __future__ import annotations

from sqlalchemy import insert

from ..actors import Actor
from ..errors import ActionError
from ..extensions import db
from ..models import BulkJob, BulkJobRow
from .runner import STAFF, ActionResult, ActionRun

MAX_ROWS = 2_000_000


def queue_bulk_job(*, action: str, label: str, params: dict, row_ids: list[int], actor: Actor,
                   idempotency_key: str) -> ActionResult[BulkJob]:
    """Record a bulk job: ``action`` (a bulk action's name) with ``params`` over ``row_ids``,
    frozen now (the ticked rows, or every row matching the list then), each row once. The
    caller hands it to the worker after this commits; until then, or if that is lost, the
    worker's sweep picks up queued jobs.

    Error codes: ``not_permitted``, ``no_rows``, ``too_many_rows``, ``already_done``.
    """
    with ActionRun("queue_bulk_job", actor=actor, key=idempotency_key, target=None,
                   roles=STAFF, doing="run bulk actions") as run:
        unique_ids = list(dict.fromkeys(int(row_id) for row_id in row_ids))
        if not unique_ids:
            raise ActionError("no_rows", "No rows were selected.")
        if len(unique_ids) > MAX_ROWS:
            raise ActionError("too_many_rows", f"At most {MAX_ROWS:,} rows at a time: narrow "
                                               "the list with a filter.")
        job = BulkJob(action=action, label=label[:200], params=params,
                      actor_id=actor.id, total=len(unique_ids))
        db.session.add(job)
        db.session.flush()
        db.session.execute(insert(BulkJobRow),
                           [{"job_id": job.id, "row_id": row_id} for row_id in unique_ids])
        run.audit_target = job
        return run.done(job, f"{label}: {len(unique_ids):,} rows queued for the worker.",
                        after={"action": action, "params": params, "total": len(unique_ids)})
