"""Issuing documents: a draft gets its number and freezes; actions issue receipts and credit
notes for the money they move."""

from __future__ import annotations

from sqlalchemy import select

from ..clock import utcnow
from ..extensions import db
from ..models import (
    CashierSettings,
    Document,
    DocumentLine,
    DocumentStatus,
    DocumentType,
    Payment,
    Refund,
)
from .numbering import next_number


def issue_document(document: Document) -> Document:
    """Number a draft and mark it issued (its lines and total are final from now on).

    The caller owns the transaction; the number is taken inside it.
    """
    if document.status not in (None, DocumentStatus.DRAFT):  # None: new, not flushed yet
        raise ValueError(f"{document} is already issued")
    # The prefix in force now stays with the number: a later change renames nothing.
    prefix = CashierSettings.get().prefix_for(document.doc_type)
    document.total_minor = document.computed_total_minor()
    document.number = next_number(document.doc_type)
    document.number_prefix = prefix
    document.status = DocumentStatus.ISSUED
    document.issued_at = utcnow()
    db.session.flush()
    return document


def receipt_for_payment(payment: Payment, *, description: str,
                        invoice: Document | None = None,
                        lines: list[tuple[str, int]] | None = None) -> Document:
    """An issued receipt for a succeeded payment (naming the invoice it pays, if any): one
    line, ``description`` for the whole amount, or ``lines`` ((description, amount) that add
    up to it)."""
    receipt = Document(doc_type=DocumentType.RECEIPT, contact_id=payment.contact_id,
                       payment=payment, currency=payment.currency, related_document=invoice)
    for text, amount in lines or [(description, payment.amount_minor)]:
        receipt.lines.append(DocumentLine(description=text[:200], quantity=1,
                                          unit_amount_minor=amount))
    db.session.add(receipt)
    return issue_document(receipt)


def document_of_payment(payment: Payment) -> Document | None:
    """The document a payment settled: the invoice it paid, else its receipt (what a credit
    note for its refund corrects)."""
    receipt = db.session.scalar(
        select(Document).where(Document.payment_id == payment.id,
                               Document.doc_type == DocumentType.RECEIPT)
        .order_by(Document.id).limit(1))
    if receipt is not None and receipt.related_document is not None:
        return receipt.related_document
    return receipt


def credit_note_for_refund(refund: Refund, *, description: str) -> Document:
    """An issued credit note for a succeeded refund."""
    payment = refund.payment
    note = Document(doc_type=DocumentType.CREDIT_NOTE, contact_id=payment.contact_id,
                    payment=payment, refund=refund, currency=refund.currency,
                    related_document=document_of_payment(payment))
    note.lines.append(DocumentLine(description=description, quantity=1,
                                   unit_amount_minor=refund.amount_minor))
    db.session.add(note)
    return issue_document(note)
