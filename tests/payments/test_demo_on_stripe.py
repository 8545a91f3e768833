"""The demo clinic on the Stripe gateway in test mode: its members, cards, charges and refunds
are created at the Stripe-compatible server, so the demo's workflows work there too.

On SQLite only, as ``make run`` tries it against localstripe (README): the seeding's own work on
each database is proven by tests/test_seeds.py, and the gateway's calls are the same."""

from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy import select

from admin_app.actions.refund_payment import refund_payment
from admin_app.extensions import db
from admin_app.models import (
    AdminUser,
    Contact,
    Payment,
    PaymentMethod,
    PaymentMethodKind,
    PaymentStatus,
    RefundReason,
)

pytestmark = pytest.mark.backends("sqlite")


def test_the_demo_is_registered_with_stripe_in_test_mode(app, processor):
    from seeds import load_demo

    assert load_demo() is True
    paid = db.session.scalars(select(Payment).where(
        Payment.method == PaymentMethodKind.CARD,
        Payment.status == PaymentStatus.SUCCEEDED)).all()
    assert paid and all(p.gateway_id.startswith("pi_") for p in paid)
    assert processor.count_charges() >= len(paid)
    sample = paid[len(paid) // 2]
    charge = processor.charge(sample.gateway_id)
    assert (charge.amount_minor, charge.currency, charge.succeeded) == \
        (sample.amount_minor, sample.currency, True)
    cards = db.session.scalars(select(PaymentMethod)).all()
    assert all(c.gateway_id.startswith("pm_") for c in cards)
    assert all(c.stripe_customer_id.startswith("cus_") for c in db.session.scalars(
        select(Contact).where(Contact.id.in_([c.contact_id for c in cards]))))
    # A demo payment is refunded at Stripe like any other.
    admin = db.session.scalar(select(AdminUser).where(AdminUser.email == "admin@example.com"))
    refund_payment(sample, amount_minor=100, reason=RefundReason.REQUESTED_BY_CUSTOMER,
                   note=None, reverse_credits=False, actor=admin, idempotency_key=uuid4().hex)
    assert processor.charge(sample.gateway_id).refunded_minor == 100


def test_a_live_stripe_account_gets_no_demo_data(app, processor):
    from seeds import load_demo

    app.config["STRIPE_SECRET_KEY"] = "sk_live_not_a_real_key"  # read when seeding
    assert load_demo() is True
    assert processor.count_charges() == 0
