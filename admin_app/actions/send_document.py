"""Send an issued accounting document to its contact by Email or SMS (workflow 6)."""

from __future__ import annotations

from ..documents import queue_delivery
from ..extensions import db
from ..models import (
    AdminUser,
    DeliveryChannel,
    Document,
    DocumentStatus,
    OutboundMessage,
    record_audit,
)
from .base import STAFF, ActionError, claim, finish, lock, require_role, unit_of_work


def send_document(document: Document, *, channel: DeliveryChannel, actor: AdminUser,
                  idempotency_key: str) -> OutboundMessage:
    """Queue an issued document for delivery to its contact's email or phone, and mark it
    sent by that channel. Sending again later queues it again (a resend).

    Error codes: ``not_permitted`` (staff only), ``document_not_issued`` (drafts and void
    documents are not sent), ``no_email``, ``no_phone``, ``already_done``.
    """
    with unit_of_work():
        require_role(actor, STAFF, doing="send accounting documents")
        request = claim("send_document", idempotency_key, actor=actor, target=document)
        document = lock(Document, document.id)
        if document.status is not DocumentStatus.ISSUED:
            raise ActionError("document_not_issued",
                              f"{document} is {document.status.label.lower()}: only an issued "
                              "document can be sent.")
        before = {"sent_at": document.sent_at.isoformat() if document.sent_at else None,
                  "sent_channel": document.sent_channel.value if document.sent_channel else None}
        queued = queue_delivery(document, channel)
        if queued is None:
            code, what = (("no_email", "email address") if channel is DeliveryChannel.EMAIL
                          else ("no_phone", "phone number"))
            raise ActionError(code, f"{document.contact} has no {what}: add it on the contact "
                                    "card, or send the document the other way.")
        db.session.flush()
        message = f"{document} queued for sending by {channel.label} to {queued.recipient}."
        record_audit(actor=actor, action="send_document", target=document, summary=message,
                     before=before,
                     after={"sent_at": document.sent_at.isoformat(),
                            "sent_channel": channel.value, "outbound_message_id": queued.id})
        finish(request, message=message, result=queued)
    return queued
