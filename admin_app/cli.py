"""Command line: ``flask --app admin_app create-admin``, ``... seed ...``,
``... payments reconcile`` and ``... billing run``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from .extensions import db
from .models import AdminUser, Role
from .passwords import password_problem


@click.command("create-admin")
@click.option("--email", prompt=True, help="Login email of the new admin user.")
@click.option("--name", default="", help="Display name.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.OWNER.value,
              show_default=True)
@click.password_option(help="Password (asked twice when not given).")
def create_admin_command(email: str, name: str, role: str, password: str) -> None:
    """Create an admin user (or reset the password and role of an existing one)."""
    email = email.strip().lower()
    problem = password_problem(password)
    if problem:
        raise click.BadParameter(problem, param_hint="password")
    user = db.session.scalar(select(AdminUser).where(func.lower(AdminUser.email) == email))
    created = user is None
    if created:
        user = AdminUser(email=email)
        db.session.add(user)
    user.name = name or user.name or ""
    user.role = Role(role)
    user.is_enabled = True
    user.set_password(password)
    db.session.commit()
    click.echo(f"{'Created' if created else 'Updated'} {role} {email}")


@click.group("seed")
def seed_group() -> None:
    """Load demo or scale data."""


@seed_group.command("demo")
def seed_demo_command() -> None:
    """Load the demo clinic (only into an empty database)."""
    from seeds import load_demo

    if load_demo():
        click.echo("Demo data loaded. Sign in as admin@example.com / admin")
    else:
        click.echo("The database already has data: demo not loaded.")


@seed_group.command("scale")
@click.option("--contacts", type=click.IntRange(min=1), required=True,
              help="How many contacts to generate.")
@click.option("--batch-size", type=click.IntRange(min=100), default=10_000, show_default=True)
def seed_scale_command(contacts: int, batch_size: int) -> None:
    """Generate CONTACTS contacts with proportional subscriptions, payments and credits."""
    from seeds import load_scale

    counts = load_scale(contacts, batch_size=batch_size, progress=True)
    for table, count in counts.items():
        click.echo(f"{table}: {count:,}")


@click.group("payments")
def payments_group() -> None:
    """Payment processor housekeeping."""


@payments_group.command("reconcile")
@click.option("--min-age", type=click.IntRange(min=0), default=120, show_default=True,
              help="Seconds a pending record must have waited before a processor holding no "
                   "trace of it means it was never made.")
def reconcile_command(min_age: int) -> None:
    """Bring pending payments, refunds and plan-link sign-ups in line with what the processor
    says (run it from a schedule, e.g. every 10 minutes). Exits 1 while some stay pending."""
    from datetime import timedelta

    from .actions.reconcile_pending import reconcile_pending
    from .actions.reconcile_signups import reconcile_signups
    from .billing.reconciling import Outcome

    done = reconcile_pending(min_age=timedelta(seconds=min_age))
    done += reconcile_signups(min_age=timedelta(seconds=min_age))
    for reconciled in done:
        click.echo(reconciled.message)
    waiting = sum(r.outcome is Outcome.STILL_PENDING for r in done)
    click.echo(f"{len(done) - waiting} settled, {waiting} still pending.")
    if waiting:
        raise SystemExit(1)


@click.group("billing")
def billing_group() -> None:
    """The billing cycle: renewals, retries of failed renewals."""


def _parse_until(value: str | None):
    """``--until``: an ISO date or date-time; without a zone it is the clinic's time."""
    from datetime import datetime

    from .clinic_time import clinic_zone

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter("give a date (2027-03-01) or a date and time "
                                 "(2027-03-01T09:00, 2027-03-01T09:00+00:00).",
                                 param_hint="--until") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=clinic_zone())


@billing_group.command("run")
@click.option("--until", "until_text", metavar="TIMESTAMP",
              help="Bill what is due up to this moment (default: now). A moment ahead of now "
                   "simulates the billing cycle up to it, the clock moving to each step.")
@click.option("--quiet", is_flag=True, help="Print the summary only.")
def billing_run_command(until_text: str | None, quiet: bool) -> None:
    """Renew every subscription whose period has ended, charge due periods, retry failed
    renewals on the schedule (safe to run twice, and from cron). Exits 1 when something
    needs an admin."""
    from .billing.renewals import billing_run
    from .jobs.tasks import record_run

    until = _parse_until(until_text)
    report = None

    def run() -> str:
        nonlocal report
        report = billing_run(until, echo=None if quiet else click.echo)
        return report.summary()

    click.echo(record_run("billing_run", run))
    for line in report.attention:
        click.echo(f"NEEDS AN ADMIN: {line}")
    if report.attention:
        raise SystemExit(1)


