"""Account credit: a balance per currency that custom bills spend first ("paid from account
credit" on the receipt), an admin refunds to the card (two phases around the processor, against
the newest card payments) or adjusts with a reason; never below zero."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from admin_app.actions.adjust_account_credit import adjust_account_credit
from admin_app.actions.charge_custom_bill import charge_custom_bill
from admin_app.actions.reconcile_refund import reconcile_refund
from admin_app.actions.refund_account_credit import refund_account_credit
from admin_app.actions.refund_payment import refund_payment
from admin_app.actions.runner import AlreadyDone
from admin_app.billing.account_credit import (
    account_credit_balance,
    add_account_credit_entry,
    spend_account_credit,
)
from admin_app.billing.charging import charge_saved_card
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    AccountCreditEntry,
    AccountCreditReason,
    AdminUser,
    Document,
    DocumentType,
    Payment,
    PaymentMethodKind,
    PaymentPurpose,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from tests.actions.conftest import audit_entries
from tests.factories import give_card, make_admin, make_contact
from tests.transactions import committed


def _with_credit(amount: int, currency: str = "USD"):
    contact = make_contact()
    db.session.commit()
    add_account_credit_entry(contact.id, amount_minor=amount, currency=currency,
                             reason=AccountCreditReason.DOWNGRADE, note="Downgrade",
                             actor=make_admin(role="owner"))
    db.session.commit()
    return contact


def _card_payment(contact, amount: int) -> Payment:
    with committed():
        return charge_saved_card(contact, amount_minor=amount, currency="USD",
                                 purpose=PaymentPurpose.CUSTOM_BILL,
                                 description="Massage").payment


def _receipt(payment: Payment) -> Document:
    return db.session.scalar(select(Document).where(Document.payment_id == payment.id,
                                                    Document.doc_type == DocumentType.RECEIPT))


def test_a_custom_bill_covered_by_account_credit(app, cashier, key):
    contact = _with_credit(5000)
    done = charge_custom_bill(contact, amount_minor=3000, currency="USD", description="Tape",
                              method=PaymentMethodKind.CARD, actor=cashier,
                              idempotency_key=key())
    payment = done.record
    assert payment.method is PaymentMethodKind.ACCOUNT_CREDIT
    assert payment.amount_minor == 3000 and payment.status is PaymentStatus.SUCCEEDED
    assert "paid from account credit" in _receipt(payment).lines[0].description
    assert "from account credit" in done.message
    assert account_credit_balance(contact.id, "USD") == 2000
    spent = db.session.scalars(select(AccountCreditEntry).where(
        AccountCreditEntry.reason == AccountCreditReason.APPLIED)).one()
    assert spent.amount_minor == -3000 and spent.payment_id == payment.id
    assert audit_entries("charge_custom_bill")[0].after["from_account_credit_minor"] == 3000


def test_account_credit_first_then_cash_for_the_rest(app, cashier, key):
    contact = _with_credit(1200)
    charge_custom_bill(contact, amount_minor=5000, currency="USD", description="Insoles",
                       method=PaymentMethodKind.CASH, actor=cashier, idempotency_key=key())
    payments = db.session.scalars(select(Payment).order_by(Payment.id)).all()
    assert [(p.method, p.amount_minor) for p in payments] == [
        (PaymentMethodKind.ACCOUNT_CREDIT, 1200), (PaymentMethodKind.CASH, 3800)]
    assert all(_receipt(p) is not None for p in payments)
    assert account_credit_balance(contact.id, "USD") == 0


def test_other_currencies_are_not_spent(app, cashier, key):
    contact = _with_credit(5000, "EUR")
    payment = charge_custom_bill(contact, amount_minor=3000, currency="USD", description="Tape",
                                 method=PaymentMethodKind.CASH, actor=cashier,
                                 idempotency_key=key()).record
    assert payment.method is PaymentMethodKind.CASH and payment.amount_minor == 3000
    assert account_credit_balance(contact.id, "EUR") == 5000


@pytest.mark.processor
def test_a_declined_card_keeps_the_account_credit_part_paid(app, cashier, key, processor):
    contact = _with_credit(1000)
    give_card(contact, number="4000000000000341", actor=cashier)
    with pytest.raises(ActionError) as declined:
        charge_custom_bill(contact, amount_minor=4000, currency="USD", description="Pack",
                           method=PaymentMethodKind.CARD, actor=cashier, idempotency_key=key())
    assert declined.value.code == "card_declined"
    assert declined.value.message.startswith("Paid $10.00 from account credit")
    by_method = {p.method: p for p in db.session.scalars(select(Payment))}
    assert by_method[PaymentMethodKind.ACCOUNT_CREDIT].status is PaymentStatus.SUCCEEDED
    assert by_method[PaymentMethodKind.CARD].status is PaymentStatus.FAILED
    assert by_method[PaymentMethodKind.CARD].amount_minor == 3000
    assert account_credit_balance(contact.id, "USD") == 0


def test_refunding_a_payment_made_from_account_credit_returns_it(app, cashier, key):
    contact = _with_credit(3000)
    payment = charge_custom_bill(contact, amount_minor=3000, currency="USD", description="Tape",
                                 method=PaymentMethodKind.CASH, actor=cashier,
                                 idempotency_key=key()).record
    refund_payment(payment, amount_minor=1000, reason=RefundReason.REQUESTED_BY_CUSTOMER,
                   note=None, reverse_credits=False, actor=cashier, idempotency_key=key())
    assert account_credit_balance(contact.id, "USD") == 1000


def test_adjust_with_a_reason_never_below_zero(app, cashier, key):
    contact = _with_credit(500)
    done = adjust_account_credit(contact, amount_minor=1500, currency="usd", reason="Goodwill",
                                 actor=cashier, idempotency_key=key())
    assert done.record.reason is AccountCreditReason.MANUAL and done.record.note == "Goodwill"
    assert account_credit_balance(contact.id, "USD") == 2000
    for amount, reason, code in ((-2001, "Fix", "insufficient_account_credit"),
                                 (0, "Fix", "zero_amount"), (100, "  ", "reason_required")):
        with pytest.raises(ActionError) as refused:
            adjust_account_credit(contact, amount_minor=amount, currency="USD", reason=reason,
                                  actor=cashier, idempotency_key=key())
        assert refused.value.code == code
    same = key()
    adjust_account_credit(contact, amount_minor=-2000, currency="USD", reason="Paid in cash",
                          actor=cashier, idempotency_key=same)
    with pytest.raises(AlreadyDone):
        adjust_account_credit(contact, amount_minor=-2000, currency="USD",
                              reason="Paid in cash", actor=cashier, idempotency_key=same)
    assert account_credit_balance(contact.id, "USD") == 0
    audit = audit_entries("adjust_account_credit")
    assert [(a.before["balance_minor"], a.after["balance_minor"]) for a in audit] == [
        (500, 2000), (2000, 0)]


def test_viewer_may_not_adjust(app, viewer, key):
    contact = _with_credit(500)
    with pytest.raises(ActionError) as refused:
        adjust_account_credit(contact, amount_minor=100, currency="USD", reason="x",
                              actor=viewer, idempotency_key=key())
    assert refused.value.code == "not_permitted"


@pytest.mark.processor
def test_refund_to_card_newest_payments_first(app, cashier, key, processor):
    contact = _with_credit(9000)
    give_card(contact, actor=cashier)
    older, newer = _card_payment(contact, 6000), _card_payment(contact, 4000)
    done = refund_account_credit(contact, amount_minor=7000, currency="USD", note="Moving",
                                 actor=cashier, idempotency_key=key())
    assert "Refunded $70.00 of account credit" in done.message
    refunds = db.session.scalars(select(Refund).order_by(Refund.id)).all()
    assert [(r.payment_id, r.amount_minor, r.status) for r in refunds] == [
        (newer.id, 4000, RefundStatus.SUCCEEDED), (older.id, 3000, RefundStatus.SUCCEEDED)]
    assert processor.charge(newer.gateway_id).refunded_minor == 4000
    assert processor.charge(older.gateway_id).refunded_minor == 3000
    assert account_credit_balance(contact.id, "USD") == 2000
    notes = db.session.scalars(select(Document).where(
        Document.doc_type == DocumentType.CREDIT_NOTE)).all()
    assert len(notes) == 2
    assert "Account credit refunded to the card" in notes[0].lines[0].description
    with pytest.raises(ActionError) as too_much:  # 3000 left at the processor, 2000 held
        refund_account_credit(contact, amount_minor=2500, currency="USD", note="",
                              actor=cashier, idempotency_key=key())
    assert too_much.value.code == "insufficient_account_credit"


@pytest.mark.processor
def test_refund_to_card_needs_card_payments(app, cashier, key, processor):
    contact = _with_credit(9000)
    give_card(contact, actor=cashier)
    _card_payment(contact, 1000)
    with pytest.raises(ActionError) as refused:
        refund_account_credit(contact, amount_minor=5000, currency="USD", note="",
                              actor=cashier, idempotency_key=key())
    assert refused.value.code == "no_card_payment_to_refund"
    assert "$10.00 left to refund" in refused.value.message
    assert db.session.query(Refund).count() == 0
    assert account_credit_balance(contact.id, "USD") == 9000


@pytest.mark.processor
def test_refund_to_card_unanswered_then_refused_gives_the_credit_back(app, cashier, key,
                                                                       processor):
    contact = _with_credit(5000)
    give_card(contact, actor=cashier)
    payment = _card_payment(contact, 5000)
    processor.set_down(True)
    with pytest.raises(ActionError) as unanswered:
        refund_account_credit(contact, amount_minor=2000, currency="USD", note="",
                              actor=cashier, idempotency_key=key())
    assert unanswered.value.code == "gateway_unavailable"
    refund = db.session.scalars(select(Refund)).one()
    assert refund.status is RefundStatus.PENDING
    assert account_credit_balance(contact.id, "USD") == 3000  # taken while it is pending
    processor.set_down(False)
    # The processor never got it: reconcile settles the refund as not made, and the account
    # credit comes back, once.
    owner = db.session.get(AdminUser, cashier.id)
    from datetime import timedelta

    reconcile_refund(refund, actor=owner, idempotency_key=key(), min_age=timedelta(0))
    db.session.refresh(refund)
    assert refund.status is RefundStatus.FAILED
    assert account_credit_balance(contact.id, "USD") == 5000
    assert db.session.get(Payment, payment.id).amount_refunded_minor == 0
    reasons = [e.reason for e in db.session.scalars(select(AccountCreditEntry)
                                                     .order_by(AccountCreditEntry.id))]
    assert reasons == [AccountCreditReason.DOWNGRADE, AccountCreditReason.REFUNDED,
                       AccountCreditReason.REFUND_FAILED]


@pytest.mark.fresh_database
def test_concurrent_spends_never_go_below_zero(app):
    """Two renewals (or bills) spend the same account credit at once: the second reads the
    balance only after the first committed — the contact's row lock (PostgreSQL) or the write
    lock ``lock`` takes first (SQLite) — so they take only what is there. The first holds its
    uncommitted spend while the second starts: the second must wait, not read $50.00."""
    contact = _with_credit(5000)
    contact_id = contact.id
    owner = make_admin(role="owner")
    owner_id = owner.id
    first_spent = threading.Event()
    used: dict[str, int] = {}

    def spend(name: str) -> None:
        with app.app_context():
            try:
                actor = db.session.get(AdminUser, owner_id)
                if name == "second":
                    first_spent.wait(timeout=10)
                used[name] = spend_account_credit(contact_id, "USD", 4000, note="Renewal",
                                                  actor=actor)
                if name == "first":
                    first_spent.set()
                    time.sleep(0.5)  # the second starts while this spend is not committed
                db.session.commit()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=spend, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert used == {"first": 4000, "second": 1000}
    db.session.expire_all()
    assert account_credit_balance(contact_id, "USD") == 0
