"""How fast the admin's pages answer at scale, side by side with the raw queries behind them,
and how fast the CSV export streams next to the database's own CSV tool.

    python benchmarks/admin_pages.py                          # 100,000 contacts, SQLite
    python benchmarks/admin_pages.py --contacts 1000000       # a million (seeding takes minutes)
    python benchmarks/admin_pages.py --postgresql             # a throwaway PostgreSQL server
    python benchmarks/admin_pages.py --database-url sqlite:////tmp/bench.sqlite3   # keep it

Builds the schema with the real migrations, loads N contacts with ``seed scale`` (skipped when
the database already holds that many) and gives the seeded subscriptions their billing periods,
builds the reports' summary as the worker keeps it (``benchmarks/scale.py``), signs in, then for
each page prints the p50 and p95 of the page through the app (Flask test client: routing, the
view, its queries, the template) next to the p50 and p95 of the **raw page query** — the plain
SQL the page needs, run through the same driver, no app: for a list, COUNT of the matching rows
+ the page of rows; for Home and each report (12 months, all plans), the summary table's rows
for those months plus the plans, and for Home its to-do counts and latest payments. The CSV
export of every payment is streamed while watching memory (the panel's, and on SQLite its
export processes'), next to ``sqlite3 -csv`` / ``psql \\copy`` of the same columns. Runs of
each page alternate with the raw query's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from admin_app import create_app  # noqa: E402
from admin_app.extensions import db  # noqa: E402
from benchmarks.scale import (  # noqa: E402
    at_scale,
    children_rss_mb,
    rss_mb,
    start_postgresql,
    summary_built,
)

PAGE = 50
CONTACT_COLUMNS = "id, first_name, last_name, email, phone, status, created_at"
PAYMENT_PAGE = ("SELECT p.id, p.created_at, c.first_name, c.last_name, p.amount_minor, p.currency,"
                " p.status, p.amount_refunded_minor, p.purpose, p.method, p.description,"
                " p.failure_reason FROM payment p JOIN contact c ON c.id = p.contact_id")


# The clinic's zone: one with daylight saving time, set before the reports' summary is built
# (the summary's months are the clinic's), so that a rerun finds the summary up to date.
CLINIC_ZONE = "America/New_York"


def _prefix(column: str, word: str) -> str:
    return f"lower({column}) LIKE '{word}%'"


def _name_search(words: list[str]) -> str:
    """What a hand-written contact search would say: every word starts a name or the email."""
    return " AND ".join("(" + " OR ".join(_prefix(c, w) for c in
                                          ("first_name", "last_name", "email")) + ")"
                        for w in words)


def _list(table: str, where: str = "", order: str = "id DESC", offset: int = 0,
          columns: str = "*") -> list[str]:
    condition = f" WHERE {where}" if where else ""
    return [f"SELECT count(*) FROM {table}{condition}",
            f"SELECT {columns} FROM {table}{condition} ORDER BY {order} "
            f"LIMIT {PAGE} OFFSET {offset}"]


# What Home and a report page read: the summary's months and their figures for all plans
# (plan 0); ``{months}`` is the page's months, quoted and comma-separated.
SUMMARY = ("SELECT month, as_of FROM report_month WHERE month IN ({months});"
           "SELECT month, metric, currency, dimension, value FROM report_figure "
           "WHERE month IN ({months}) AND plan_id = 0")
# (slug, title, what else the page reads): admin_app/reports/catalog.py REPORTS
REPORT_PAGES = [
    ("mrr", "MRR", []),
    ("members", "Members", []),
    ("revenue", "Revenue", []),
    ("failed-payments", "Failed payments", []),
    ("credits-appointments", "Credits and appointments", ["SELECT id, name FROM service"]),
]

# (label, path, raw queries)
PAGES = [
    ("contacts: first page", "/admin/contact/", _list("contact")),
    ("contacts: page 100", "/admin/contact/?page=100", _list("contact", offset=99 * PAGE)),
    ("contacts: sorted by last name", "/admin/contact/?sort=2",
     _list("contact", order="last_name, first_name, id")),
    ("contacts: filter status inactive", "/admin/contact/?flt0_status_equals=inactive",
     _list("contact", "status = 'inactive'")),
    ("contacts: search 'smith'", "/admin/contact/?search=smith",
     _list("contact", _name_search(["smith"]))),
    ("contacts: search 'olivia.smith' (rare)", "/admin/contact/?search=olivia.smith",
     _list("contact", _prefix("email", "olivia.smith"))),
    ("contacts: search 'nora reed'", "/admin/contact/?search=nora+reed",
     _list("contact", _name_search(["nora", "reed"]))),
    ("contacts: search 'van der'", "/admin/contact/?search=van+der",
     _list("contact", "lower(last_name) LIKE 'van der%'")),
    ("contacts: search '555-0135'", "/admin/contact/?search=555-0135",
     _list("contact", "phone LIKE '%555-0135'")),
    ("top bar: suggestions 'mar'", "/admin/search/suggest?q=mar",
     [f"SELECT {CONTACT_COLUMNS} FROM contact WHERE {_name_search(['mar'])} "
      "ORDER BY last_name, first_name, id LIMIT 8"]),
    ("top bar: suggestions 'nor ree'", "/admin/search/suggest?q=nor+ree",
     [f"SELECT {CONTACT_COLUMNS} FROM contact WHERE {_name_search(['nor', 'ree'])} "
      "ORDER BY last_name, first_name, id LIMIT 8"]),
    ("top bar: suggestions 'berg chloe'", "/admin/search/suggest?q=berg+chloe",
     [f"SELECT {CONTACT_COLUMNS} FROM contact WHERE lower(last_name) LIKE '%berg%' AND "
      "lower(first_name) LIKE 'chloe%' ORDER BY last_name, first_name, id LIMIT 8"]),
    ("top bar: suggestions '(555) 0135'", "/admin/search/suggest?q=%28555%29+0135",
     [f"SELECT {CONTACT_COLUMNS} FROM contact WHERE phone LIKE '%555-0135' "
      "ORDER BY last_name, first_name, id LIMIT 8"]),
    ("contact card", "/admin/contact/details/?id={contact_id}",
     ["SELECT * FROM contact WHERE id = {contact_id}",
      "SELECT * FROM payment WHERE contact_id = {contact_id} ORDER BY created_at DESC LIMIT 20"]),
    ("payments: first page", "/admin/payment/",
     ["SELECT count(*) FROM payment", f"{PAYMENT_PAGE} ORDER BY p.id DESC LIMIT {PAGE}"]),
    ("payments: page 100", "/admin/payment/?page=100",
     ["SELECT count(*) FROM payment",
      f"{PAYMENT_PAGE} ORDER BY p.id DESC LIMIT {PAGE} OFFSET {99 * PAGE}"]),
    ("payments: sorted by date", "/admin/payment/?sort=1",
     ["SELECT count(*) FROM payment", f"{PAYMENT_PAGE} ORDER BY p.created_at LIMIT {PAGE}"]),
    ("payments: filter status failed", "/admin/payment/?flt0_status_equals=failed",
     ["SELECT count(*) FROM payment WHERE status = 'failed'",
      f"{PAYMENT_PAGE} WHERE p.status = 'failed' ORDER BY p.id DESC LIMIT {PAGE}"]),
    ("payments: search 'nora reed'", "/admin/payment/?search=nora+reed",
     ["SELECT count(*) FROM payment p JOIN contact c ON c.id = p.contact_id WHERE "
      "lower(c.first_name) LIKE 'nora%' AND lower(c.last_name) LIKE 'reed%'",
      f"{PAYMENT_PAGE} WHERE lower(c.first_name) LIKE 'nora%' AND lower(c.last_name) LIKE "
      f"'reed%' ORDER BY p.id DESC LIMIT {PAGE}"]),
    ("subscriptions: filter past due", "/admin/subscription/?flt0_status_equals=past_due",
     _list("subscription", "status = 'past_due'")),
    ("Home", "/admin/", [
        *SUMMARY.format(months="{home_months}").split(";"),
        "SELECT status, count(*) FROM subscription WHERE status IN ('past_due', 'unpaid') "
        "GROUP BY status",
        "SELECT * FROM payment WHERE period_id IS NOT NULL AND status = 'failed' AND "
        "created_at >= '{today}' ORDER BY created_at DESC, id DESC",
        "SELECT count(*) FROM payment WHERE status = 'pending' AND method = 'card'",
        "SELECT count(*) FROM refund WHERE status = 'pending'",
        "SELECT count(*) FROM appointment WHERE status = 'no_show' AND "
        "no_show_fee_status = 'none'",
        "SELECT p.currency, count(*), sum(p.price_minor) FROM subscription s JOIN plan p ON "
        "p.id = coalesce(s.scheduled_plan_id, s.plan_id) WHERE s.status = 'active' AND "
        "s.cancel_at_period_end = false AND s.current_period_end >= '{now}' AND "
        "s.current_period_end < '{week_on}' GROUP BY p.currency",
        "SELECT * FROM payment ORDER BY created_at DESC LIMIT 8"]),
    *[(f"report: {title} (12 months)", f"/admin/reports/{slug}/",
       ["SELECT id, name FROM plan ORDER BY name", *SUMMARY.split(";"), *extra])
      for slug, title, extra in REPORT_PAGES],
]


def stamp(moment) -> str:
    """A moment as a literal both databases compare with their stored UTC timestamps."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def percentiles(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def raw_export(url: str, sql: str) -> tuple[int, float]:
    """Rows and seconds of the database's own CSV tool writing ``sql`` to a file."""
    out = os.path.join(tempfile.mkdtemp(), "raw.csv")
    started = time.perf_counter()
    if url.startswith("sqlite"):
        with open(out, "w") as target:
            subprocess.run(["sqlite3", "-csv", url.split("///", 1)[1], sql], stdout=target,
                           check=True)
    else:
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        subprocess.run(["psql", plain, "-q", "-c", f"\\copy ({sql}) TO '{out}' CSV"],
                       check=True)
    elapsed = time.perf_counter() - started
    with open(out, "rb") as written:
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: written.read(1 << 20), b""))
    shutil.rmtree(os.path.dirname(out))
    return rows, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--postgresql", action="store_true",
                        help="start a throwaway PostgreSQL server (tests/pg.py) and use it")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-export", action="store_true")
    args = parser.parse_args()

    server = None
    url = args.database_url
    if args.postgresql:
        server, url = start_postgresql()
    url = url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    try:
        run(url, args)
    finally:
        if server is not None:
            server.stop()


