"""What the benchmarks share: the database at scale (migrations, ``seed scale``, billing
periods for the seeded subscriptions, the reports' summary), a throwaway PostgreSQL server, and
the process's memory. Not a benchmark itself; each script in this folder imports it."""

from __future__ import annotations

import resource
import subprocess
import time
from pathlib import Path

from admin_app.extensions import db


def rss_mb(pid: str = "self") -> float:
    """A process's resident memory now (this one's by default; 0 once it has ended)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_rss_mb() -> float:
    """The resident memory of this process's children now (an export's worker processes)."""
    children: set[str] = set()
    for listed in Path("/proc/self/task").glob("*/children"):
        try:
            children.update(listed.read_text().split())
        except OSError:
            continue
    return sum(rss_mb(pid) for pid in children)


def peak_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def start_postgresql():
    """A throwaway PostgreSQL server (tests/pg.py) with an empty ``bench`` database: returns
    the server (stop it when done) and the database's URL."""
    from tests.pg import PostgresServer

    server = PostgresServer().start()
    subprocess.run(["psql", server.url().replace("postgresql+psycopg://", "postgresql://"),
                    "-q", "-c", "CREATE DATABASE bench"], check=True)
    return server, server.url("bench")


def at_scale(contacts: int) -> int:
    """The schema from the real migrations, at least ``contacts`` contacts from ``seed scale``
    (skipped when the database already holds that many) and billing periods for the seeded
    subscriptions (``give_periods``); prints what it did and returns the number of contacts."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from admin_app.models import Contact
    from seeds import load_scale

    upgrade()
    have = db.session.scalar(select(func.count()).select_from(Contact))
    if have < contacts:
        started = time.perf_counter()
        load_scale(contacts - have, progress=False)
        print(f"seed: {contacts - have:,} contacts in {time.perf_counter() - started:.1f} s",
              flush=True)
    started = time.perf_counter()
    written = give_periods()
    if written:
        print(f"billing periods: {written:,} written in {time.perf_counter() - started:.1f} s",
              flush=True)
    return max(have, contacts)


def give_periods(batch: int = 20_000) -> int:
    """Billing periods for subscriptions that have none, as the renewal engine would have
    left them (the scale seeder writes payments but no periods): each subscription's periods
    from its start to its cancellation or now, paid, the last one past due or due as its status
    says. Returns how many were written."""
    from sqlalchemy import func, select

    from admin_app.clock import utcnow
    from admin_app.models import BillingPeriod, Plan, Subscription
    from seeds.common import periods
    from seeds.scale import _BulkWriter, _reset_sequences

    session = db.session
    plans = {p.id: p for p in session.scalars(select(Plan))}
    next_id = (session.scalar(select(func.max(BillingPeriod.id))) or 0) + 1
    # NOT EXISTS, not NOT IN (subquery): PostgreSQL scans a NOT IN list too long to hash once
    # per subscription.
    have = select(BillingPeriod.id).where(
        BillingPeriod.subscription_id == Subscription.id).exists()
    writer, now, written, after = _BulkWriter(session), utcnow(), 0, 0
    table = BillingPeriod.__table__
    while True:
        subs = session.execute(
            select(Subscription.id, Subscription.plan_id, Subscription.status,
                   Subscription.created_at, Subscription.canceled_at)
            .where(Subscription.id > after, ~have)
            .order_by(Subscription.id).limit(batch)).all()
        if not subs:
            break
        rows = []
        for sub_id, plan_id, status, start, canceled_at in subs:
            plan = plans[plan_id]
            spans = periods(start, plan.interval, plan.interval_count, canceled_at or now)
            for number, (begin, end) in enumerate(spans, start=1):
                last = number == len(spans)
                state = ("past_due" if status == "past_due" and last else
                         "due" if status == "incomplete" else "paid")
                rows.append({"id": next_id, "subscription_id": sub_id, "plan_id": plan_id,
                             "number": number, "starts_at": begin, "ends_at": end,
                             "amount_minor": plan.price_minor, "discount_minor": 0,
                             "currency": plan.currency, "status": state,
                             "attempts": 1, "paid_at": begin if state == "paid" else None,
                             "created_at": begin, "updated_at": begin})
                next_id += 1
        if rows:
            writer.write(table, rows)
        session.commit()
        written += len(rows)
        after = subs[-1][0]
    _reset_sequences(["billing_period"])
    return written


def summary_built() -> None:
    """The reports' summary as the worker keeps it: rebuilt when empty, else refreshed (what
    the worker's ``refresh_reports`` does); prints the time when it computed anything."""
    from sqlalchemy import func, select

    from admin_app.models import ReportMonth
    from admin_app.reports.summary import rebuild_summary, refresh_summary

    started = time.perf_counter()
    if not db.session.scalar(select(func.count()).select_from(ReportMonth)):
        print(f"reports rebuild: {rebuild_summary()} months in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        return
    months = refresh_summary()
    if months:
        print(f"reports refresh: {len(months)} months in {time.perf_counter() - started:.1f} s",
              flush=True)
