"""Bulk jobs: each row carried out once, refusals reported, cancelled on request, and carried on
by another worker when one dies mid-job (a real ``flask worker`` process, killed)."""

from __future__ import annotations

import signal
from datetime import timedelta
from uuid import uuid4

from sqlalchemy import func, select, update

from admin_app.actions.cancel_bulk_job import cancel_bulk_job
from admin_app.actions.queue_bulk_job import queue_bulk_job
from admin_app.clock import utcnow
from admin_app.extensions import db
from admin_app.jobs.bulk_runner import execute_bulk_job
from admin_app.jobs.tasks import reconcile, run_bulk_job, sweep
from admin_app.models import (
    Appointment,
    BulkJob,
    BulkJobRow,
    BulkJobState,
    CreditEntry,
    NoShowFeeStatus,
    Payment,
    PaymentStatus,
    RowOutcome,
    ScheduledRun,
)
from tests.factories import give_card, make_appointment, make_contact, make_credit, make_service
from tests.workers import job, wait_for


def _contacts_with_and_without_credits(count: int):
    service = make_service(name="Yoga")
    contacts = [make_contact() for _ in range(count)]
    for contact in contacts[::2]:
        make_credit(contact=contact, service=service, quantity=1)
    db.session.commit()
    return service, contacts


def _queue(action: str, params: dict, ids: list[int], actor) -> int:
    return queue_bulk_job(action=action, label=f"Bulk {action}", params=params, row_ids=ids,
                          actor=actor, idempotency_key=uuid4().hex).record.id


def _outcomes(job_id: int) -> dict[int, RowOutcome]:
    return dict(db.session.execute(select(BulkJobRow.row_id, BulkJobRow.outcome)
                                   .where(BulkJobRow.job_id == job_id)).all())


def test_a_bulk_job_does_every_row_once_and_says_why_it_refused_some(app, owner):
    service, contacts = _contacts_with_and_without_credits(120)
    job_id = _queue("adjust_credits", {"service_id": service.id, "quantity": -1,
                                       "reason": "Clean-up"}, [c.id for c in contacts], owner)
    execute_bulk_job(job_id)
    done = job(job_id)
    assert done.state is BulkJobState.DONE and done.total == 120
    assert (done.done_count, done.refused_count, done.failed_count) == (60, 60, 0)
    outcomes = _outcomes(job_id)
    assert {outcomes[c.id] for c in contacts[::2]} == {RowOutcome.DONE}
    assert {outcomes[c.id] for c in contacts[1::2]} == {RowOutcome.REFUSED}
    refused = db.session.scalar(select(BulkJobRow.message).where(
        BulkJobRow.job_id == job_id, BulkJobRow.row_id == contacts[1].id))
    assert "cannot remove 1" in refused
    removals = lambda: db.session.scalar(select(func.count()).select_from(CreditEntry).where(  # noqa: E731
        CreditEntry.quantity < 0))
    assert removals() == 60

    execute_bulk_job(job_id)  # the engine may run a task twice: nothing happens again
    db.session.execute(update(BulkJob).where(BulkJob.id == job_id)
                       .values(state=BulkJobState.RUNNING))  # even when it looks unfinished
    db.session.execute(update(BulkJobRow).where(BulkJobRow.job_id == job_id)
                       .values(outcome=None))
    db.session.commit()
    execute_bulk_job(job_id)
    assert removals() == 60 and job(job_id).done_count == 120  # replayed: already done


def test_a_cancelled_job_skips_the_rows_it_had_not_reached(app, owner):
    service, contacts = _contacts_with_and_without_credits(10)
    job_id = _queue("adjust_credits", {"service_id": service.id, "quantity": 2,
                                       "reason": "Gift"}, [c.id for c in contacts], owner)
    cancel_bulk_job(job(job_id), actor=owner, idempotency_key=uuid4().hex)
    execute_bulk_job(job_id)
    cancelled = job(job_id)
    assert cancelled.state is BulkJobState.CANCELLED and cancelled.processed == 0
    assert set(_outcomes(job_id).values()) == {RowOutcome.SKIPPED}
    assert db.session.scalar(select(func.count()).select_from(CreditEntry).where(
        CreditEntry.quantity == 2)) == 0


