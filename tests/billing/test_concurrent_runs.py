"""Two ``billing run`` processes at once on PostgreSQL bill nothing twice, and a run killed
halfway resumes cleanly: every period paid once, the processor's charges exactly ours."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from admin_app.actions.reconcile_pending import reconcile_pending
from admin_app.actors import SYSTEM
from admin_app.billing.period_billing import open_period
from admin_app.billing.retry_rules import PAID_STATUSES
from admin_app.clock import freeze
from admin_app.extensions import db
from admin_app.models import BillingPeriod, Payment, PaymentStatus, PeriodStatus
from tests.actions.subscription_setup import PERIOD_END, PERIOD_START
from tests.factories import give_card, make_contact, make_plan, make_subscription

ROOT = Path(__file__).resolve().parents[2]
CONFIG_KEYS = ("SQLALCHEMY_DATABASE_URI", "OFFLINE_GATEWAY_URL", "PAYMENT_GATEWAY",
               "SECRET_KEY", "DEFAULT_CURRENCY", "TESTING")
UNTIL = PERIOD_START + timedelta(days=95)  # three renewals each


def _members(count: int) -> None:
    freeze(PERIOD_START)
    plan = make_plan(price_minor=5000, credits=2)
    for _ in range(count):
        contact = make_contact()
        subscription = make_subscription(contact=contact, plan=plan,
                                         current_period_start=PERIOD_START,
                                         current_period_end=PERIOD_END,
                                         billing_anchor_at=PERIOD_START)
        period = open_period(subscription, starts_at=PERIOD_START, actor=SYSTEM)
        period.next_retry_at = PERIOD_START
        db.session.commit()
        give_card(contact)
    freeze(None)


def _start(app, **env) -> subprocess.Popen:
    config = {key: app.config[key] for key in CONFIG_KEYS if app.config.get(key) is not None}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.billing_run_process"], cwd=ROOT, text=True,
        env={**os.environ, "RUN_CONFIG": json.dumps(config), "RUN_UNTIL": UNTIL.isoformat(),
             **{key: str(value) for key, value in env.items()}},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _assert_billed_once(processor, members: int) -> None:
    db.session.expire_all()
    periods = db.session.scalars(select(BillingPeriod)).all()
    assert len(periods) == members * 4
    assert {p.status for p in periods} == {PeriodStatus.PAID}
    paid = db.session.execute(select(Payment.period_id, func.count()).where(
        Payment.status.in_(PAID_STATUSES)).group_by(Payment.period_id)).all()
    assert sorted(count for _, count in paid) == [1] * (members * 4)
    assert processor.count_charges() == members * 4
    assert set(processor.succeeded_charges()) == set(db.session.scalars(
        select(Payment.gateway_id).where(Payment.status.in_(PAID_STATUSES))))


@pytest.mark.backends("postgresql")
def test_two_runs_at_once_bill_each_period_once(app, processor):
    _members(24)
    start_at = time.time() + 4
    runs = [_start(app, RUN_START_AT=start_at) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-2000:] for _, err in outputs]
    counts = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert sum(c.get("paid", 0) for c in counts) == 24 * 4  # shared out, none twice
    assert all(c.get("paid", 0) > 0 for c in counts), counts  # both really ran at once
    _assert_billed_once(processor, 24)


@pytest.mark.backends("sqlite", "postgresql")
def test_a_run_killed_halfway_resumes_cleanly(app, processor):
    _members(6)
    killed = _start(app, RUN_KILL_AFTER=7)
    killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL
    db.session.expire_all()
    (lost,) = db.session.scalars(select(Payment).where(
        Payment.status == PaymentStatus.PENDING)).all()  # its answer died with the process
    again = _start(app)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err[-2000:]
    assert json.loads(out.strip().splitlines()[-1]).get("pending") == 1
    reconcile_pending(actor=SYSTEM, min_age=timedelta(0))
    finish = _start(app)
    assert finish.communicate(timeout=300) and finish.returncode == 0
    db.session.expire_all()
    assert db.session.get(Payment, lost.id).status is PaymentStatus.SUCCEEDED
    _assert_billed_once(processor, 6)
