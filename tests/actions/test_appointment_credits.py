"""Appointments use credits: attended (or booked, per Cashier settings) takes one credit of the
service, earliest-expiring first; cancelled in time gives it back; a no-show keeps it; none
left flags the appointment, which can then be charged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from admin_app import clock
from admin_app.actions.book_appointment import book_appointment
from admin_app.actions.cancel_appointment import cancel_appointment
from admin_app.actions.charge_appointment import charge_appointment
from admin_app.actions.mark_attended import mark_attended
from admin_app.actions.runner import AlreadyDone
from admin_app.actions.waive_no_show_fee import waive_no_show_fee
from admin_app.billing.credits import credit_balance
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    AppointmentCredit,
    AppointmentStatus,
    CashierSettings,
    CreditEntry,
    CreditReason,
    CreditUse,
    Document,
    DocumentType,
    Payment,
    PaymentMethodKind,
    PaymentStatus,
)
from tests.actions.conftest import audit_entries
from tests.factories import give_card, make_appointment, make_contact, make_credit, make_service

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(NOW)
    try:
        yield
    finally:
        clock.freeze(None)


@pytest.fixture
def member(app):
    """A member with 1 Physio credit expiring in 5 days and 2 expiring in 20 days."""
    contact, service = make_contact(), make_service(name="Physio", price_minor=9000)
    soon, later = NOW + timedelta(days=5), NOW + timedelta(days=20)
    make_credit(contact=contact, service=service, quantity=2, reason=CreditReason.PERIOD_GRANT,
                expires_at=later)
    make_credit(contact=contact, service=service, quantity=1, reason=CreditReason.PERIOD_GRANT,
                expires_at=soon)
    db.session.commit()
    return contact, service, soon, later


def _appointment(contact, service, *, in_hours=48, **kw):
    appointment = make_appointment(contact=contact, service=service,
                                   starts_at=NOW + timedelta(hours=in_hours), **kw)
    db.session.commit()
    return appointment


def test_attended_uses_the_earliest_expiring_credit_once(member, cashier, key):
    contact, service, soon, later = member
    first = _appointment(contact, service)
    done = mark_attended(first, actor=cashier, idempotency_key=key())
    assert done.record.status is AppointmentStatus.ATTENDED
    assert done.record.credit_status is AppointmentCredit.USED
    used = db.session.scalars(select(CreditEntry).where(
        CreditEntry.appointment_id == first.id)).one()
    assert used.quantity == -1 and used.reason is CreditReason.BOOKING
    assert used.expires_at == soon  # earliest-expiring first
    assert credit_balance(contact.id, service.id) == 2
    second = _appointment(contact, service)
    mark_attended(second, actor=cashier, idempotency_key=key())
    assert db.session.scalars(select(CreditEntry.expires_at).where(
        CreditEntry.appointment_id == second.id)).one() == later
    same = key()
    third = _appointment(contact, service)
    mark_attended(third, actor=cashier, idempotency_key=same)
    with pytest.raises(AlreadyDone):
        mark_attended(third, actor=cashier, idempotency_key=same)
    with pytest.raises(ActionError) as again:
        mark_attended(third, actor=cashier, idempotency_key=key())
    assert again.value.code == "already_attended"
    assert credit_balance(contact.id, service.id) == 0
    audit = audit_entries("mark_attended")
    assert len(audit) == 3 and audit[0].after["credit_status"] == "used"


def test_no_credit_left_is_flagged_and_charged_once(member, cashier, key):
    contact, service, *_ = member
    for _ in range(3):
        mark_attended(_appointment(contact, service), actor=cashier, idempotency_key=key())
    fourth = _appointment(contact, service)
    done = mark_attended(fourth, actor=cashier, idempotency_key=key())
    assert done.record.credit_status is AppointmentCredit.MISSING
    assert "No Physio credit left" in done.message
    assert credit_balance(contact.id, service.id) == 0  # never below zero
    charged = charge_appointment(fourth, method=PaymentMethodKind.CASH, actor=cashier,
                                 idempotency_key=key())
    payment = charged.record
    assert payment.amount_minor == 9000 and payment.status is PaymentStatus.SUCCEEDED
    db.session.refresh(fourth)
    assert fourth.credit_status is AppointmentCredit.CHARGED
    assert fourth.credit_payment_id == payment.id
    assert db.session.scalar(select(Document).where(Document.payment_id == payment.id)
                             ).doc_type is DocumentType.RECEIPT
    with pytest.raises(ActionError) as twice:
        charge_appointment(fourth, method=PaymentMethodKind.CASH, actor=cashier,
                           idempotency_key=key())
    assert twice.value.code == "nothing_to_charge"
    assert db.session.query(Payment).count() == 1


@pytest.mark.processor
def test_a_declined_card_leaves_the_appointment_flagged(app, cashier, key, processor):
    contact, service = make_contact(), make_service(price_minor=5000)
    db.session.commit()
    give_card(contact, number="4000000000000341", actor=cashier)
    appointment = _appointment(contact, service)
    mark_attended(appointment, actor=cashier, idempotency_key=key())
    with pytest.raises(ActionError) as declined:
        charge_appointment(appointment, method=PaymentMethodKind.CARD, actor=cashier,
                           idempotency_key=key())
    assert declined.value.code == "card_declined"
    db.session.refresh(appointment)
    assert appointment.credit_status is AppointmentCredit.MISSING
    assert appointment.credit_payment_id is None
    give_card(contact, actor=cashier)
    charged = charge_appointment(appointment, method=PaymentMethodKind.CARD, actor=cashier,
                                 idempotency_key=key()).record
    assert processor.charge(charged.gateway_id).amount_minor == 5000
    db.session.refresh(appointment)
    assert appointment.credit_status is AppointmentCredit.CHARGED


def test_cancelled_in_time_gives_the_credit_back_into_its_lot(member, cashier, key):
    contact, service, soon, _ = member
    settings = CashierSettings.get()
    settings.credit_use = CreditUse.BOOKED
    db.session.commit()
    booked = book_appointment(contact, service=service, starts_at=NOW + timedelta(hours=30),
                              notes=None, actor=cashier, idempotency_key=key()).record
    assert booked.credit_status is AppointmentCredit.USED
    assert credit_balance(contact.id, service.id) == 2
    done = cancel_appointment(booked, actor=cashier, idempotency_key=key())
    assert "given back" in done.message
    back = db.session.scalars(select(CreditEntry).where(
        CreditEntry.appointment_id == booked.id, CreditEntry.quantity > 0)).one()
    assert back.reason is CreditReason.BOOKING_RETURN and back.expires_at == soon
    assert credit_balance(contact.id, service.id) == 3
    assert done.record.credit_status is AppointmentCredit.RETURNED
    with pytest.raises(ActionError) as again:
        cancel_appointment(booked, actor=cashier, idempotency_key=key())
    assert again.value.code == "appointment_not_booked"
    assert credit_balance(contact.id, service.id) == 3


def test_a_late_cancellation_keeps_the_credit(member, cashier, key):
    contact, service, *_ = member
    settings = CashierSettings.get()
    settings.credit_use, settings.cancel_notice_hours = CreditUse.BOOKED, 24
    db.session.commit()
    booked = book_appointment(contact, service=service, starts_at=NOW + timedelta(hours=23),
                              notes=None, actor=cashier, idempotency_key=key()).record
    done = cancel_appointment(booked, actor=cashier, idempotency_key=key())
    assert "stays used" in done.message
    assert credit_balance(contact.id, service.id) == 2


def test_a_credit_whose_lot_expired_is_not_given_back(member, cashier, key):
    contact, service, soon, _ = member
    settings = CashierSettings.get()
    settings.credit_use = CreditUse.BOOKED
    db.session.commit()
    booked = book_appointment(contact, service=service, starts_at=NOW + timedelta(days=10),
                              notes=None, actor=cashier, idempotency_key=key()).record
    clock.freeze(soon + timedelta(hours=1))  # its credit's lot has expired meanwhile
    done = cancel_appointment(booked, actor=cashier, idempotency_key=key())
    assert "had expired" in done.message
    assert credit_balance(contact.id, service.id) == 2


def test_a_no_show_keeps_its_credit(member, cashier, key):
    contact, service, *_ = member
    missed = _appointment(contact, service, in_hours=-2)
    waive_no_show_fee(missed, reason="first time", actor=cashier, idempotency_key=key())
    db.session.refresh(missed)
    assert missed.status is AppointmentStatus.NO_SHOW
    assert missed.credit_status is AppointmentCredit.USED
    assert credit_balance(contact.id, service.id) == 2


def test_booking_with_attended_setting_takes_nothing_until_attended(member, cashier, key):
    contact, service, *_ = member
    booked = book_appointment(contact, service=service, starts_at=NOW + timedelta(hours=3),
                              notes="first visit", actor=cashier, idempotency_key=key()).record
    assert booked.credit_status is AppointmentCredit.NONE
    assert credit_balance(contact.id, service.id) == 3
    assert audit_entries("book_appointment")[0].after["appointment_id"] == booked.id


def test_viewer_may_not(member, viewer, key):
    contact, service, *_ = member
    appointment = _appointment(contact, service)
    for act in (mark_attended, cancel_appointment):
        with pytest.raises(ActionError) as refused:
            act(appointment, actor=viewer, idempotency_key=key())
        assert refused.value.code == "not_permitted"
    assert credit_balance(contact.id, service.id) == 3
