"""Several workers on several machines: Redis as the queue, PostgreSQL as the database, two
worker processes sharing one job, and two runs of one job at once: no row done twice."""

from __future__ import annotations

import threading
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from admin_app.actions.queue_bulk_job import queue_bulk_job
from admin_app.extensions import db
from admin_app.jobs.bulk_runner import execute_bulk_job
from admin_app.jobs.engine import init_jobs
from admin_app.jobs.tasks import run_bulk_job
from admin_app.models import BulkJobState, CreditEntry
from tests.factories import make_contact, make_service
from tests.workers import job, wait_for

# Concurrent commits: PostgreSQL, as several servers share it.
pytestmark = pytest.mark.backends("postgresql")


def _gift_job(owner, count: int) -> int:
    service = make_service(name="Pilates")
    contacts = [make_contact() for _ in range(count)]
    db.session.commit()
    return queue_bulk_job(action="adjust_credits", label="Gift",
                          params={"service_id": service.id, "quantity": 1, "reason": "Gift"},
                          row_ids=[c.id for c in contacts], actor=owner,
                          idempotency_key=uuid4().hex).record.id


def _gifts() -> int:
    return db.session.scalar(select(func.count()).select_from(CreditEntry))


@pytest.mark.fresh_database
def test_two_runs_of_one_job_at_once_do_each_row_once(app, owner):
    job_id = _gift_job(owner, 200)

    def run() -> None:
        with app.app_context():
            execute_bulk_job(job_id)
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    finished = job(job_id)
    assert finished.state is BulkJobState.DONE and finished.done_count == 200
    assert _gifts() == 200


def test_two_workers_share_a_job_through_redis(app, owner, redis_url, start_worker):
    app.config["JOBS_URL"] = redis_url
    init_jobs(app)
    job_id = _gift_job(owner, 300)
    run_bulk_job(job_id)
    run_bulk_job(job_id)  # both workers pick the job up
    start_worker(threads=2)
    start_worker(threads=2)
    wait_for(lambda: job(job_id).is_finished)
    finished = job(job_id)
    assert finished.state is BulkJobState.DONE
    assert (finished.done_count, finished.refused_count) == (300, 0)
    assert _gifts() == 300