def run(url: str, args) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": "benchmark"})
    with app.app_context():
        from sqlalchemy import func, select

        from admin_app.billing.renewal_outlook import clinic_day_start
        from admin_app.clinic_time import clinic_zone
        from admin_app.clock import utcnow
        from admin_app.models import CashierSettings, Contact
        from admin_app.reports.calendar import month_of
        from admin_app.reports.catalog import REPORTS
        from tests.factories import make_admin

        assert {slug for slug, _, _ in REPORT_PAGES} == set(REPORTS), "a report is not timed"
        contacts = at_scale(args.contacts)
        CashierSettings.get().time_zone = CLINIC_ZONE
        db.session.commit()
        summary_built()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        email = make_admin(role="owner", email=f"bench{time.time_ns()}@example.com").email
        now = utcnow()
        months = [month_of(now, clinic_zone())]
        while len(months) < 12:
            months.insert(0, months[0].previous())
        keys = [f"'{month.key}'" for month in months]
        values = {
            "contact_id": db.session.scalar(select(func.max(Contact.id))),
            "today": stamp(clinic_day_start(now)), "now": stamp(now),
            "week_on": stamp(now + timedelta(days=7)),
            "months": ", ".join(keys), "home_months": ", ".join(keys[-2:])}
        db.session.remove()
        client = app.test_client()
        client.post("/admin/login", data={"email": email, "password": "secret-pw"})
        payments = db.session.execute(text("SELECT count(*) FROM payment")).scalar()
        load = os.getloadavg()
        print(f"database: {db.engine.dialect.name}, contacts: {contacts:,}, "
              f"payments: {payments:,}; load average {load[0]:.1f} / {load[1]:.1f} on "
              f"{os.cpu_count()} cores; {args.repeat} runs each, alternating", flush=True)
        print(f"{'page':<46} {'app p50':>8} {'app p95':>8} {'raw p50':>8} {'raw p95':>8}  ms")
        # The driver's own connection and cursor: no SQLAlchemy, and no parameters (psycopg
        # would read the LIKE patterns' % as placeholders).
        raw = db.engine.raw_connection()
        cursor = raw.cursor()
        for label, path, queries in PAGES:
            path = path.format(**values)
            queries = [q.format(**values) for q in queries]
            page_times, raw_times = [], []
            client.get(path).get_data()  # warm: templates compiled, pages cached
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = client.get(path)
                response.get_data()
                page_times.append((time.perf_counter() - started) * 1000)
                assert response.status_code in (200, 302), (path, response.status_code)
                started = time.perf_counter()
                for query in queries:
                    cursor.execute(query)
                    cursor.fetchall()
                raw_times.append((time.perf_counter() - started) * 1000)
                raw.rollback()
            (a50, a95), (r50, r95) = percentiles(page_times), percentiles(raw_times)
            print(f"{label:<46} {a50:8.1f} {a95:8.1f} {r50:8.1f} {r95:8.1f}", flush=True)
        cursor.close()
        raw.close()
        load = os.getloadavg()
        print(f"load average after the pages: {load[0]:.1f} / {load[1]:.1f}", flush=True)
        if not args.no_export:
            export(client, url)


