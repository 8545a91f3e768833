"""Background work: bulk jobs (one action over many rows, run by the worker) and the runs of
the scheduled tasks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .admin_user import AdminUser
from .base import LabelledEnum, UTCDateTime, str_enum, utcnow


class BulkJobState(LabelledEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RowOutcome(LabelledEnum):
    WORKING = "working"  # claimed by a worker, not finished (or the worker died: resumed)
    DONE = "done"
    REFUSED = "refused"  # the action refused the row, with its reason
    FAILED = "failed"  # an unexpected error on this row
    SKIPPED = "skipped"  # the job was cancelled before the row was reached


class BulkJob(db.Model):
    """One bulk action over many rows, run by the worker. Its rows are frozen when it is
    submitted (the ticked ids, or every row matching the list's search and filters then);
    each row is carried out once, whatever happens to the worker (``bulk_job_row``)."""

    __tablename__ = "bulk_job"
    __table_args__ = (Index("ix_bulk_job_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    params: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("admin_user.id"))
    state: Mapped[BulkJobState] = mapped_column(str_enum(BulkJobState, "bulk_job_state"),
                                                nullable=False, default=BulkJobState.QUEUED)
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    done_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    refused_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    is_cancel_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Raised by the worker while it works: a running job whose heartbeat stopped lost its
    # worker, and the sweep hands it to another.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor: Mapped[AdminUser | None] = relationship()

    @property
    def processed(self) -> int:
        return self.done_count + self.refused_count + self.failed_count

    @property
    def is_finished(self) -> bool:
        return self.state in (BulkJobState.DONE, BulkJobState.FAILED, BulkJobState.CANCELLED)

    def __str__(self) -> str:
        return f"Job #{self.id} · {self.label}"


class BulkJobRow(db.Model):
    """One target row of a bulk job and what became of it. Unique per job and row: a row is
    claimed before it is worked on, and its action's idempotency key (``bulk-<job>-<row>``)
    makes even a row whose worker died mid-action run at most once."""

    __tablename__ = "bulk_job_row"
    __table_args__ = (UniqueConstraint("job_id", "row_id"),
                      Index("ix_bulk_job_row_job_outcome", "job_id", "outcome", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("bulk_job.id"), nullable=False)
    row_id: Mapped[int] = mapped_column(Integer, nullable=False)
    outcome: Mapped[RowOutcome | None] = mapped_column(str_enum(RowOutcome, "bulk_row_outcome"))
    message: Mapped[str | None] = mapped_column(String(300))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScheduledRun(db.Model):
    """The last run of a scheduled task (reconcile, the sweep...), for the Background jobs
    page and for an operator asking "did it run?"."""

    __tablename__ = "scheduled_run"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_outcome: Mapped[str | None] = mapped_column(String(300))
    is_ok: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
