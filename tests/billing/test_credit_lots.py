"""Credits over time, as a property: random sequences of period grants, appointments using
credits and cancelled in time, removals by hand, expiry runs (some twice) and rollovers, with
the clock moving (``clock.freeze``), checked after every step against a model of lots kept
here, independently of the ledger:

- each service's balance equals the model's (credits of lots still alive), and is never
  negative;
- after an expiry run, the ledger's sum equals that balance (nothing dead is left in it) and
  equals grants − uses − expiries, reason by reason;
- every lot is closed once (``credit_lot_closing``), however often the expiry runs.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from admin_app import clock
from admin_app.actions.adjust_credits import adjust_credits
from admin_app.actors import SYSTEM
from admin_app.billing.appointment_credits import (
    return_appointment_credit,
    use_appointment_credit,
)
from admin_app.billing.credit_expiry import expire_due_credits
from admin_app.billing.credits import credit_balance
from admin_app.billing.periods import add_interval
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    AppointmentCredit,
    CreditEntry,
    CreditLotClosing,
    CreditReason,
    UnusedCredits,
)
from tests.factories import (
    make_admin,
    make_appointment,
    make_contact,
    make_plan,
    make_service,
    make_subscription,
)

START = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
ALLOTMENT = 3  # the plan's credits per period of each service: the rollover cap

steps = st.lists(st.one_of(
    st.tuples(st.just("grant"), st.integers(0, 1), st.integers(1, 5), st.integers(1, 40)),
    st.tuples(st.just("use"), st.integers(0, 1)),
    st.tuples(st.just("cancel"), st.integers(0, 7)),
    st.tuples(st.just("remove"), st.integers(0, 1), st.integers(1, 3)),
    st.tuples(st.just("add_forever"), st.integers(0, 1), st.integers(1, 2)),
    st.tuples(st.just("advance"), st.integers(1, 24 * 20)),
    st.tuples(st.just("expire"), st.booleans()),
), min_size=1, max_size=25)


class Model:
    """Lots as plain numbers: {expires_at (None: never): [remaining, granted]}."""

    def __init__(self, rolls_over: bool) -> None:
        self.rolls_over = rolls_over
        self.lots: list[dict] = [{}, {}]

    def alive(self, service: int, now: datetime) -> list:
        lots = self.lots[service]
        keys = sorted((k for k in lots if k is None or k > now),
                      key=lambda k: (k is None, k or START))
        return [(k, lots[k]) for k in keys]

    def balance(self, service: int, now: datetime) -> int:
        return sum(lot[0] for _, lot in self.alive(service, now))

    def add(self, service: int, expires, quantity: int, *, granted: bool) -> None:
        lot = self.lots[service].setdefault(expires, [0, 0])
        lot[0] += quantity
        if granted:
            lot[1] += quantity

    def take(self, service: int, now: datetime, quantity: int):
        """Earliest-expiring first; returns the lot of the last credit taken."""
        key = None
        for key, lot in self.alive(service, now):
            taken = min(lot[0], quantity)
            lot[0] -= taken
            quantity -= taken
            if quantity == 0:
                return key
        raise AssertionError("took more than the balance")

    def expire(self, now: datetime) -> None:
        while True:
            due = sorted((k, s) for s in (0, 1) for k in self.lots[s]
                         if k is not None and k <= now and (k, s) not in self.closed)
            if not due:
                return
            for expires, service in due:
                self.closed.add((expires, service))
                lot = self.lots[service][expires]
                rolling = min(max(lot[0], 0), lot[1], ALLOTMENT) if self.rolls_over else 0
                if rolling:
                    self.add(service, add_interval(expires, "month"), rolling, granted=False)
                lot[0] = 0

    closed: set


class Example:
    def __init__(self, rolls_over: bool) -> None:
        clock.freeze(START)
        self.now = START
        self.services = [make_service(), make_service()]
        self.plan = make_plan(credits=ALLOTMENT, service=self.services[0],
                              unused_credits=UnusedCredits.ROLL_OVER if rolls_over
                              else UnusedCredits.EXPIRE)
        self.contact = make_contact()
        self.subscription = make_subscription(contact=self.contact, plan=self.plan)
        from admin_app.models import PlanService

        self.plan.services.append(PlanService(service=self.services[1],
                                              credits_per_period=ALLOTMENT))
        self.actor = make_admin(role="owner")
        db.session.commit()
        self.model = Model(rolls_over)
        self.model.closed = set()
        self.used: list = []  # (appointment id, service index, lot key)

    def grant(self, service: int, quantity: int, days: int) -> None:
        expires = self.now + timedelta(days=days)
        db.session.add(CreditEntry(contact_id=self.contact.id,
                                   service_id=self.services[service].id,
                                   subscription_id=self.subscription.id, quantity=quantity,
                                   reason=CreditReason.PERIOD_GRANT, expires_at=expires))
        db.session.commit()
        self.model.add(service, expires, quantity, granted=True)

    def use(self, service: int) -> None:
        appointment = make_appointment(contact=self.contact, service=self.services[service],
                                       starts_at=self.now + timedelta(days=3))
        had = self.model.balance(service, self.now)
        entry = use_appointment_credit(appointment, actor=SYSTEM)
        db.session.commit()
        if had == 0:
            assert entry is None and appointment.credit_status is AppointmentCredit.MISSING
            return
        key = self.model.take(service, self.now, 1)
        assert entry.expires_at == key  # the earliest-expiring lot alive
        self.used.append((appointment, service, key))

    def cancel(self, index: int) -> None:
        if not self.used:
            return
        appointment, service, key = self.used.pop(index % len(self.used))
        entry = return_appointment_credit(appointment, actor=SYSTEM)
        db.session.commit()
        if key is not None and key <= self.now:
            assert entry is None  # its lot expired meanwhile
        else:
            assert entry is not None
            self.model.add(service, key, 1, granted=False)
        assert return_appointment_credit(appointment, actor=SYSTEM) is None  # once

    def remove(self, service: int, quantity: int) -> None:
        try:
            adjust_credits(self.contact, service=self.services[service], quantity=-quantity,
                           reason="desk", actor=self.actor, idempotency_key=uuid4().hex)
        except ActionError as refused:
            assert refused.code == "insufficient_credits"
            assert self.model.balance(service, self.now) < quantity
            return
        self.model.take(service, self.now, quantity)

    def add_forever(self, service: int, quantity: int) -> None:
        adjust_credits(self.contact, service=self.services[service], quantity=quantity,
                       reason="goodwill", actor=self.actor, idempotency_key=uuid4().hex)
        self.model.add(service, None, quantity, granted=True)

    def advance(self, hours: int) -> None:
        self.now += timedelta(hours=hours)
        clock.freeze(self.now)

    def expire(self, twice: bool) -> None:
        expire_due_credits(self.now)
        if twice:
            assert expire_due_credits(self.now) == 0
        self.model.expire(self.now)
        for index, service in enumerate(self.services):
            sums = dict(db.session.execute(
                select(CreditEntry.reason, func.sum(CreditEntry.quantity))
                .where(CreditEntry.contact_id == self.contact.id,
                       CreditEntry.service_id == service.id)
                .group_by(CreditEntry.reason)).all())
            total = sum(sums.values())
            assert total == credit_balance(self.contact.id, service.id), sums
            grants = sum(q for r, q in sums.items() if q > 0)
            uses_and_expiries = -sum(q for r, q in sums.items() if q < 0)
            assert total == grants - uses_and_expiries
            assert total == self.model.balance(index, self.now)

    def check(self) -> None:
        for index, service in enumerate(self.services):
            balance = credit_balance(self.contact.id, service.id)
            assert balance >= 0
            assert balance == self.model.balance(index, self.now)
        closings = db.session.execute(
            select(CreditLotClosing.service_id, CreditLotClosing.expires_at, func.count())
            .where(CreditLotClosing.contact_id == self.contact.id)
            .group_by(CreditLotClosing.service_id, CreditLotClosing.expires_at)).all()
        assert all(count == 1 for *_, count in closings)


@settings(max_examples=int(os.environ.get("CREDIT_EXAMPLES", "25")),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rolls_over=st.booleans(), sequence=steps)
def test_balances_follow_the_lots(app, rolls_over, sequence):
    example = Example(rolls_over)
    try:
        for step in sequence:
            kind, *args = step
            getattr(example, kind)(*args)
            example.check()
        example.advance(24 * 120)
        example.expire(True)
        example.check()
    finally:
        clock.freeze(None)


def test_rollover_caps_at_one_allotment_and_expires_a_period_later(app):
    clock.freeze(START)
    try:
        service = make_service()
        plan = make_plan(credits=4, service=service, unused_credits=UnusedCredits.ROLL_OVER)
        sub = make_subscription(plan=plan, current_period_start=START,
                                current_period_end=START + timedelta(days=28))
        end = START + timedelta(days=28)
        db.session.add_all([
            CreditEntry(contact_id=sub.contact_id, service_id=service.id, subscription_id=sub.id,
                        quantity=4, reason=CreditReason.PERIOD_GRANT, expires_at=end),
            CreditEntry(contact_id=sub.contact_id, service_id=service.id, quantity=3,
                        reason=CreditReason.MANUAL_ADD, expires_at=end)])
        db.session.commit()
        clock.freeze(end + timedelta(hours=1))
        assert expire_due_credits() == 3  # the 3 added by hand expire; the 4 granted roll over
        rolled = db.session.scalars(select(CreditEntry).where(
            CreditEntry.reason == CreditReason.ROLLOVER, CreditEntry.quantity > 0)).one()
        assert rolled.quantity == 4 and rolled.expires_at == add_interval(end, "month")
        assert rolled.created_at == end  # written at the moment of expiry
        expiry = db.session.scalars(select(CreditEntry).where(
            CreditEntry.reason == CreditReason.EXPIRY)).one()
        assert expiry.created_at == end and expiry.expires_at == end
        assert credit_balance(sub.contact_id, service.id) == 4
        assert expire_due_credits() == 0  # once
        clock.freeze(rolled.expires_at)
        assert expire_due_credits() == 4  # rolled-over credits never roll again
        assert credit_balance(sub.contact_id, service.id) == 0
    finally:
        clock.freeze(None)


@pytest.mark.parametrize("status", ["canceled", "cancel_at_period_end"])
def test_no_rollover_when_the_subscription_ends(app, status):
    clock.freeze(START)
    try:
        service = make_service()
        plan = make_plan(credits=4, service=service, unused_credits=UnusedCredits.ROLL_OVER)
        end = START + timedelta(days=28)
        extra = {"status": "canceled"} if status == "canceled" else {"cancel_at_period_end": True}
        sub = make_subscription(plan=plan, current_period_start=START, current_period_end=end,
                                **extra)
        db.session.add(CreditEntry(contact_id=sub.contact_id, service_id=service.id,
                                   subscription_id=sub.id, quantity=2,
                                   reason=CreditReason.PERIOD_GRANT, expires_at=end))
        db.session.commit()
        assert expire_due_credits(end) == 2
        assert credit_balance(sub.contact_id, service.id) == 0
    finally:
        clock.freeze(None)


def test_older_ledger_lines_without_a_lot_are_taken_earliest_expiring_first(app):
    """Lines written before lots (the demo's history, refund reversals, plan-change removals)
    name no lot: they are read as taken from the earliest-expiring lot alive then."""
    contact, service = make_contact(), make_service()
    early, late = START + timedelta(days=10), START + timedelta(days=40)
    for quantity, expires in ((2, early), (5, late)):
        db.session.add(CreditEntry(contact_id=contact.id, service_id=service.id,
                                   quantity=quantity, reason=CreditReason.PERIOD_GRANT,
                                   expires_at=expires, created_at=START))
    db.session.add(CreditEntry(contact_id=contact.id, service_id=service.id, quantity=-3,
                               reason=CreditReason.BOOKING, created_at=START + timedelta(days=1)))
    db.session.commit()
    clock.freeze(early)
    try:
        assert expire_due_credits() == 0  # the early lot was used up (2 of the 3)
        assert credit_balance(contact.id, service.id) == 4  # 5 − 1 left in the late lot
        assert expire_due_credits(late) == 4
    finally:
        clock.freeze(None)


@pytest.mark.fresh_database
def test_two_expiry_runs_at_once_close_each_lot_once(app):
    """Two `billing expire-credits` (the worker and cron) at the same moment: the contact row
    lock (PostgreSQL) or the write lock (SQLite), and the lot's unique closing row, let each
    lot expire once."""
    contacts = [make_contact() for _ in range(6)]
    service = make_service()
    end = START + timedelta(days=10)
    for index, contact in enumerate(contacts):
        for days in (0, 3):
            db.session.add(CreditEntry(contact_id=contact.id, service_id=service.id,
                                       quantity=index + 1, reason=CreditReason.PERIOD_GRANT,
                                       expires_at=end + timedelta(days=days)))
    db.session.commit()
    barrier = threading.Barrier(2)
    expired: list[int] = []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                expired.append(expire_due_credits(end + timedelta(days=5)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    total = 2 * sum(range(1, 7))
    assert sum(expired) == total and len(expired) == 2
    db.session.expire_all()
    assert db.session.query(CreditLotClosing).count() == 12
    assert -db.session.scalar(select(func.sum(CreditEntry.quantity)).where(
        CreditEntry.reason == CreditReason.EXPIRY)) == total
    for contact in contacts:
        assert credit_balance(contact.id, service.id) == 0