def export(client, url: str) -> None:
    """The payments export: every time converted to the clinic's wall clock (``CLINIC_ZONE``,
    set by ``run``), between two runs of the database's own tool (the machine's speed drifts:
    the ratio is to their mean)."""
    tool = "sqlite3 -csv" if url.startswith("sqlite") else "psql \\copy"
    sql = (PAYMENT_PAGE.replace("c.first_name, c.last_name", "c.first_name || ' ' || c.last_name")
           + " ORDER BY p.id DESC")
    raw_rows, raw_before = raw_export(url, sql)
    before = rss_mb()
    cpu = time.process_time()
    started = time.perf_counter()
    response = client.get("/admin/payment/export/csv/", buffered=False)
    first_byte = first_row = None
    rows, highest, helpers = 0, before, 0.0
    for chunks, chunk in enumerate(response.response, start=1):
        if first_byte is None:
            first_byte = time.perf_counter() - started
        rows += chunk.count(b"\n")
        if first_row is None and rows > 1:  # past the header line
            first_row = time.perf_counter() - started
        if chunks % 256 == 0:  # the export's own high-water mark, not the seeding's
            highest = max(highest, rss_mb())
            helpers = max(helpers, children_rss_mb())  # SQLite's export processes
    rows, highest = rows - 1, max(highest, rss_mb())
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    print(f"payments CSV export ({CLINIC_ZONE} time): {rows:,} rows in {elapsed:.1f} s "
          f"({rows / elapsed:,.0f} rows/s, "
          f"CPU {cpu:.1f} s), first byte {first_byte * 1000:.0f} ms, first row "
          f"{first_row * 1000:.0f} ms; RSS {before:.0f} MB → "
          f"{rss_mb():.0f} MB, highest while streaming {highest:.0f} MB (its export "
          f"processes: {helpers:.0f} MB together); load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    _, raw_after = raw_export(url, sql)
    raw_elapsed = (raw_before + raw_after) / 2
    print(f"{tool} of the same columns: {raw_rows:,} rows in {raw_before:.1f} s before the "
          f"export, {raw_after:.1f} s after ({raw_rows / raw_elapsed:,.0f} rows/s); the export "
          f"runs at {(rows / elapsed) / (raw_rows / raw_elapsed):.2f}× its speed")


if __name__ == "__main__":
    if shutil.which("sqlite3") is None:
        sys.exit("sqlite3 (the command-line shell) is needed for the raw export: apt-get install "
                 "sqlite3")
    main()
