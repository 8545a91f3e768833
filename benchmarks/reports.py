"""How fast Home and the Reports answer at scale, and what keeping their summary costs.

    python benchmarks/reports.py --contacts 1000000
    python benchmarks/reports.py --contacts 1000000 \
        --database-url 'postgresql+psycopg://postgres@/bench?host=/tmp/pg'

(``benchmarks/admin_pages.py`` times the same pages side by side with the raw queries behind
them, p50 and p95.) Builds the database at scale as ``benchmarks/scale.py`` does (migrations,
``seed scale`` unless the database holds N contacts, billing periods for the seeded
subscriptions), then measures:

- ``reports rebuild``: every month recomputed from the billing tables;
- ``reports refresh`` with nothing changed, and after one payment was written;
- one month computed directly (what a page costs for a month the worker has not computed);
- Home and each report (12 months, all plans; and one plan) through the test client, median
  of several runs, reading the summary.
"""

from __future__ import annotations

import argparse
import statistics
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
from benchmarks.scale import at_scale  # noqa: E402


def timed(label: str, run, repeat: int = 1) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    median = statistics.median(timings)
    extra = f"   max {max(timings):8.1f} ms" if repeat > 1 else ""
    print(f"{label:<48} {'median ' if repeat > 1 else ''}{median:8.1f} ms{extra}", flush=True)
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": "benchmark"})
    with app.app_context():
        from sqlalchemy import func, select

        from admin_app.clinic_time import clinic_zone
        from admin_app.clock import utcnow
        from admin_app.models import BillingPeriod, Contact, Payment, Plan
        from admin_app.reports.calendar import month_of
        from admin_app.reports.catalog import REPORTS
        from admin_app.reports.summary import compute_month, rebuild_summary, refresh_summary
        from tests.factories import make_admin, make_payment

        at_scale(args.contacts)
        count = lambda model: db.session.scalar(  # noqa: E731
            select(func.count()).select_from(model))
        print(f"database: {db.engine.dialect.name}, contacts: {count(Contact):,}, payments: "
              f"{count(Payment):,}, billing periods: {count(BillingPeriod):,}", flush=True)

        months: list = []
        timed("reports rebuild (every month)", lambda: months.append(rebuild_summary()))
        print(f"  ({months[0]} months)")
        timed("reports refresh, nothing changed", refresh_summary)
        make_payment(amount_minor=1000, created_at=utcnow() - timedelta(days=40),
                     paid_at=utcnow() - timedelta(days=40))
        db.session.commit()
        timed("reports refresh, one payment of last month", refresh_summary)
        current = month_of(utcnow(), clinic_zone())
        timed("one month computed directly (this month)", lambda: compute_month(current))
        timed("one month computed directly (last month)",
              lambda: compute_month(current.previous()))
        db.session.remove()

        user = make_admin(role="owner", email=f"bench{time.time_ns()}@example.com")
        plan_id = db.session.scalar(select(func.min(Plan.id)))
        client = app.test_client()
        client.post("/admin/login", data={"email": user.email, "password": "secret-pw"})

        def page(path):
            def get():
                response = client.get(path)
                response.get_data()
                assert response.status_code == 200, (path, response.status_code)
            return get

        timed("Home", page("/admin/"), args.repeat)
        for slug, report in REPORTS.items():
            timed(f"{report.title} (12 months)", page(f"/admin/reports/{slug}/"), args.repeat)
            timed(f"{report.title} (12 months, one plan)",
                  page(f"/admin/reports/{slug}/?plan={plan_id}"), args.repeat)
            timed(f"{report.title} CSV", page(f"/admin/reports/{slug}/csv"), args.repeat)


if __name__ == "__main__":
    main()
