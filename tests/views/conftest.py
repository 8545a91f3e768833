from __future__ import annotations

import pytest

from admin_app.extensions import db
from admin_app.models import (
    AppointmentStatus,
    AuditEntry,
    CashierSettings,
    CreditReason,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    StripeEvent,
)
from tests.factories import (
    make_appointment,
    make_contact,
    make_credit,
    make_document,
    make_payment,
    make_plan,
    make_promo,
    make_subscription,
)


@pytest.fixture
def records(app):
    """One record of every table, around the contact Grace Hopper."""
    CashierSettings.get()
    grace = make_contact(first_name="Grace", last_name="Hopper", email="grace@navy.example",
                         phone="+1 202 555 0147")
    plan = make_plan(name="Physio Monthly", price_minor=12000, activation_fee_minor=2500)
    service = plan.services[0].service
    subscription = make_subscription(contact=grace, plan=plan, promo_code=make_promo())
    payment = make_payment(contact=grace, subscription=subscription, amount_minor=12000,
                           purpose=PaymentPurpose.SUBSCRIPTION_PERIOD,
                           status=PaymentStatus.PARTIALLY_REFUNDED, amount_refunded_minor=2000)
    refund = Refund(payment=payment, amount_minor=2000, currency="USD",
                    reason=RefundReason.REQUESTED_BY_CUSTOMER, status=RefundStatus.SUCCEEDED)
    db.session.add(refund)
    card = PaymentMethod(contact=grace, brand="visa", last4="4242", exp_month=12,
                         exp_year=2030, is_default=True, gateway_id="pm_offline_1")
    db.session.add(card)
    credit = make_credit(contact=grace, service=service, quantity=4,
                         reason=CreditReason.PERIOD_GRANT)
    appointment = make_appointment(contact=grace, service=service,
                                   status=AppointmentStatus.NO_SHOW)
    issued = make_document(contact=grace, issued_number=1)
    draft = make_document(contact=grace)
    audit = AuditEntry(action="seed", target_type="contact", target_id=str(grace.id))
    event = StripeEvent(id="evt_seed", type="payment_intent.succeeded", handled=False,
                        note="No local payment has gateway id pi_x: nothing changed.")
    db.session.add_all([audit, event])
    db.session.commit()
    return {"contact": grace, "plan": plan, "service": service, "subscription": subscription,
            "payment": payment, "refund": refund, "payment_method": card, "credit_entry": credit,
            "appointment": appointment, "document": issued, "draft": draft,
            "promo_code": subscription.promo_code, "audit_entry": audit,
            "stripe_event": event}
