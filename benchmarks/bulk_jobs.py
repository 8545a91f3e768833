"""Benchmark bulk jobs on the worker: a bulk cancel of 10,000 subscriptions and a bulk no-show
fee of 1,000 appointments, on the offline gateway and a fresh SQLite database.

    python benchmarks/bulk_jobs.py                       # 10,000 cancels, 1,000 no-show fees
    python benchmarks/bulk_jobs.py --subscriptions 2000 --appointments 200

For each job it prints the submit's own time (what the admin's request does: record the job
and its frozen rows, put it on the queue; it must stay under a second), the worker's total
time and rows/s (a real ``flask worker`` process, as in production), and the worker's peak
memory (its resident set size, read from the kernel).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _seed(subscriptions: int, appointments: int) -> tuple[list[int], list[int]]:
    """Active subscriptions of their own contacts; missed appointments of 100 members with a
    card at the offline gateway."""
    from sqlalchemy import insert, select

    from admin_app.actions.add_payment_method import add_payment_method
    from admin_app.actors import SYSTEM
    from admin_app.clock import utcnow
    from admin_app.extensions import db
    from admin_app.models import (
        Appointment,
        Contact,
        Plan,
        Service,
        Subscription,
        SubscriptionStatus,
    )
    from admin_app.payments import CardDetails

    now = utcnow()
    service = Service(name="Physio", price_minor=9000, currency="USD")
    plan = Plan(name="Monthly", price_minor=12000, currency="USD")
    db.session.add_all([service, plan])
    db.session.flush()
    db.session.execute(insert(Contact), [{"first_name": f"Member{n}", "last_name": "Bench",
                                          "email": f"m{n}@bench.example"}
                                         for n in range(subscriptions + 100)])
    contact_ids = db.session.scalars(select(Contact.id).order_by(Contact.id)).all()
    db.session.execute(insert(Subscription), [
        {"contact_id": cid, "plan_id": plan.id, "status": SubscriptionStatus.ACTIVE,
         "current_period_start": now - timedelta(days=10),
         "current_period_end": now + timedelta(days=20)}
        for cid in contact_ids[:subscriptions]])
    members = contact_ids[subscriptions:]
    db.session.execute(insert(Appointment), [
        {"contact_id": members[n % len(members)], "service_id": service.id,
         "starts_at": now - timedelta(hours=2, minutes=n)} for n in range(appointments)])
    db.session.commit()
    for member_id in members:
        add_payment_method(db.session.get(Contact, member_id),
                           card=CardDetails("4242424242424242", 12, 2030, "123"),
                           make_default=True, actor=SYSTEM,
                           idempotency_key=f"bench-card-{member_id}")
    return (db.session.scalars(select(Subscription.id)).all(),
            db.session.scalars(select(Appointment.id)).all())


def _run_job(app, env: dict, action: str, params: dict, ids: list[int]) -> None:
    from admin_app.actions.queue_bulk_job import queue_bulk_job
    from admin_app.actors import SYSTEM
    from admin_app.extensions import db
    from admin_app.jobs.tasks import run_bulk_job
    from admin_app.models import BulkJob

    started = time.perf_counter()
    job = queue_bulk_job(action=action, label=f"Bench {action}", params=params, row_ids=ids,
                         actor=SYSTEM, idempotency_key=f"bench-{action}").record
    run_bulk_job(job.id)
    submitted = time.perf_counter() - started
    job_id = job.id
    db.session.remove()

    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "admin_app", "worker",
                               "--workers", "1", "--no-periodic"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    began = time.perf_counter()
    peak_kb = 0
    while True:
        with open(f"/proc/{worker.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    peak_kb = max(peak_kb, int(line.split()[1]))
        finished = db.session.get(BulkJob, job_id)
        done = finished.is_finished
        processed, state = finished.processed, finished.state.value
        db.session.remove()
        if done:
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - began
    worker.kill()
    worker.wait()
    print(f"{action}: {len(ids):,} rows, {state}")
    print(f"  submit (the admin's request)  {submitted * 1000:8.0f} ms")
    print(f"  worker total                  {elapsed:8.1f} s")
    print(f"  rows/s                        {processed / elapsed:8.0f}")
    print(f"  worker peak RSS               {peak_kb / 1024:8.1f} MB")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--appointments", type=int, default=1_000)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
           "OFFLINE_GATEWAY_URL": f"sqlite:///{folder / 'gateway.sqlite3'}",
           "JOBS_URL": f"sqlite:///{folder / 'jobs.sqlite3'}", "SECRET_KEY": "bulk-benchmark",
           "ADMIN_APP_INSTANCE": str(folder)}
    os.environ.update(env)
    from flask_migrate import upgrade

    from admin_app import create_app

    app = create_app()
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        subscription_ids, appointment_ids = _seed(args.subscriptions, args.appointments)
        print(f"seeded in {time.perf_counter() - started:.1f} s "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        _run_job(app, env, "cancel_subscription", {"at_period_end": False}, subscription_ids)
        _run_job(app, env, "charge_no_show_fee", {"amount_minor": 7500}, appointment_ids)
    own_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"benchmark process peak RSS {own_peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
