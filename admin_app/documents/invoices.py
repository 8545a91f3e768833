"""Custom invoices after issue: paid by a payment (charged to the card, or taken in cash /
other), or voided. An invoice is paid by one payment, linked while it is being charged."""

from __future__ import annotations

from sqlalchemy import select

from ..clock import utcnow
from ..extensions import db
from ..models import Document, DocumentStatus, DocumentType, Payment


def invoice_paid_by(payment: Payment) -> Document | None:
    """The invoice ``payment`` was charged for (linked in its first phase), if any."""
    return db.session.scalar(select(Document).where(Document.payment_id == payment.id,
                                                    Document.doc_type == DocumentType.INVOICE))


def mark_invoice_paid(invoice: Document, payment: Payment) -> None:
    invoice.paid_at = payment.paid_at or utcnow()
    invoice.paid_method = payment.method.label


def release_invoice(failed: Payment) -> list[str]:
    """A charge of an invoice that failed leaves the invoice open, to be charged again."""
    invoice = invoice_paid_by(failed)
    if invoice is None or invoice.paid_at is not None:
        return []
    invoice.payment_id = None
    return [f"{invoice} is still open: charge it again or mark it paid."]


def is_open_invoice(document: Document) -> bool:
    return (document.doc_type is DocumentType.INVOICE
            and document.status is DocumentStatus.ISSUED and document.paid_at is None)
