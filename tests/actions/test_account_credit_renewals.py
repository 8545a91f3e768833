"""Account credit pays renewals and invoices first (``billing.credit_payments``): the part it
pays is a payment "paid from account credit" with its own receipt and ledger line; only the
rest goes to the card or the open invoice; a retry charges only what is still owed and never
spends the credit twice; two spends at once never take it below zero. On each database with
the offline gateway, and on PostgreSQL with localstripe."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from admin_app.actions.cancel_subscription import cancel_subscription
from admin_app.actions.charge_custom_bill import charge_custom_bill
from admin_app.actions.charge_invoice import charge_invoice
from admin_app.actions.issue_document import issue_draft_document
from admin_app.actions.reconcile_pending import reconcile_pending
from admin_app.actions.retry_failed_payment import retry_failed_payment
from admin_app.billing.account_credit import account_credit_balance, add_account_credit_entry
from admin_app.billing.period_billing import latest_period
from admin_app.billing.renewals import Did, billing_run
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    AccountCreditEntry,
    AccountCreditReason,
    AdminUser,
    BillingPeriod,
    Contact,
    CreditEntry,
    CreditReason,
    Document,
    DocumentLine,
    DocumentType,
    Payment,
    PaymentMethodKind,
    PaymentStatus,
    PeriodStatus,
    RefundStatus,
    SubscriptionStatus,
)
from tests.actions.conftest import audit_entries
from tests.actions.subscription_setup import (
    DECLINES,
    PERIOD_END,
    clock_fixture,
    run_billing,
    subscriber,
)
from tests.factories import give_card, make_admin, make_contact

__all__ = ["clock_fixture"]
pytestmark = pytest.mark.processor


def give_credit(contact: Contact, amount: int, currency: str = "USD") -> None:
    add_account_credit_entry(contact.id, amount_minor=amount, currency=currency,
                             reason=AccountCreditReason.DOWNGRADE, note="Downgrade",
                             actor=make_admin(role="owner"))
    db.session.commit()


def payments_of(period: BillingPeriod) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.period_id == period.id)
                                   .order_by(Payment.id)))


def card_payments(period: BillingPeriod) -> list[Payment]:
    return [p for p in payments_of(period) if p.method is PaymentMethodKind.CARD]


def credit_payments(period: BillingPeriod) -> list[Payment]:
    return [p for p in payments_of(period) if p.method is PaymentMethodKind.ACCOUNT_CREDIT]


def receipt_of(payment: Payment) -> Document:
    return db.session.scalar(select(Document).where(Document.payment_id == payment.id,
                                                    Document.doc_type == DocumentType.RECEIPT))


def applied(contact: Contact) -> list[AccountCreditEntry]:
    return list(db.session.scalars(select(AccountCreditEntry).where(
        AccountCreditEntry.contact_id == contact.id,
        AccountCreditEntry.reason == AccountCreditReason.APPLIED)
        .order_by(AccountCreditEntry.id)))


def grants(period: BillingPeriod) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(CreditEntry.quantity), 0)).where(
        CreditEntry.period_id == period.id, CreditEntry.reason == CreditReason.PERIOD_GRANT))


# --- renewals -----------------------------------------------------------------------------
def test_a_renewal_paid_in_full_by_account_credit_charges_no_card(app, clock, processor):
    member = subscriber(credits=4)
    give_credit(member.contact, 15000)
    charges = processor.count_charges()
    report = run_billing(PERIOD_END + timedelta(hours=1))
    assert report.counts[Did.RENEWED] == 1 and report.counts[Did.PAID] == 1
    period = latest_period(member.subscription)
    assert period.status is PeriodStatus.PAID and grants(period) == 4
    (paid,) = payments_of(period)
    assert paid.method is PaymentMethodKind.ACCOUNT_CREDIT and paid.amount_minor == 12000
    assert paid.status is PaymentStatus.SUCCEEDED and paid.period_attempt is None
    assert period.payment_id == paid.id and period.document_id == receipt_of(paid).id
    assert "(paid from account credit)" in receipt_of(paid).lines[0].description
    assert processor.count_charges() == charges
    assert account_credit_balance(member.contact.id, "USD") == 3000
    (spent,) = applied(member.contact)
    assert spent.amount_minor == -12000 and spent.payment_id == paid.id
    (audit,) = audit_entries("billing_account_credit")
    assert audit.after["payment_id"] == paid.id and audit.after["amount_minor"] == 12000
    assert run_billing(PERIOD_END + timedelta(hours=2)).subscriptions == 0  # billed once


def test_a_renewal_paid_partly_by_account_credit_charges_the_rest(app, clock, processor):
    member = subscriber()
    give_credit(member.contact, 5000)
    report = run_billing(PERIOD_END)
    assert report.counts[Did.PAID] == 1
    assert any("$70.00 charged" in line and "Paid $50.00 from account credit" in line
               for line in report.lines)
    period = latest_period(member.subscription)
    assert period.status is PeriodStatus.PAID and grants(period) == 4
    (credit,) = credit_payments(period)
    (card,) = card_payments(period)
    assert credit.amount_minor == 5000 and card.amount_minor == 7000
    assert processor.charge(card.gateway_id).amount_minor == 7000
    assert card.period_attempt == 1 and period.payment_id == card.id
    assert receipt_of(credit).total_minor == 5000 and receipt_of(card).total_minor == 7000
    assert account_credit_balance(member.contact.id, "USD") == 0
    assert member.subscription.status is SubscriptionStatus.ACTIVE


def test_a_declined_rest_keeps_the_credit_part_and_a_retry_charges_only_the_rest(
        app, clock, processor):
    member = subscriber(card=DECLINES, paid=False)
    give_credit(member.contact, 5000)
    report = run_billing(PERIOD_END)
    assert report.counts[Did.FAILED] == 1
    period = latest_period(member.subscription)
    assert period.status is PeriodStatus.PAST_DUE and grants(period) == 0
    assert member.subscription.status is SubscriptionStatus.PAST_DUE
    (credit,) = credit_payments(period)
    (declined,) = card_payments(period)
    assert credit.amount_minor == 5000 and credit.status is PaymentStatus.SUCCEEDED
    assert declined.amount_minor == 7000 and declined.status is PaymentStatus.FAILED
    run_billing(PERIOD_END + timedelta(days=1, hours=1))  # the first retry, declined again
    assert [p.amount_minor for p in card_payments(period)] == [7000, 7000]
    clock(PERIOD_END + timedelta(days=2))
    give_card(member.contact)  # a working card: retried at once, for the rest only
    report = run_billing(PERIOD_END + timedelta(days=2))
    assert report.counts[Did.RETRIED_PAID] == 1
    assert period.status is PeriodStatus.PAID and grants(period) == 4
    paid = card_payments(period)[-1]
    assert paid.status is PaymentStatus.SUCCEEDED and paid.amount_minor == 7000
    assert processor.charge(paid.gateway_id).amount_minor == 7000
    assert len(credit_payments(period)) == 1 and len(applied(member.contact)) == 1
    assert account_credit_balance(member.contact.id, "USD") == 0
    assert member.subscription.status is SubscriptionStatus.ACTIVE


def test_credit_that_comes_in_before_a_retry_pays_first(app, clock, processor):
    member = subscriber(card=DECLINES, paid=False)
    give_credit(member.contact, 2000)
    run_billing(PERIOD_END)
    period = latest_period(member.subscription)
    give_credit(member.contact, 3000)
    run_billing(PERIOD_END + timedelta(days=1, hours=1))
    assert [p.amount_minor for p in credit_payments(period)] == [2000, 3000]
    assert [p.amount_minor for p in card_payments(period)] == [10000, 7000]
    assert period.status is PeriodStatus.PAST_DUE
    give_credit(member.contact, 9000)  # enough now: the next retry asks no card
    report = run_billing(PERIOD_END + timedelta(days=3, hours=1))
    assert report.counts[Did.RETRIED_PAID] == 1
    assert [p.amount_minor for p in credit_payments(period)] == [2000, 3000, 7000]
    assert len(card_payments(period)) == 2
    assert period.status is PeriodStatus.PAID and grants(period) == 4
    assert period.payment_id == credit_payments(period)[-1].id
    assert account_credit_balance(member.contact.id, "USD") == 2000
    assert member.subscription.status is SubscriptionStatus.ACTIVE


def test_a_member_without_a_card_is_invoiced_for_the_rest(app, clock, processor):
    member = subscriber(card=None, paid=False)
    give_credit(member.contact, 5000)
    report = run_billing(PERIOD_END)
    assert report.counts[Did.INVOICED] == 1
    period = latest_period(member.subscription)
    invoice = db.session.get(Document, period.document_id)
    assert period.status is PeriodStatus.INVOICED and invoice.total_minor == 7000
    assert "less $50.00 paid from account credit" in invoice.lines[0].description
    (credit,) = credit_payments(period)
    assert credit.amount_minor == 5000 and receipt_of(credit) is not None
    assert account_credit_balance(member.contact.id, "USD") == 0
    assert run_billing(PERIOD_END + timedelta(days=2)).subscriptions == 0  # invoiced once


def test_a_member_without_a_card_whose_credit_covers_it_gets_no_invoice(app, clock,
                                                                        processor):
    member = subscriber(card=None, paid=False)
    give_credit(member.contact, 12000)
    report = run_billing(PERIOD_END)
    assert report.counts[Did.PAID] == 1 and not report.counts[Did.INVOICED]
    period = latest_period(member.subscription)
    assert period.status is PeriodStatus.PAID and grants(period) == 4
    assert db.session.scalar(select(func.count()).select_from(Document).where(
        Document.doc_type == DocumentType.INVOICE)) == 0
    assert account_credit_balance(member.contact.id, "USD") == 0


def test_credit_in_another_currency_is_not_spent(app, clock, processor):
    member = subscriber()
    give_credit(member.contact, 5000, currency="EUR")
    run_billing(PERIOD_END)
    period = latest_period(member.subscription)
    assert credit_payments(period) == [] and card_payments(period)[0].amount_minor == 12000
    assert account_credit_balance(member.contact.id, "EUR") == 5000


def test_a_billing_run_twice_bills_nothing_twice(app, clock, processor):
    member = subscriber()
    give_credit(member.contact, 5000)
    run_billing(PERIOD_END + timedelta(days=40))  # two renewals
    run_billing(PERIOD_END + timedelta(days=40))
    first, second = db.session.scalars(select(BillingPeriod).where(
        BillingPeriod.subscription_id == member.subscription.id,
        BillingPeriod.starts_at >= PERIOD_END).order_by(BillingPeriod.starts_at)).all()
    assert [p.amount_minor for p in payments_of(first)] == [5000, 7000]
    assert [p.amount_minor for p in payments_of(second)] == [12000]
    assert first.status is PeriodStatus.PAID and second.status is PeriodStatus.PAID
    assert len(applied(member.contact)) == 1


def test_a_lost_answer_leaves_the_credit_part_and_reconcile_pays_the_period(app, clock,
                                                                            processor):
    """What a crash between the phases leaves: the credit part paid and the card's pending
    charge of the rest, both committed in phase 1; reconcile settles the period paid."""
    member = subscriber()
    give_credit(member.contact, 5000)
    with processor.losing_answers():
        run_billing(PERIOD_END)
    period = latest_period(member.subscription)
    assert period.status is PeriodStatus.DUE
    (credit,) = credit_payments(period)
    (pending,) = card_payments(period)
    assert credit.amount_minor == 5000 and pending.status is PaymentStatus.PENDING
    assert pending.amount_minor == 7000
    assert run_billing(PERIOD_END + timedelta(minutes=1)).counts[Did.PENDING] == 1
    assert len(payments_of(period)) == 2  # nothing charged or spent again meanwhile
    clock(PERIOD_END + timedelta(minutes=5))
    reconcile_pending(min_age=timedelta(0))
    db.session.expire_all()
    assert period.status is PeriodStatus.PAID and grants(period) == 4
    assert pending.status is PaymentStatus.SUCCEEDED
    assert account_credit_balance(member.contact.id, "USD") == 0
    assert len(applied(member.contact)) == 1


def test_cancelling_gives_the_credit_part_back_as_account_credit(app, clock, processor,
                                                                  cashier, key):
    member = subscriber()
    give_credit(member.contact, 6000)
    run_billing(PERIOD_END)
    period = latest_period(member.subscription)
    (credit,) = credit_payments(period)
    (card,) = card_payments(period)
    clock(period.starts_at + (period.ends_at - period.starts_at) / 2)
    cancel_subscription(member.subscription, at_period_end=False, refund_unused=True,
                        actor=cashier, idempotency_key=key())
    db.session.expire_all()
    assert credit.amount_refunded_minor == 3000 and card.amount_refunded_minor == 3000
    assert processor.charge(card.gateway_id).refunded_minor == 3000
    assert account_credit_balance(member.contact.id, "USD") == 3000
    assert all(r.status is RefundStatus.SUCCEEDED for r in credit.refunds + card.refunds)


# --- custom invoices ----------------------------------------------------------------------
@pytest.fixture
def invoice(app, cashier, key):
    contact = make_contact(first_name="Ada", last_name="Byron")
    draft = Document(doc_type=DocumentType.INVOICE, contact=contact, currency="USD")
    draft.lines.append(DocumentLine(description="Assessment", quantity=1,
                                    unit_amount_minor=8000))
    db.session.add(draft)
    db.session.commit()
    return issue_draft_document(draft, actor=cashier, idempotency_key=key()).record


def test_an_invoice_paid_in_full_by_account_credit(invoice, cashier, key, processor):
    give_credit(invoice.contact, 10000)
    charges = processor.count_charges()
    done = charge_invoice(invoice, method=PaymentMethodKind.CARD, actor=cashier,
                          idempotency_key=key())
    payment = done.record
    assert payment.method is PaymentMethodKind.ACCOUNT_CREDIT and payment.amount_minor == 8000
    db.session.expire_all()
    paid = db.session.get(Document, invoice.id)
    assert paid.paid_at is not None and paid.paid_method == "Account credit"
    receipt = receipt_of(payment)
    assert receipt.related_document_id == invoice.id
    assert "(paid from account credit)" in receipt.lines[0].description
    assert processor.count_charges() == charges
    assert account_credit_balance(invoice.contact_id, "USD") == 2000
    (audit,) = audit_entries("charge_invoice")
    assert audit.after["from_account_credit_minor"] == 8000


def test_an_invoice_paid_partly_by_account_credit_charges_the_rest(invoice, cashier, key,
                                                                   processor):
    give_credit(invoice.contact, 3000)
    give_card(invoice.contact)
    done = charge_invoice(invoice, method=PaymentMethodKind.CARD, actor=cashier,
                          idempotency_key=key())
    card = done.record
    assert card.method is PaymentMethodKind.CARD and card.amount_minor == 5000
    assert processor.charge(card.gateway_id).amount_minor == 5000
    assert "Paid $30.00 from account credit" in done.message
    db.session.expire_all()
    assert db.session.get(Document, invoice.id).paid_at is not None
    receipts = db.session.scalars(select(Document).where(
        Document.doc_type == DocumentType.RECEIPT).order_by(Document.id)).all()
    assert [r.total_minor for r in receipts] == [3000, 5000]
    assert all(r.related_document_id == invoice.id for r in receipts)
    assert account_credit_balance(invoice.contact_id, "USD") == 0


def test_a_declined_invoice_keeps_the_credit_part_and_charges_only_the_rest(
        invoice, cashier, key, processor):
    give_credit(invoice.contact, 3000)
    give_card(invoice.contact, number=DECLINES)
    with pytest.raises(ActionError) as refused:
        charge_invoice(invoice, method=PaymentMethodKind.CARD, actor=cashier,
                       idempotency_key=key())
    assert refused.value.code == "card_declined"
    assert "stays open for the rest" in refused.value.message
    db.session.expire_all()
    assert db.session.get(Document, invoice.id).paid_at is None
    assert account_credit_balance(invoice.contact_id, "USD") == 0
    give_card(invoice.contact)
    card = charge_invoice(invoice, method=PaymentMethodKind.CARD, actor=cashier,
                          idempotency_key=key()).record
    assert card.amount_minor == 5000 and card.status is PaymentStatus.SUCCEEDED
    assert len(applied(invoice.contact)) == 1
    assert db.session.get(Document, invoice.id).paid_at is not None


def test_marked_paid_at_the_desk_takes_account_credit_first(invoice, cashier, key):
    give_credit(invoice.contact, 2500)
    done = charge_invoice(invoice, method=PaymentMethodKind.CASH, actor=cashier,
                          idempotency_key=key())
    cash = done.record
    assert cash.method is PaymentMethodKind.CASH and cash.amount_minor == 5500
    assert "$55.00 paid by cash" in done.message
    db.session.expire_all()
    assert db.session.get(Document, invoice.id).paid_method == "Cash"
    assert account_credit_balance(invoice.contact_id, "USD") == 0


# --- concurrency --------------------------------------------------------------------------
@pytest.mark.fresh_database
def test_a_renewal_and_a_bill_at_once_never_spend_below_zero(app, clock):
    """The renewal engine and the desk spend the same account credit at once: the contact's
    row lock lets them take only what is there, together never more."""
    member = subscriber(card=None, paid=False)
    give_credit(member.contact, 10000)
    contact_id, subscription_id = member.contact.id, member.subscription.id
    cashier_id = make_admin(role="cashier").id
    db.session.commit()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def renew() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                billing_run(PERIOD_END)
            except BaseException as error:  # noqa: BLE001
                errors.append(error)
            finally:
                db.session.remove()

    def bill() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                charge_custom_bill(db.session.get(Contact, contact_id), amount_minor=8000,
                                   currency="USD", description="Brace",
                                   method=PaymentMethodKind.CASH,
                                   actor=db.session.get(AdminUser, cashier_id),
                                   idempotency_key="brace-at-once")
            except BaseException as error:  # noqa: BLE001
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=renew), threading.Thread(target=bill)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    db.session.expire_all()
    assert account_credit_balance(contact_id, "USD") == 0
    spent = db.session.scalar(select(func.sum(AccountCreditEntry.amount_minor)).where(
        AccountCreditEntry.contact_id == contact_id,
        AccountCreditEntry.reason == AccountCreditReason.APPLIED))
    assert spent == -10000
    from_credit = db.session.scalar(select(func.sum(Payment.amount_minor)).where(
        Payment.contact_id == contact_id, Payment.method == PaymentMethodKind.ACCOUNT_CREDIT))
    assert from_credit == 10000
    period = db.session.scalar(select(BillingPeriod).where(
        BillingPeriod.subscription_id == subscription_id)
        .order_by(BillingPeriod.starts_at.desc()).limit(1))
    assert period.status in (PeriodStatus.PAID, PeriodStatus.INVOICED)


def test_an_admin_retry_charges_only_what_the_period_still_owes(app, clock, processor,
                                                                 cashier, key):
    member = subscriber(card=DECLINES, paid=False)
    give_credit(member.contact, 2000)
    run_billing(PERIOD_END)
    period = latest_period(member.subscription)
    first_failure = card_payments(period)[0]
    give_credit(member.contact, 3000)
    # the engine's retry: 3000 more from credit
    run_billing(PERIOD_END + timedelta(days=1, hours=1))
    assert [p.amount_minor for p in card_payments(period)] == [10000, 7000]
    clock(PERIOD_END + timedelta(days=2))
    give_card(member.contact)
    retry = retry_failed_payment(first_failure, actor=cashier, idempotency_key=key()).record
    assert retry.status is PaymentStatus.SUCCEEDED and retry.amount_minor == 7000
    assert processor.charge(retry.gateway_id).amount_minor == 7000
    db.session.expire_all()
    assert period.status is PeriodStatus.PAID and grants(period) == 4
