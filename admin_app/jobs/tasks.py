"""The worker's tasks and schedule. Each is safe to run twice (the database decides what is
done), and each scheduled task is also a CLI command, so cron can drive it where no worker runs.

| task | when | what |
|---|---|---|
| ``run_bulk_job`` | on demand | carry a bulk job out (``bulk_runner``) |
| ``charge_owed_periods`` | a new card saved | retry the member's owed periods at once |
| ``sweep_jobs`` | every minute | hand queued or stalled jobs to a worker again |
| ``reconcile_payments`` | every 5 minutes | ``payments reconcile``: settle pending attempts |
| ``refresh_reports`` | every 10 minutes | ``reports refresh``: the months that changed |
| ``deliver_messages_now`` | after the commit that queued them | send emails / SMS |
| ``deliver_messages`` | every minute | ``documents deliver``: retries due, interrupted sends |
| ``zip_documents`` | on demand | many documents' PDFs in one zip |
| ``billing_run`` | hourly (minute 7) | ``billing run``: renewals, retries (``renewals``) |
"""

from __future__ import annotations

from datetime import datetime, timedelta

from huey import crontab

from ..actions.reconcile_pending import reconcile_pending
from ..billing.reconciling import MIN_AGE, Outcome
from ..billing.renewals import bill_contact_now, billing_run
from ..clock import utcnow
from ..documents.archive import build_export, remove_expired_exports
from ..documents.delivery import on_message_committed
from ..documents.sending import deliver, deliver_due
from ..extensions import db
from ..models import ScheduledRun
from ..reports.summary import refresh_summary
from .bulk_runner import execute_bulk_job, stalled_job_ids
from .engine import app_periodic_task, app_task

SCHEDULE = {"sweep_jobs": ("every minute", crontab()),
            "reconcile_payments": ("every 5 minutes", crontab(minute="*/5")),
            "deliver_messages": ("every minute", crontab()),
            "billing_run": ("hourly", crontab(minute="7")),
            "refresh_reports": ("every 10 minutes", crontab(minute="*/10")),
            "remove_expired_zips": ("daily at 03:23 UTC", crontab(minute="23", hour="3"))}


def next_run(name: str, after: datetime) -> datetime | None:
    """When the scheduled task ``name`` runs next after ``after`` (the worker's clock: UTC,
    to the minute), or None if not within a day."""
    schedule = SCHEDULE[name][1]
    moment = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(24 * 60):
        if schedule(moment.replace(tzinfo=None)):
            return moment
        moment += timedelta(minutes=1)
    return None


@app_task(retries=3, retry_delay=30)
def charge_owed_periods(contact_id: int) -> str:
    """A member saved a new card: retry their past due and unpaid periods at once."""
    return bill_contact_now(contact_id).summary()


@app_task(retries=3, retry_delay=30)
def run_bulk_job(job_id: int) -> None:
    execute_bulk_job(job_id)


def record_run(name: str, run) -> str:
    """Run ``run()`` (returning a sentence) as the scheduled task ``name``, keeping when it
    started, ended and how, for the Background jobs page."""
    record = db.session.get(ScheduledRun, name) or ScheduledRun(name=name)
    record.last_started_at = utcnow()
    db.session.merge(record)
    db.session.commit()
    try:
        outcome, is_ok = run(), True
    except Exception as error:  # noqa: BLE001 - recorded, then raised for the engine's retry
        db.session.rollback()
        _finish_run(name, f"Failed: {type(error).__name__}: {error}", is_ok=False)
        raise
    _finish_run(name, outcome, is_ok=is_ok)
    return outcome


def _finish_run(name: str, outcome: str, *, is_ok: bool) -> None:
    record = db.session.get(ScheduledRun, name)
    record.last_finished_at, record.last_outcome, record.is_ok = utcnow(), outcome[:300], is_ok
    db.session.commit()


def sweep() -> str:
    ids = stalled_job_ids()
    for job_id in ids:
        run_bulk_job(job_id)
    return f"{len(ids)} job(s) handed to a worker." if ids else "No stalled job."


def reconcile(min_age: timedelta = MIN_AGE) -> str:
    from ..actions.reconcile_signups import reconcile_signups

    done = reconcile_pending(min_age=min_age) + reconcile_signups(min_age=min_age)
    waiting = sum(r.outcome is Outcome.STILL_PENDING for r in done)
    return f"{len(done) - waiting} settled, {waiting} still pending."


@app_periodic_task(SCHEDULE["sweep_jobs"][1])
def sweep_jobs() -> str:
    return record_run("sweep_jobs", sweep)


@app_periodic_task(SCHEDULE["reconcile_payments"][1])
def reconcile_payments() -> str:
    return record_run("reconcile_payments", reconcile)


def refresh_reports_summary() -> str:
    months = refresh_summary()
    return (f"{len(months)} month(s) of the reports recomputed: "
            f"{', '.join(m.key for m in months)}." if months else "Reports up to date.")


@app_periodic_task(SCHEDULE["refresh_reports"][1])
def refresh_reports() -> str:
    return record_run("refresh_reports", refresh_reports_summary)


@app_task()
def deliver_messages_now(message_ids: list[int]) -> None:
    """Send these messages (each a no-op when sent already, or not due): queued after the
    commit that wrote them."""
    for message_id in message_ids:
        deliver(message_id)


# Every message committed anywhere (an action, a job, a command) is handed to the worker.
on_message_committed(deliver_messages_now)


@app_periodic_task(SCHEDULE["deliver_messages"][1])
def deliver_messages() -> str:
    return record_run("deliver_messages", deliver_due)


@app_task(retries=2, retry_delay=30)
def zip_documents(document_ids: list[int], name: str) -> None:
    """The selected documents' PDFs in one zip (Accounting documents → Download selected)."""
    build_export(document_ids, name)


def remove_expired_zips_now() -> str:
    removed = remove_expired_exports()
    return f"{removed} expired zip(s) of documents removed." if removed else "Nothing expired."


@app_periodic_task(SCHEDULE["remove_expired_zips"][1])
def remove_expired_zips() -> str:
    """The documents' zips past their 7 days (``documents.archive``)."""
    return record_run("remove_expired_zips", remove_expired_zips_now)


def renew() -> str:
    return billing_run().summary()


@app_periodic_task(SCHEDULE["billing_run"][1])
def billing_run_task() -> str:
    return record_run("billing_run", renew)
