"""Issue a draft accounting document (workflow 6): it gets the next number of its type and
freezes."""

from __future__ import annotations

from ..actors import Actor
from ..billing.locks import lock
from ..documents import issue_document, queue_if_auto_send
from ..errors import ActionError
from ..models import Document, DocumentStatus, DocumentType
from .runner import STAFF, ActionResult, ActionRun


def issue_draft_document(document: Document, *, actor: Actor,
                         idempotency_key: str) -> ActionResult[Document]:
    """Number a draft invoice, receipt or credit note and mark it issued: from then on its
    lines and total never change. The number is the next of its type, taken in this
    transaction, so numbers have no gaps and no duplicates. When Cashier settings send this
    type automatically, the document is queued for delivery too.

    Error codes: ``not_permitted`` (staff only), ``document_not_draft``, ``document_empty``
    (no lines, or a zero total), ``credit_note_unlinked`` (a credit note names the document
    it corrects), ``already_done``.
    """
    with ActionRun("issue_document", actor=actor, key=idempotency_key, target=document,
                   roles=STAFF, doing="issue accounting documents") as run:
        document = lock(Document, document.id)  # two admins cannot number one draft twice
        if document.status is not DocumentStatus.DRAFT:
            raise ActionError("document_not_draft",
                              f"{document} is already {document.status.label.lower()}: only a "
                              "draft can be issued.")
        total = document.computed_total_minor()
        if document.doc_type is DocumentType.CREDIT_NOTE and document.related_document is None:
            raise ActionError("credit_note_unlinked",
                              "A credit note names the document it corrects: choose it "
                              "before issuing.")
        if not document.lines or total <= 0:
            raise ActionError("document_empty",
                              f"This draft {document.doc_type.label.lower()} has no lines or a "
                              "zero total: add what it charges for before issuing it.")
        issue_document(document)
        queued = queue_if_auto_send(document)
        message = f"Issued {document}."
        if queued is not None:
            message += f" Queued for sending by {queued.channel.label} to {queued.recipient}."
        return run.done(document, message,
                        before={"status": DocumentStatus.DRAFT.value},
                        after={"status": document.status.value,
                               "number": document.number,
                               "total_minor": document.total_minor,
                               "queued_channel": queued.channel.value if queued else None})
