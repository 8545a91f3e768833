"""How fast the admin's pages answer at scale, and how much memory a full CSV export takes.

    python benchmarks/admin_pages.py --contacts 100000
    python benchmarks/admin_pages.py --contacts 1000000 \
        --database-url 'postgresql+psycopg://postgres@/bench?host=/tmp/pg'


Builds the schema with the real migrations, loads N contacts with ``seed scale`` (skipped when
the database already holds that many), signs in, then times each page (median of several runs)
through the app's test client, and streams the whole payments CSV export while watching RSS.
Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from admin_app import create_app  # noqa: E402
from admin_app.extensions import db  # noqa: E402

PAGES = [
    ("contacts list, first page", "/admin/contact/"),
    ("contacts list, page 100", "/admin/contact/?page=100"),
    ("contacts list, sorted by last name", "/admin/contact/?sort=2"),
    ("contacts list, search 'smith'", "/admin/contact/?search=smith"),
    ("quick search suggestions 'mar'", "/admin/search/suggest?q=mar"),
    ("quick search 'maria gar'", "/admin/search/?q=maria+gar"),
    ("contact card, transactions tab", "/admin/contact/details/?id={contact_id}"),
    ("contact card, credits tab", "/admin/contact/details/?id={contact_id}&tab=credits"),
    ("payments list", "/admin/payment/"),
    ("payments filtered: failed", "/admin/payment/?flt0_status_equals=failed"),
    ("subscriptions filtered: past due", "/admin/subscription/?flt0_status_equals=past_due"),
    ("dashboard", "/admin/"),
]


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


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
        from flask_migrate import upgrade
        from sqlalchemy import func, select

        from admin_app.models import Contact
        from seeds import load_scale
        from tests.factories import make_admin

        upgrade()
        have = db.session.scalar(select(func.count()).select_from(Contact))
        if have < args.contacts:
            started = time.perf_counter()
            load_scale(args.contacts - have, progress=False)
            print(f"seed: {args.contacts - have:,} contacts in "
                  f"{time.perf_counter() - started:.1f} s")
        user = make_admin(role="owner", email=f"bench{time.time_ns()}@example.com")
        contact_id = db.session.scalar(select(func.max(Contact.id)))
        client = app.test_client()
        client.post("/admin/login", data={"email": user.email, "password": "secret-pw"})

        print(f"database: {db.engine.dialect.name}, contacts: {max(have, args.contacts):,}")
        for label, path in PAGES:
            path = path.format(contact_id=contact_id)
            timings = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = client.get(path)
                response.get_data()
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code in (200, 302), (path, response.status_code)
            print(f"{label:<40} median {statistics.median(timings):8.1f} ms   "
                  f"max {max(timings):8.1f} ms   HTTP {response.status_code}")

        before = rss_mb()
        started = time.perf_counter()
        response = client.get("/admin/payment/export/csv/", buffered=False)
        rows = sum(chunk.count(b"\n") for chunk in response.response) - 1
        elapsed = time.perf_counter() - started
        print(f"payments CSV export: {rows:,} rows in {elapsed:.1f} s "
              f"({rows / elapsed:,.0f} rows/s); RSS {before:.0f} MB → {rss_mb():.0f} MB, "
              f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
