"""How long one ``billing run`` takes over N due subscriptions, and its peak memory; then a
second run right after, which must find nothing to do.

    python benchmarks/billing_run.py --count 100000
    python benchmarks/billing_run.py --count 500 --idle 100000   # the second run's scan
    python benchmarks/billing_run.py --count 100000 --postgresql     # a throwaway server
    python benchmarks/billing_run.py --count 100000 \
        --database-url 'postgresql+psycopg://postgres@127.0.0.1:5432/bench'

Builds the schema with the real migrations, then inserts N monthly subscriptions (bulk SQL, not
timed) whose period ended an hour ago, each with its paid current period, a member and a saved
card at the offline gateway (its own SQLite database, as in production). The run renews each:
opens the next period, charges the card (two phases around the gateway), issues the receipt,
grants the credits. Prints the time, the subscriptions per second, and the process's peak
resident memory during each run (``ru_maxrss`` before and after; the first line is the
baseline after loading).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from admin_app import create_app  # noqa: E402
from admin_app.extensions import db  # noqa: E402
from benchmarks.scale import peak_mb, rss_mb, start_postgresql  # noqa: E402


def load(count: int, idle: int = 0, batch: int = 5000) -> None:
    """``count`` due subscriptions with their paid current period, members and cards (bulk),
    then ``idle`` more whose period ends next week (not due: what a second run must skip)."""
    from sqlalchemy import insert

    from admin_app.clock import utcnow
    from admin_app.models import (
        BillingPeriod,
        Contact,
        PaymentMethod,
        PeriodStatus,
        Plan,
        PlanService,
        Service,
        Subscription,
        SubscriptionStatus,
    )
    from admin_app.payments import get_gateway
    from admin_app.payments.offline import cards, customers

    now = utcnow()
    start, due_end = now - timedelta(days=31), now - timedelta(hours=1)
    service = Service(name="Physiotherapy", price_minor=9000, currency="USD")
    plan = Plan(name="Physio Monthly", price_minor=12000, currency="USD", interval="month",
                interval_count=1, activation_fee_minor=0)
    plan.services.append(PlanService(service=service, credits_per_period=4))
    db.session.add(plan)
    db.session.commit()
    gateway_engine = get_gateway().engine
    for first in range(0, count + idle, batch):
        ids = range(first + 1, min(first + batch, count + idle) + 1)

        def end(n):
            return due_end if n <= count else now + timedelta(days=7)

        db.session.execute(insert(Contact), [
            {"id": n, "first_name": f"Member{n}", "last_name": "Bench",
             "email": f"m{n}@bench.example", "stripe_customer_id": f"cus_bench_{n}",
             "created_at": start, "updated_at": start} for n in ids])
        db.session.execute(insert(PaymentMethod), [
            {"id": n, "contact_id": n, "brand": "visa", "last4": "4242", "exp_month": 12,
             "exp_year": 2035, "is_default": True, "gateway_id": f"card_bench_{n}",
             "created_at": start, "updated_at": start} for n in ids])
        db.session.execute(insert(Subscription), [
            {"id": n, "contact_id": n, "plan_id": plan.id, "status": SubscriptionStatus.ACTIVE,
             "current_period_start": start, "current_period_end": end(n),
             "billing_anchor_at": start, "cancel_at_period_end": False,
             "created_at": start, "updated_at": start} for n in ids])
        db.session.execute(insert(BillingPeriod), [
            {"subscription_id": n, "plan_id": plan.id, "number": 1, "starts_at": start,
             "ends_at": end(n), "amount_minor": 12000, "discount_minor": 0, "currency": "USD",
             "status": PeriodStatus.PAID, "attempts": 1, "paid_at": start,
             "created_at": start} for n in ids])
        db.session.commit()
        with gateway_engine.begin() as conn:
            conn.execute(insert(customers), [{"id": f"cus_bench_{n}", "email": None,
                                              "name": f"Member{n}"} for n in ids])
            conn.execute(insert(cards), [{"id": f"card_bench_{n}",
                                          "customer_id": f"cus_bench_{n}",
                                          "number": "4242424242424242", "brand": "visa",
                                          "exp_month": 12, "exp_year": 2035,
                                          "is_detached": False} for n in ids])
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        for table in ("contact", "payment_method", "subscription"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def measure(label: str, run) -> None:
    before_peak, before_rss = peak_mb(), rss_mb()
    started = time.perf_counter()
    report = run()
    seconds = time.perf_counter() - started
    rate = report.subscriptions / seconds if seconds else 0
    print(f"{label}: {seconds:.1f} s, {report.subscriptions:,} subscriptions "
          f"({rate:,.0f}/s), peak RSS {peak_mb():.0f} MB (was {before_peak:.0f} MB, "
          f"RSS {before_rss:.0f} → {rss_mb():.0f} MB), {report.summary()} Load average "
          f"{os.getloadavg()[0]:.1f}.", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--idle", type=int, default=0,
                        help="also load this many subscriptions that are not due")
    parser.add_argument("--database-url")
    parser.add_argument("--postgresql", action="store_true",
                        help="start a throwaway PostgreSQL server for the run")
    args = parser.parse_args()

    server = None
    folder = tempfile.mkdtemp(prefix="billing-bench-")
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    if args.postgresql:
        server, url = start_postgresql()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark",
                      "OFFLINE_GATEWAY_URL": f"sqlite:///{folder}/gateway.sqlite3",
                      "JOBS_URL": f"sqlite:///{folder}/jobs.sqlite3"})
    try:
        with app.app_context():
            from flask_migrate import upgrade

            from admin_app.billing.renewals import billing_run

            upgrade()
            started = time.perf_counter()
            load(args.count, args.idle)
            print(f"{db.engine.dialect.name}: loaded {args.count:,} due subscriptions "
                  f"(and {args.idle:,} not due) in "
                  f"{time.perf_counter() - started:.1f} s; RSS {rss_mb():.0f} MB", flush=True)
            load_average = os.getloadavg()
            print(f"load average {load_average[0]:.1f} / {load_average[1]:.1f} on "
                  f"{os.cpu_count()} cores", flush=True)
            measure("first run (renews every one)", billing_run)
            measure("second run (nothing to do)", billing_run)
    finally:
        with app.app_context():
            db.engine.dispose()
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)  # the gateway's, the jobs' (and SQLite's)


if __name__ == "__main__":
    main()
