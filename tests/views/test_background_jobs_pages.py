"""Bulk actions over more rows than run inline become background jobs: the admin is taken to
the job's page (progress, Cancel job, results as CSV); Settings → Background jobs lists them
with the worker's schedule; Home shows the jobs running now."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from admin_app.extensions import db
from admin_app.jobs.bulk_runner import execute_bulk_job
from admin_app.models import BulkJob, BulkJobState, Subscription
from tests.factories import make_contact, make_plan, make_subscription


def _subscriptions(count: int) -> list[int]:
    plan = make_plan()
    ids = [make_subscription(contact=make_contact(), plan=plan) for _ in range(count)]
    db.session.commit()
    return [s.id for s in ids]


def _bulk_cancel(client, ids: list[int], key: str = "bulk-key-1"):
    return client.post("/admin/subscription/bulk/cancel_subscriptions/?url=/admin/subscription/",
                       data={"row_ids": ",".join(map(str, ids)), "when": "period_end",
                             "credits": "keep", "idempotency_key": key})


def test_a_few_rows_run_inline_and_more_become_a_job(client, login, app):
    login("manager")
    app.config["BULK_INLINE_MAX"] = 3
    few = _subscriptions(3)
    inline = _bulk_cancel(client, few)
    assert inline.status_code == 302 and inline.location.endswith("/admin/subscription/")
    assert db.session.scalar(select(BulkJob.id)) is None
    many = _subscriptions(5)
    queued = _bulk_cancel(client, many, key="bulk-key-2")
    job = db.session.scalars(select(BulkJob)).one()
    assert queued.location.endswith(f"/admin/bulk_job/details/?id={job.id}")
    assert job.total == 5 and job.state is BulkJobState.QUEUED
    page = client.get(queued.location).get_data(as_text=True)
    assert "being done in the background" in page and "Cancel job" in page
    home = client.get("/admin/").get_data(as_text=True)
    assert "Running in the background" in home and job.label in home
    again = _bulk_cancel(client, many, key="bulk-key-2")  # the same form twice: one job
    assert again.location.endswith(f"/admin/bulk_job/details/?id={job.id}")
    assert db.session.query(BulkJob).count() == 1

    execute_bulk_job(job.id)  # as the worker does
    progress = client.get(f"/admin/bulk_job/progress/?id={job.id}").get_json()
    assert progress["state"] == "done" and progress["done"] == 5 and progress["percent"] == 100
    assert "5 cancelled" in progress["summary"]
    results = list(csv.reader(io.StringIO(client.get(
        f"/admin/bulk_job/results.csv?id={job.id}").get_data(as_text=True))))
    assert results[0] == ["Row", "Outcome", "Message", "Finished (UTC)"]
    assert sorted(int(row[0]) for row in results[1:]) == sorted(many)
    assert {row[1] for row in results[1:]} == {"Done"}
    assert all(db.session.get(Subscription, i).cancel_at_period_end for i in many)


def test_a_job_is_cancelled_from_its_page_and_a_viewer_may_not(client, login, app):
    app.config["BULK_INLINE_MAX"] = 1
    ids = _subscriptions(3)
    login("manager")
    _bulk_cancel(client, ids)
    job = db.session.scalars(select(BulkJob)).one()
    client.post("/admin/logout")
    login("viewer")
    refused = client.post(f"/admin/bulk_job/cancel/?id={job.id}", data={"idempotency_key": "c1"})
    assert refused.status_code == 302
    db.session.expire_all()
    assert not db.session.get(BulkJob, job.id).is_cancel_requested
    client.post("/admin/logout")
    login("manager")
    done = client.post(f"/admin/bulk_job/cancel/?id={job.id}", data={"idempotency_key": "c2"})
    assert done.status_code == 302
    execute_bulk_job(job.id)
    db.session.expire_all()
    assert db.session.get(BulkJob, job.id).state is BulkJobState.CANCELLED
    listing = client.get("/admin/bulk_job/").get_data(as_text=True)
    assert "Schedule of the worker" in listing and "Reconcile payments" in listing


def test_the_schedule_says_when_each_task_runs_next():
    from datetime import UTC, datetime

    from admin_app.jobs.tasks import next_run

    at = datetime(2026, 12, 1, 10, 7, 30, tzinfo=UTC)
    assert next_run("reconcile_payments", at) == datetime(2026, 12, 1, 10, 10, tzinfo=UTC)
    assert next_run("sweep_jobs", at) == datetime(2026, 12, 1, 10, 8, tzinfo=UTC)
    assert next_run("billing_run", at) == datetime(2026, 12, 1, 11, 7, tzinfo=UTC)


def test_checking_many_pending_payments_with_the_processor_is_a_job(client, login, app):
    from admin_app.models import PaymentStatus
    from tests.factories import make_payment

    app.config["BULK_INLINE_MAX"] = 1
    contact = make_contact()
    pending = [make_payment(contact=contact, status=PaymentStatus.PENDING, paid_at=None)
               for _ in range(3)]
    db.session.commit()
    login("cashier")
    response = client.post("/admin/payment/action/", data={
        "action": "check_with_processor", "rowid": [str(p.id) for p in pending],
        "url": "/admin/payment/"})
    job = db.session.scalars(select(BulkJob)).one()
    assert response.location.endswith(f"/admin/bulk_job/details/?id={job.id}")
    assert job.action == "reconcile_payment" and job.total == 3
    execute_bulk_job(job.id)
    db.session.expire_all()
    assert db.session.get(BulkJob, job.id).processed == 3