@billing_group.command("expire-credits")
@click.option("--until", "until_text", metavar="TIMESTAMP",
              help="Close the credit lots due by then (default: now; without a zone, the "
                   "clinic's time).")
def expire_credits_command(until_text: str | None) -> None:
    """Expire (or roll over, as each plan says) the service credits whose period ended: one
    ledger entry per lot, dated its expiry. Safe to run twice, and from cron."""
    from .billing.credit_expiry import close_due_lots

    report = close_due_lots(_parse_until(until_text))
    click.echo(f"{report.lots_closed} credit lot(s) of {len(report.contacts)} contact(s) "
               f"closed: {report.expired} credit(s) expired, {report.rolled_over} rolled over.")


@click.command("worker")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Tasks run at once (threads).")
@click.option("--no-periodic", is_flag=True,
              help="Do not run the schedule here (another worker or cron does).")
def worker_command(workers: int, no_periodic: bool) -> None:
    """Run a worker: bulk jobs and the schedule (reconcile, the sweep of stalled jobs), from
    the queue of JOBS_URL. Several workers, on one or more machines, may share one queue."""
    from .jobs.engine import huey

    click.echo(f"Worker running: {workers} thread(s), queue {current_app.config['JOBS_URL']}"
               f"{'' if no_periodic else ', with the schedule'}. Ctrl-C stops it.")
    # NOTE: an idle worker polls the SQLite queue at most every second (Redis blocks instead).
    huey.create_consumer(workers=workers, worker_type="thread", periodic=not no_periodic,
                         max_delay=1.0).run()


@click.command("jobs")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def jobs_command(limit: int) -> None:
    """List the latest bulk jobs with their state and progress, and the schedule's last runs."""
    from .models import BulkJob, ScheduledRun

    jobs = db.session.scalars(select(BulkJob).order_by(BulkJob.id.desc()).limit(limit)).all()
    for job in jobs:
        click.echo(f"#{job.id:<6} {job.state.value:<9} {job.processed:>8,}/{job.total:<8,} "
                   f"done {job.done_count:,}, refused {job.refused_count:,}, failed "
                   f"{job.failed_count:,}  {job.label}  ({job.created_at:%Y-%m-%d %H:%M} UTC)")
    if not jobs:
        click.echo("No bulk jobs yet.")
    for run in db.session.scalars(select(ScheduledRun).order_by(ScheduledRun.name)):
        click.echo(f"{run.name}: last run {run.last_started_at:%Y-%m-%d %H:%M} UTC, "
                   f"{'ok' if run.is_ok else 'FAILED'}: {run.last_outcome or '-'}")


@click.command("sweep-jobs")
def sweep_jobs_command() -> None:
    """Hand queued or stalled bulk jobs to a worker again (the worker does it every minute;
    this is for cron where none runs the schedule)."""
    from .jobs.tasks import record_run, sweep

    click.echo(record_run("sweep_jobs", sweep))


@click.group("reports")
def reports_group() -> None:
    """The reports' summary table (Home and Reports read it)."""


@reports_group.command("refresh")
def reports_refresh_command() -> None:
    """Recompute the months that changed since the last refresh (the worker does it every
    10 minutes; this is for cron where none runs the schedule)."""
    from .jobs.tasks import record_run, refresh_reports_summary

    click.echo(record_run("refresh_reports", refresh_reports_summary))


@reports_group.command("rebuild")
def reports_rebuild_command() -> None:
    """Recompute every month from the first record (after changing the clinic's time zone or
    a plan's billing interval)."""
    import time

    from .reports.summary import rebuild_summary

    started = time.monotonic()
    months = rebuild_summary()
    click.echo(f"Rebuilt {months} month(s) of the reports in {time.monotonic() - started:.1f} s.")


@click.group("documents")
def documents_group() -> None:
    """Accounting documents: delivery, and the zips made for download."""


@documents_group.command("deliver")
def deliver_documents_command() -> None:
    """Send every queued message that is due (retries included) and settle sends a stopped
    worker left open (the worker does it every minute; this is for cron)."""
    from .documents.sending import deliver_due
    from .jobs.tasks import record_run

    click.echo(record_run("deliver_messages", deliver_due))


@documents_group.command("remove-expired-zips")
def remove_expired_zips_command() -> None:
    """Remove the zips of documents asked for more than 7 days ago (the worker does it
    daily; this is for cron)."""
    from .jobs.tasks import record_run, remove_expired_zips_now

    click.echo(record_run("remove_expired_zips", remove_expired_zips_now))


def register_cli(app: Flask) -> None:
    app.cli.add_command(documents_group)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(seed_group)
    app.cli.add_command(payments_group)
    app.cli.add_command(billing_group)
    app.cli.add_command(worker_command)
    app.cli.add_command(jobs_command)
    app.cli.add_command(sweep_jobs_command)
    app.cli.add_command(reports_group)
