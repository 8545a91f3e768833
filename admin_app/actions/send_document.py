"""Send an issued accounting document to its contact by Email or SMS (workflow 6)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.locks import lock
from ..documents import queue_delivery
from ..documents.delivery import preferred_channel
from ..errors import ActionError
from ..extensions import db
from ..models import (
    DeliveryChannel,
    Document,
    DocumentStatus,
    OutboundMessage,
)
from .runner import STAFF, ActionResult, ActionRun


def send_document(document: Document, *, channel: DeliveryChannel | None, actor: Actor,
                  idempotency_key: str) -> ActionResult[OutboundMessage]:
    """Queue an issued document for delivery to its contact's email or phone, and mark it
    sent by that channel. Sending again later queues it again (a resend); the worker sends
    it once this transaction commits. ``channel`` None: the contact's preferred channel, else
    Cashier settings' delivery method (bulk sending). A void document can still be sent (it
    shows VOID); a draft cannot.

    Error codes: ``not_permitted`` (staff only), ``document_not_issued`` (drafts and void
    documents are not sent), ``no_email``, ``no_phone``, ``already_done``.
    """
    with ActionRun("send_document", actor=actor, key=idempotency_key, target=document,
                   roles=STAFF, doing="send accounting documents") as run:
        document = lock(Document, document.id)
        if document.status is DocumentStatus.DRAFT:
            raise ActionError("document_not_issued",
                              f"{document} is a draft: issue it before sending it.")
        if channel is None:
            channel = preferred_channel(document.contact)
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
        return run.done(queued, message,
                        before=before,
                        after={"sent_at": document.sent_at.isoformat(),
                               "sent_channel": channel.value,
                               "outbound_message_id": queued.id})
