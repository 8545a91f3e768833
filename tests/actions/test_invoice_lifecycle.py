"""Workflow 6 after issue: a custom invoice charged to the saved card, marked paid, or voided;
a receipt names the invoice it pays; a credit note names what it corrects."""

from __future__ import annotations

import pytest

from admin_app.actions.charge_invoice import charge_invoice
from admin_app.actions.issue_document import issue_draft_document
from admin_app.actions.refund_payment import refund_payment
from admin_app.actions.void_document import void_document
from admin_app.errors import ActionError
from admin_app.extensions import db
from admin_app.models import (
    Document,
    DocumentLine,
    DocumentStatus,
    DocumentType,
    PaymentMethodKind,
    PaymentPurpose,
    PaymentStatus,
    RefundReason,
)
from tests.actions.conftest import audit_entries
from tests.factories import give_card, make_contact


@pytest.fixture
def invoice(app, cashier, key):
    contact = make_contact(first_name="Ada", last_name="Byron")
    draft = Document(doc_type=DocumentType.INVOICE, contact=contact, currency="USD",
                     tax_rate_bp=1000)
    draft.lines.append(DocumentLine(description="Assessment", quantity=2,
                                    unit_amount_minor=4000, discount_minor=1000))
    db.session.add(draft)
    db.session.commit()
    return issue_draft_document(draft, actor=cashier, idempotency_key=key()).record


def _receipts():
    return db.session.query(Document).filter_by(doc_type=DocumentType.RECEIPT).all()


def test_issue_freezes_the_total_with_discount_and_tax(invoice):
    assert invoice.total_minor == 7700 and invoice.display_number == "INV-000001"


def test_charge_to_the_saved_card_pays_it_and_the_receipt_names_it(invoice, cashier, key,
                                                                    processor):
    give_card(invoice.contact)
    payment = charge_invoice(invoice, method=PaymentMethodKind.CARD, actor=cashier,
                             idempotency_key=key()).record
    assert payment.status is PaymentStatus.SUCCEEDED and payment.amount_minor == 7700
    assert payment.purpose is PaymentPurpose.INVOICE
    assert processor.charge(payment.gateway_id).amount_minor == 7700
    db.session.expire_all()
    paid = db.session.get(Document, invoice.id)
    assert paid.paid_at is not None and paid.paid_method == "Card"
    (receipt,) = _receipts()
    assert receipt.related_document_id == invoice.id and receipt.total_minor == 7700
    with pytest.raises(ActionError) as again:
        charge_invoice(paid, method=PaymentMethodKind.CARD, actor=cashier,
                       idempotency_key=key())
    assert again.value.code == "invoice_not_open"
    assert audit_entries("charge_invoice")[0].after["receipt_id"] == receipt.id
    # Refunding the payment issues a credit note that corrects the invoice.
    refund_payment(payment, amount_minor=7700, reason=RefundReason.REQUESTED_BY_CUSTOMER,
                   note=None, reverse_credits=False, actor=cashier, idempotency_key=key())
    note = db.session.query(Document).filter_by(doc_type=DocumentType.CREDIT_NOTE).one()
    assert note.related_document_id == invoice.id


def test_a_declined_card_leaves_the_invoice_open(invoice, cashier, key, processor):
    give_card(invoice.contact, number="4000000000000341")
    with pytest.raises(ActionError) as declined:
        charge_invoice(invoice, method=PaymentMethodKind.CARD, actor=cashier,
                       idempotency_key=key())
    assert declined.value.code == "card_declined"
    db.session.expire_all()
    still = db.session.get(Document, invoice.id)
    assert still.paid_at is None and still.payment_id is None and _receipts() == []


def test_mark_paid_in_cash(invoice, cashier, key):
    payment = charge_invoice(invoice, method=PaymentMethodKind.CASH, actor=cashier,
                             idempotency_key=key()).record
    assert payment.method is PaymentMethodKind.CASH
    db.session.expire_all()
    assert db.session.get(Document, invoice.id).paid_method == "Cash"
    assert _receipts()[0].related_document_id == invoice.id


def test_void_keeps_the_number_and_refuses_payment(invoice, cashier, key):
    with pytest.raises(ActionError) as no_reason:
        void_document(invoice, reason=" ", actor=cashier, idempotency_key=key())
    assert no_reason.value.code == "reason_required"
    void = void_document(invoice, reason="Issued twice", actor=cashier,
                         idempotency_key=key()).record
    assert void.status is DocumentStatus.VOID and void.number == 1 and void.voided_at
    with pytest.raises(ActionError) as closed:
        charge_invoice(void, method=PaymentMethodKind.CASH, actor=cashier,
                       idempotency_key=key())
    assert closed.value.code == "invoice_not_open"
    assert db.session.query(Document).count() == 1  # nothing deleted, nothing added


def test_receipts_are_not_voided(invoice, cashier, key):
    charge_invoice(invoice, method=PaymentMethodKind.CASH, actor=cashier,
                   idempotency_key=key())
    with pytest.raises(ActionError) as refused:
        void_document(_receipts()[0], reason="x", actor=cashier, idempotency_key=key())
    assert refused.value.code == "not_an_invoice"


def test_a_credit_note_must_name_what_it_corrects(app, cashier, key):
    note = Document(doc_type=DocumentType.CREDIT_NOTE, contact=make_contact(), currency="USD")
    note.lines.append(DocumentLine(description="Goodwill", quantity=1, unit_amount_minor=500))
    db.session.add(note)
    db.session.commit()
    with pytest.raises(ActionError) as refused:
        issue_draft_document(note, actor=cashier, idempotency_key=key())
    assert refused.value.code == "credit_note_unlinked"