def _missed_appointments(count: int, *, one_member: bool = False) -> list[Appointment]:
    """``count`` missed appointments, of one member or each of its own member, with a card."""
    service = make_service(name="Physio")
    members = [make_contact()] if one_member else [make_contact() for _ in range(count)]
    appointments = [make_appointment(contact=members[n % len(members)], service=service,
                                     starts_at=utcnow() - timedelta(hours=2 + n))
                    for n in range(count)]
    db.session.commit()
    for member in members:
        give_card(member)
    return appointments


def test_a_worker_carries_a_queued_job_out(app, owner, processor, start_worker):
    appointments = _missed_appointments(40, one_member=True)
    job_id = _queue("charge_no_show_fee", {"amount_minor": 7500},
                    [a.id for a in appointments], owner)
    run_bulk_job(job_id)  # onto the queue (jobs.sqlite3)
    start_worker()
    wait_for(lambda: job(job_id).is_finished)
    assert job(job_id).state is BulkJobState.DONE and job(job_id).done_count == 40
    assert processor.count_charges() == 40


def test_a_worker_killed_mid_job_is_replaced_and_no_row_is_done_twice(app, owner, processor,
                                                                      start_worker):
    appointments = _missed_appointments(60)
    job_id = _queue("charge_no_show_fee", {"amount_minor": 7500},
                    [a.id for a in appointments], owner)
    run_bulk_job(job_id)
    first = start_worker(threads=1)
    wait_for(lambda: job(job_id).processed >= 10, what="10 rows")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    halfway = job(job_id)
    assert not halfway.is_finished and halfway.processed < 60

    # The schedule reconciles what the dead worker left pending; two minutes later (the job's
    # heartbeat and its claimed row aged) the sweep hands the job to a new worker.
    reconcile(min_age=timedelta(0))
    aged = utcnow() - timedelta(minutes=3)
    db.session.execute(update(BulkJob).where(BulkJob.id == job_id).values(heartbeat_at=aged))
    db.session.execute(update(BulkJobRow).where(BulkJobRow.job_id == job_id,
                                                BulkJobRow.outcome == RowOutcome.WORKING)
                       .values(claimed_at=aged))
    db.session.commit()
    assert "1 job(s) handed" in sweep()
    start_worker(threads=1)
    wait_for(lambda: job(job_id).is_finished)
    finished = job(job_id)
    assert finished.state is BulkJobState.DONE and finished.processed == 60
    assert finished.done_count >= 59 and finished.refused_count == 0  # one may be interrupted
    # Each appointment charged at most once, and the processor holds exactly those charges.
    charged = db.session.scalars(select(Appointment.id).where(
        Appointment.no_show_fee_status == NoShowFeeStatus.CHARGED)).all()
    assert len(charged) >= 59 and processor.count_charges() == len(charged)
    fees = db.session.scalars(select(Payment.description)).all()
    assert len(fees) == len(set(fees))  # never a second attempt for one appointment
    paid = db.session.scalar(select(func.count()).select_from(Payment).where(
        Payment.status == PaymentStatus.SUCCEEDED))
    assert paid == processor.count_charges()
    done_rows = db.session.scalars(select(BulkJobRow.row_id).where(
        BulkJobRow.job_id == job_id, BulkJobRow.outcome == RowOutcome.DONE)).all()
    assert set(done_rows) <= set(charged)


def test_the_sweep_is_a_command_and_its_runs_are_kept(app):
    result = app.test_cli_runner().invoke(args=["sweep-jobs"])
    assert result.exit_code == 0 and "No stalled job" in result.output
    run = db.session.get(ScheduledRun, "sweep_jobs")
    assert run.is_ok and run.last_finished_at is not None and "No stalled" in run.last_outcome
    listed = app.test_cli_runner().invoke(args=["jobs"])
    assert "sweep_jobs" in listed.output
