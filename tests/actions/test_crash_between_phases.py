"""A process killed between the two phases of a processor call loses nothing and doubles
nothing: the attempt committed in phase 1 survives as pending, reconcile settles it with what
the processor holds, and the books then match the processor's records to the cent.

Each case runs the real action in a process of its own (``tests/crash_runner.py``) that kills
itself at one point of the call, on each database with the offline gateway and on PostgreSQL
with localstripe (the action tests' legs).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from admin_app.actions.charge_custom_bill import charge_custom_bill
from admin_app.actions.reconcile_pending import reconcile_pending
from admin_app.actors import SYSTEM
from admin_app.billing.account_credit import account_credit_balance, add_account_credit_entry
from admin_app.billing.credit_payments import credit_paid_on_period, period_still_owed
from admin_app.billing.period_billing import latest_period
from admin_app.billing.renewals import Did, billing_run
from admin_app.clock import freeze
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    AccountCreditReason,
    Document,
    DocumentType,
    Payment,
    PaymentMethodKind,
    PaymentStatus,
    PeriodStatus,
    Refund,
    RefundStatus,
)
from tests.actions.subscription_setup import PERIOD_END, PERIOD_START, subscriber
from tests.factories import give_card, make_contact

ROOT = Path(__file__).resolve().parents[2]
CRASH_POINTS = ("before_processor", "after_processor", "in_phase_2")
CONFIG_KEYS = ("SQLALCHEMY_DATABASE_URI", "OFFLINE_GATEWAY_URL", "PAYMENT_GATEWAY",
               "STRIPE_SECRET_KEY", "STRIPE_API_BASE", "SECRET_KEY", "DEFAULT_CURRENCY",
               "PUBLIC_BASE_URL", "TESTING")


def _run_and_kill(app, *, action: str, target: int, actor_id: int, crash_at: str,
                  until: str = ""):
    config = {key: app.config[key] for key in CONFIG_KEYS if app.config.get(key) is not None}
    env = {**os.environ, "CRASH_CONFIG": json.dumps(config), "CRASH_ACTION": action,
           "CRASH_TARGET": str(target), "CRASH_ACTOR": str(actor_id), "CRASH_AT": crash_at,
           "CRASH_UNTIL": until}
    done = subprocess.run([sys.executable, "-m", "tests.crash_runner"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]


def _assert_books_match_the_processor(processor) -> None:
    """Every charge the processor made is one of our paid card payments, with the same amount
    and the same amount refunded; none of ours is missing there; each has one receipt."""
    at_processor = processor.succeeded_charges()
    ours = {payment.gateway_id: payment for payment in db.session.scalars(select(Payment).where(
        Payment.method == PaymentMethodKind.CARD,
        Payment.status.in_((PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED,
                            PaymentStatus.REFUNDED))))}
    assert set(ours) == set(at_processor)
    for gateway_id, charge in at_processor.items():
        payment = ours[gateway_id]
        assert (payment.amount_minor, payment.amount_refunded_minor) == \
            (charge.amount_minor, charge.refunded_minor)
        receipts = db.session.scalars(select(Document).where(
            Document.payment_id == payment.id, Document.doc_type == DocumentType.RECEIPT)).all()
        assert len(receipts) == 1
    refunded = db.session.scalars(select(Refund).where(
        Refund.status == RefundStatus.SUCCEEDED)).all()
    assert sum(r.amount_minor for r in refunded) == \
        sum(c.refunded_minor for c in at_processor.values())


@pytest.mark.parametrize("crash_at", CRASH_POINTS)
def test_a_charge_killed_between_the_phases(app, owner, key, processor, crash_at):
    contact = make_contact()
    give_card(contact)
    _run_and_kill(app, action="charge", target=contact.id, actor_id=owner.id,
                  crash_at=crash_at)
    db.session.expire_all()
    (attempt,) = db.session.scalars(select(Payment)).all()
    assert attempt.status is PaymentStatus.PENDING  # kept from phase 1, whatever happened
    with pytest.raises(ActionError) as held:  # it may have been charged: not charged again
        charge_custom_bill(contact, amount_minor=9900, currency="USD", description="Next",
                           method=PaymentMethodKind.CARD, actor=owner, idempotency_key=key())
    assert held.value.code == "payment_pending"

    reconcile_pending(actor=SYSTEM, min_age=timedelta(0))
    db.session.expire_all()
    made = crash_at != "before_processor"
    assert db.session.get(Payment, attempt.id).status is \
        (PaymentStatus.SUCCEEDED if made else PaymentStatus.FAILED)
    _assert_books_match_the_processor(processor)

    # Settled, the next charge goes through once: never the first one's answer again.
    charge_custom_bill(contact, amount_minor=9900, currency="USD", description="Next",
                       method=PaymentMethodKind.CARD, actor=owner, idempotency_key=key())
    db.session.expire_all()
    _assert_books_match_the_processor(processor)
    assert processor.count_charges() == (2 if made else 1)


@pytest.mark.parametrize("crash_at", CRASH_POINTS)
def test_a_refund_killed_between_the_phases(app, owner, key, processor, crash_at):
    contact = make_contact()
    give_card(contact)
    paid = charge_custom_bill(contact, amount_minor=4500, currency="USD", description="Paid",
                              method=PaymentMethodKind.CARD, actor=owner,
                              idempotency_key=key()).record
    _run_and_kill(app, action="refund", target=paid.id, actor_id=owner.id, crash_at=crash_at)
    db.session.expire_all()
    (attempt,) = db.session.scalars(select(Refund)).all()
    assert attempt.status is RefundStatus.PENDING and attempt.amount_minor == 2000

    reconcile_pending(actor=SYSTEM, min_age=timedelta(0))
    db.session.expire_all()
    made = crash_at != "before_processor"
    assert db.session.get(Refund, attempt.id).status is \
        (RefundStatus.SUCCEEDED if made else RefundStatus.FAILED)
    payment = db.session.get(Payment, paid.id)
    assert payment.amount_refunded_minor == (2000 if made else 0)
    assert payment.status is (PaymentStatus.PARTIALLY_REFUNDED if made
                              else PaymentStatus.SUCCEEDED)
    _assert_books_match_the_processor(processor)
    credit_notes = db.session.scalars(select(Document).where(
        Document.doc_type == DocumentType.CREDIT_NOTE)).all()
    assert len(credit_notes) == (1 if made else 0)


@pytest.mark.parametrize("crash_at", CRASH_POINTS)
def test_a_renewal_paid_partly_from_account_credit_killed_between_the_phases(
        app, owner, processor, crash_at):
    """The part paid from account credit is committed with the card's pending charge of the
    rest (phase 1): after the crash the period owes only the rest, reconcile settles it, and
    the credit is spent once."""
    freeze(PERIOD_START)
    try:
        member = subscriber()
    finally:
        freeze(None)
    add_account_credit_entry(member.contact.id, amount_minor=5000, currency="USD",
                             reason=AccountCreditReason.DOWNGRADE, note="Downgrade",
                             actor=owner)
    db.session.commit()
    _run_and_kill(app, action="renew", target=member.subscription.id, actor_id=owner.id,
                  crash_at=crash_at, until=PERIOD_END.isoformat())
    db.session.expire_all()
    period = latest_period(member.subscription)
    assert period.starts_at == PERIOD_END and period.status is PeriodStatus.DUE
    assert credit_paid_on_period(period.id) == 5000 and period_still_owed(period) == 7000
    (pending,) = db.session.scalars(select(Payment).where(
        Payment.period_id == period.id, Payment.method == PaymentMethodKind.CARD)).all()
    assert pending.status is PaymentStatus.PENDING and pending.amount_minor == 7000
    assert billing_run(PERIOD_END).counts[Did.PENDING] == 1  # not charged again meanwhile

    reconcile_pending(actor=SYSTEM, min_age=timedelta(0))
    db.session.expire_all()
    made = crash_at != "before_processor"
    assert period.status is (PeriodStatus.PAID if made else PeriodStatus.PAST_DUE)
    assert period_still_owed(period) == 7000  # what the card owes, or paid
    assert account_credit_balance(member.contact.id, "USD") == 0
    _assert_books_match_the_processor(processor)
