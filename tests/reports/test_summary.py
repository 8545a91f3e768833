"""The summary table equals the direct computation: hypothesis writes random histories
(subscriptions renewing, failing, retried, given up, upgraded, cancelled; bills, refunds,
retries, new cards, credits, no-shows) while the clock moves on and the worker refreshes at
random moments; after a last refresh every month's stored figures are exactly what
``compute_month`` finds straight from the billing tables."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from admin_app.clinic_time import clinic_zone
from admin_app.clock import freeze, utcnow
from admin_app.extensions import db
from admin_app.models import (
    AppointmentStatus,
    BillingInterval,
    CreditReason,
    NoShowFeeStatus,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    PeriodStatus,
    ReportFigure,
    ReportMonth,
    SubscriptionStatus,
)
from admin_app.reports.calendar import month_of, months_between
from admin_app.reports.summary import compute_month, first_month, rebuild_summary, refresh_summary
from tests.factories import (
    make_appointment,
    make_contact,
    make_credit,
    make_payment,
    make_plan,
    make_subscription,
)
from tests.reports.history import at, card, pay, period, refund

index = st.integers(0, 20)
steps = st.lists(st.tuples(
    st.sampled_from([0, 0, 1, 3, 10, 30, 75]),  # days the clock moves first
    st.one_of(
        st.tuples(st.just("subscribe"), st.integers(0, 3), st.booleans()),
        st.tuples(st.just("renew"), index, st.booleans()),
        st.tuples(st.just("retry"), index, st.booleans()),
        st.tuples(st.just("give_up"), index),
        st.tuples(st.just("change_plan"), index, st.integers(0, 3)),
        st.tuples(st.just("cancel"), index),
        st.tuples(st.just("bill"), st.integers(100, 9000), st.booleans()),
        st.tuples(st.just("refund"), index, st.integers(1, 9000)),
        st.tuples(st.just("retry_bill"), index),
        st.tuples(st.just("card"), index),
        st.tuples(st.just("credits"), index, st.sampled_from([4, -1, 1, -2])),
        st.tuples(st.just("no_show"), index, st.integers(0, 20), st.booleans()),
        st.tuples(st.just("refresh")),
        st.tuples(st.just("refresh")),
    )), min_size=1, max_size=30)


class World:
    def __init__(self) -> None:
        self.plans = [make_plan(price_minor=10000),
                      make_plan(price_minor=25000),
                      make_plan(price_minor=1500, interval=BillingInterval.WEEK),
                      make_plan(price_minor=60000, currency="EUR", interval=BillingInterval.YEAR)]
        self.subscriptions, self.periods, self.bills = [], {}, []

    def run(self, op) -> None:
        getattr(self, op[0])(*op[1:])
        db.session.commit()

    def _sub(self, i):
        return self.subscriptions[i % len(self.subscriptions)] if self.subscriptions else None

    def _next_end(self, plan, start):
        if plan.interval == BillingInterval.WEEK:
            return start + timedelta(weeks=1)
        months = 12 if plan.interval == BillingInterval.YEAR else 1
        month = start.month - 1 + months
        return start.replace(year=start.year + month // 12, month=month % 12 + 1,
                             day=min(start.day, 28))

    def subscribe(self, plan_index, paid):
        plan, now = self.plans[plan_index], utcnow()
        sub = make_subscription(plan=plan, current_period_start=now,
                                current_period_end=self._next_end(plan, now))
        self.subscriptions.append(sub)
        self._open(sub, now, paid)

    def _open(self, sub, start, paid):
        row = period(sub, sub.plan, start, self._next_end(sub.plan, start),
                     status=PeriodStatus.DUE, number=len(self.periods.get(sub.id, [])) + 1)
        self.periods.setdefault(sub.id, []).append(row)
        pay(row, utcnow(), failed=not paid)
        if not paid:
            row.status, sub.status = PeriodStatus.PAST_DUE, SubscriptionStatus.PAST_DUE

    def renew(self, i, paid):
        sub = self._sub(i)
        if sub is None or sub.status == SubscriptionStatus.CANCELED:
            return
        last = self.periods[sub.id][-1]
        if last.ends_at <= utcnow() + timedelta(days=3):
            self._open(sub, last.ends_at, paid)

    def retry(self, i, paid):
        sub = self._sub(i)
        if sub is None:
            return
        last = self.periods[sub.id][-1]
        if last.status in (PeriodStatus.PAST_DUE, PeriodStatus.UNPAID):
            pay(last, utcnow(), attempt=last.attempts + 1, failed=not paid)
            if paid and sub.status != SubscriptionStatus.CANCELED:
                sub.status = SubscriptionStatus.ACTIVE

    def give_up(self, i):
        sub = self._sub(i)
        if sub is not None and self.periods[sub.id][-1].status == PeriodStatus.PAST_DUE:
            self.periods[sub.id][-1].status = PeriodStatus.UNPAID
            sub.status = SubscriptionStatus.UNPAID

    def change_plan(self, i, plan_index):
        sub, plan = self._sub(i), self.plans[plan_index]
        if sub is not None and plan.currency == sub.plan.currency:
            sub.plan = plan  # the next period is on it

    def cancel(self, i):
        sub = self._sub(i)
        if sub is None or sub.status == SubscriptionStatus.CANCELED:
            return
        sub.status, sub.canceled_at = SubscriptionStatus.CANCELED, utcnow()
        last = self.periods[sub.id][-1]
        if last.status in (PeriodStatus.PAST_DUE, PeriodStatus.UNPAID, PeriodStatus.DUE):
            last.status = PeriodStatus.VOID

    def bill(self, amount, paid):
        self.bills.append(make_payment(
            amount_minor=amount, created_at=utcnow(), paid_at=utcnow() if paid else None,
            status=PaymentStatus.SUCCEEDED if paid else PaymentStatus.FAILED))

    def refund(self, i, amount):
        paid = db.session.scalars(select(Payment).where(
            Payment.status.in_((PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)))
            .order_by(Payment.id)).all()
        if paid:
            payment = paid[i % len(paid)]
            amount = min(amount, payment.refundable_minor)
            if amount > 0:
                refund(payment, amount, utcnow())

    def retry_bill(self, i):
        failed = [b for b in self.bills if b.status == PaymentStatus.FAILED]
        if failed:
            bill = failed[i % len(failed)]
            make_payment(contact=bill.contact, amount_minor=bill.amount_minor,
                         retry_of_id=bill.id, created_at=utcnow(), paid_at=utcnow())

    def card(self, i):
        sub = self._sub(i)
        if sub is not None:
            db.session.query(type(card(sub.contact, utcnow()))).filter_by(
                contact_id=sub.contact_id).update({"is_default": False})

    def credits(self, i, quantity):
        sub = self._sub(i)
        if sub is not None:
            reason = {4: CreditReason.PERIOD_GRANT, 1: CreditReason.MANUAL_ADD,
                      -1: CreditReason.BOOKING, -2: CreditReason.EXPIRY}[quantity]
            make_credit(contact=sub.contact, service=sub.plan.services[0].service,
                        quantity=quantity, reason=reason, subscription_id=sub.id,
                        created_at=utcnow())

    def no_show(self, i, days_ago, charged):
        contact = self._sub(i).contact if self.subscriptions else make_contact()
        fee = None
        if charged:
            fee = make_payment(contact=contact, amount_minor=7500, created_at=utcnow(),
                               paid_at=utcnow(), purpose=PaymentPurpose.NO_SHOW_FEE)
        make_appointment(contact=contact, starts_at=utcnow() - timedelta(days=days_ago),
                         status=AppointmentStatus.NO_SHOW,
                         no_show_fee_status=NoShowFeeStatus.CHARGED if charged
                         else NoShowFeeStatus.WAIVED,
                         no_show_fee_payment_id=fee.id if fee else None)

    def refresh(self):
        refresh_summary(now=utcnow())


def stored(month_key: str) -> dict:
    return {(f.metric, f.plan_id, f.currency, f.dimension): f.value
            for f in db.session.scalars(
                select(ReportFigure).where(ReportFigure.month == month_key))}


def assert_summary_is_direct(now) -> None:
    zone = clinic_zone()
    first = first_month(zone)
    months = months_between(first, month_of(now, zone)) if first else []
    assert {m.month for m in db.session.scalars(select(ReportMonth))} == {m.key for m in months}
    for month in months:
        direct = {(f.metric, f.plan_id, f.currency, f.dimension): f.value
                  for f in compute_month(month, now=now).figures}
        assert stored(month.key) == direct, month


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=steps)
def test_summary_equals_the_direct_computation(app, backend, databases, history):
    db.session.remove()
    databases(backend).emptied()  # each example from an empty database
    freeze(at(1, 3, 9))
    world = World()
    db.session.commit()
    for days, op in history:
        freeze(utcnow() + timedelta(days=days, hours=5))
        world.run(op)
    freeze(utcnow() + timedelta(minutes=1))
    refresh_summary(now=utcnow())
    assert_summary_is_direct(utcnow())
    rebuild_summary(now=utcnow())  # the rebuild writes the same
    assert_summary_is_direct(utcnow())


def test_refresh_recomputes_an_old_month_when_its_period_changes(app):
    """A January period paid in April (it had gone unpaid): January's failed charge becomes
    recovered, and only the months from January are recomputed."""
    freeze(at(1, 5))
    plan = make_plan(price_minor=10000)
    sub = make_subscription(plan=plan)
    row = period(sub, plan, at(1, 5), at(2, 5), status=PeriodStatus.DUE)
    pay(row, at(1, 5), failed=True)
    row.status = PeriodStatus.UNPAID
    db.session.commit()
    freeze(at(4, 2))
    assert [m.key for m in refresh_summary(now=at(4, 2))] == ["2026-01", "2026-02", "2026-03",
                                                             "2026-04"]
    assert stored("2026-01")[("lost_count", 0, "USD", "")] == 1
    freeze(at(4, 3))
    assert [m.key for m in refresh_summary(now=at(4, 3))] == ["2026-04"]  # nothing changed
    freeze(at(4, 4))
    pay(row, at(4, 4), attempt=2)
    db.session.commit()
    assert [m.key for m in refresh_summary(now=at(4, 4, 1))] == ["2026-01", "2026-02",
                                                                "2026-03", "2026-04"]
    assert stored("2026-01")[("recovered_retry_count", 0, "USD", "")] == 1
    assert ("lost_count", 0, "USD", "") not in stored("2026-01")


def test_refresh_twice_writes_the_same(app):
    freeze(at(2, 10))
    make_payment(amount_minor=1234, created_at=at(2, 1), paid_at=at(2, 1))
    db.session.commit()
    refresh_summary(now=at(2, 10))
    first = stored("2026-02")
    refresh_summary(now=at(2, 10))
    assert stored("2026-02") == first and first[("revenue_payments", 0, "USD", "custom_bill")] \
        == 1234


def test_commands_refresh_and_rebuild(app):
    from admin_app.jobs.tasks import SCHEDULE
    from admin_app.models import ScheduledRun

    freeze(at(3, 10))
    make_payment(amount_minor=500, created_at=at(1, 7), paid_at=at(1, 7))
    db.session.commit()
    runner = app.test_cli_runner()
    refreshed = runner.invoke(args=["reports", "refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    assert "3 month(s) of the reports recomputed: 2026-01, 2026-02, 2026-03." in refreshed.output
    assert db.session.get(ScheduledRun, "refresh_reports").is_ok
    assert "Reports up to date." not in refreshed.output
    again = runner.invoke(args=["reports", "refresh"])  # the payment may be a late commit
    assert "3 month(s)" in again.output
    freeze(at(3, 10) + timedelta(minutes=11))  # the last refresh was within its margin
    assert "3 month(s)" in runner.invoke(args=["reports", "refresh"]).output
    freeze(at(3, 10) + timedelta(minutes=22))  # nothing new since: only the running month
    again = runner.invoke(args=["reports", "refresh"])
    assert "1 month(s) of the reports recomputed: 2026-03." in again.output  # the running one
    rebuilt = runner.invoke(args=["reports", "rebuild"])
    assert rebuilt.exit_code == 0 and "Rebuilt 3 month(s)" in rebuilt.output
    assert stored("2026-01")[("revenue_payments", 0, "USD", "custom_bill")] == 500
    assert "refresh_reports" in SCHEDULE
