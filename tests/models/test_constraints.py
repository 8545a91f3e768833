"""The database itself refuses bad money, currencies, refunds and documents."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.exc import DataError, IntegrityError, StatementError

from admin_app.extensions import db
from admin_app.models import (
    CreditEntry,
    CreditReason,
    DiscountType,
    DocumentStatus,
    PaymentMethod,
    PaymentStatus,
    credit_balances,
)
from tests.factories import (
    make_contact,
    make_credit,
    make_document,
    make_payment,
    make_plan,
    make_promo,
    make_service,
    make_subscription,
)


def _refused(make):
    with pytest.raises((IntegrityError, DataError)):
        make()
        db.session.flush()
    db.session.rollback()


def test_amounts_cannot_be_negative(app):
    _refused(lambda: make_payment(amount_minor=-1))
    _refused(lambda: make_service(price_minor=-100))
    _refused(lambda: make_plan(activation_fee_minor=-1))


@pytest.mark.parametrize("currency", ["usd", "US", "USDX", "1SD", "123"])
def test_currency_must_be_three_upper_case_letters(app, currency):
    _refused(lambda: make_payment(currency=currency))


def test_refunded_cannot_exceed_paid(app):
    payment = make_payment(amount_minor=5000, status=PaymentStatus.PARTIALLY_REFUNDED,
                           amount_refunded_minor=5000)
    db.session.commit()
    payment.amount_refunded_minor = 5001
    _refused(db.session.flush)


def test_status_outside_the_list_is_refused(app):
    contact = make_contact()
    db.session.commit()
    with pytest.raises((StatementError, LookupError, IntegrityError)):
        db.session.execute(
            db.text("UPDATE contact SET status = 'bogus' WHERE id = :id"), {"id": contact.id}
        )
        db.session.flush()
    db.session.rollback()


def test_foreign_keys_are_enforced(app):
    _refused(lambda: db.session.execute(db.text(
        "INSERT INTO payment (contact_id, amount_minor, currency, status, amount_refunded_minor,"
        " purpose, method, created_at, updated_at) VALUES (999999, 1, 'USD', 'pending', 0,"
        " 'custom_bill', 'card', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")))


def test_document_numbers_are_unique_per_type_and_only_on_issued(app):
    make_document(issued_number=1)
    db.session.commit()
    _refused(lambda: make_document(issued_number=1))
    draft = make_document()
    db.session.commit()
    draft.number = 7  # a draft carries no number
    _refused(db.session.flush)
    issued_without_number = make_document()
    issued_without_number.status = DocumentStatus.ISSUED
    _refused(db.session.flush)


def test_one_default_payment_method_per_contact(app):
    contact = make_contact()
    for last4 in ("4242", "1881"):
        db.session.add(PaymentMethod(contact=contact, brand="visa", last4=last4, exp_month=12,
                                     exp_year=2030, is_default=False))
    db.session.add(PaymentMethod(contact=contact, brand="visa", last4="0005", exp_month=1,
                                 exp_year=2031, is_default=True))
    db.session.commit()
    db.session.add(PaymentMethod(contact=contact, brand="mastercard", last4="4444", exp_month=1,
                                 exp_year=2031, is_default=True))
    _refused(db.session.flush)


def test_promo_code_shape(app):
    _refused(lambda: make_promo(percent_off=0))
    _refused(lambda: make_promo(percent_off=101))
    _refused(lambda: make_promo(discount_type=DiscountType.AMOUNT, percent_off=None,
                                amount_off_minor=500, currency=None))
    make_promo(discount_type=DiscountType.AMOUNT, percent_off=None, amount_off_minor=500,
               currency="USD")
    db.session.commit()


def test_subscription_period_must_end_after_it_starts(app):
    moment = datetime(2026, 1, 1, tzinfo=datetime.now().astimezone().tzinfo)
    _refused(lambda: make_subscription(current_period_start=moment, current_period_end=moment))


def test_credit_entries_are_non_zero_and_balances_are_sums(app):
    contact, service = make_contact(), make_service()
    make_credit(contact=contact, service=service, quantity=4, reason=CreditReason.PERIOD_GRANT)
    make_credit(contact=contact, service=service, quantity=-1, reason=CreditReason.BOOKING)
    db.session.commit()
    assert credit_balances(contact.id) == [(service, 3)]
    db.session.add(CreditEntry(contact=contact, service=service, quantity=0,
                               reason=CreditReason.MANUAL_ADD))
    _refused(db.session.flush)


def test_times_are_stored_in_utc_and_read_back_aware(app):
    from zoneinfo import ZoneInfo

    local = datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("America/New_York"))
    payment = make_payment(paid_at=local)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(type(payment), payment.id).paid_at
    assert stored.utcoffset().total_seconds() == 0
    assert stored == local
    with pytest.raises(StatementError):
        make_payment(paid_at=datetime(2026, 3, 1, 9, 30))
    db.session.rollback()
