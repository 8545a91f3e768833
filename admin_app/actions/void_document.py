"""Void an issued, unpaid invoice (workflow 6): it keeps its number and shows VOID."""

from __future__ import annotations

from ..actors import Actor
from ..billing.locks import lock
from ..clock import utcnow
from ..documents.invoices import is_open_invoice
from ..errors import ActionError
from ..models import Document, DocumentStatus, DocumentType
from .runner import STAFF, ActionResult, ActionRun


def void_document(document: Document, *, reason: str, actor: Actor,
                  idempotency_key: str) -> ActionResult[Document]:
    """Mark an issued, unpaid invoice void: it keeps its number (numbers are never reused
    nor deleted) and prints VOID with the reason. A paid invoice is corrected by refunding
    its payment (a credit note), not voided; receipts and credit notes record money that
    moved and are never voided.

    Error codes: ``not_permitted``, ``not_an_invoice``, ``invoice_not_open``,
    ``invoice_payment_pending``, ``reason_required``, ``already_done``.
    """
    with ActionRun("void_document", actor=actor, key=idempotency_key, target=document,
                   roles=STAFF, doing="void invoices") as run:
        document = lock(Document, document.id)
        if document.doc_type is not DocumentType.INVOICE:
            raise ActionError("not_an_invoice",
                              f"{document} records money that moved: refund the payment "
                              "instead (a credit note is issued).")
        if not is_open_invoice(document):
            state = "paid" if document.paid_at else document.status.label.lower()
            raise ActionError("invoice_not_open",
                              f"{document} is {state}: only an issued, unpaid invoice can be "
                              "voided.")
        if document.payment_id is not None:
            raise ActionError("invoice_payment_pending",
                              f"A charge of {document} is waiting for the processor's answer: "
                              "check it first.")
        reason = (reason or "").strip()
        if not reason:
            raise ActionError("reason_required", "Say why the invoice is voided.")
        document.status, document.voided_at = DocumentStatus.VOID, utcnow()
        document.void_reason = reason[:200]
        return run.done(document, f"{document} is void. It keeps its number.",
                        before={"status": "issued"},
                        after={"status": "void", "reason": document.void_reason})
