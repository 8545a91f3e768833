"""Queuing documents for delivery by Email or SMS, as Settings → Cashier settings says.

Queued messages are rows in ``outbound_message``, written in the issuing transaction; the
worker sends them after that transaction commits (``documents/sending.py``): each committed
message is handed to the worker at once (``on_message_committed``), and the worker's
every-minute sweep picks up anything missed and every retry that falls due.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, aliased

from ..clock import utcnow
from ..extensions import db
from ..models import (
    CashierSettings,
    Contact,
    DeliveryChannel,
    Document,
    DocumentType,
    MessageStatus,
    OutboundMessage,
)

_dispatchers: list[Callable[[list[int]], None]] = []
DISPATCH_BATCH = 25


def on_message_committed(dispatch: Callable[[list[int]], None]) -> None:
    """Call ``dispatch(message_ids)`` for the new messages once their transaction commits,
    ``DISPATCH_BATCH`` ids at a time (a bulk send of 1,000 is 40 tasks, not 1,000 queue
    writes in the admin's request). The job engine registers its task here: documents know
    nothing of the engine."""
    _dispatchers[:] = [dispatch]


@event.listens_for(Session, "after_flush")
def _note_new_messages(session, flush_context) -> None:
    new = [obj.id for obj in session.new if isinstance(obj, OutboundMessage)]
    if new:
        session.info.setdefault("new_messages", []).extend(new)


@event.listens_for(Session, "after_commit")
def _dispatch_committed(session) -> None:
    ids = session.info.pop("new_messages", None)
    if ids and _dispatchers:
        for start in range(0, len(ids), DISPATCH_BATCH):
            _dispatchers[0](ids[start:start + DISPATCH_BATCH])


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session) -> None:
    session.info.pop("new_messages", None)


def _wants_auto_send(settings: CashierSettings, doc_type: DocumentType) -> bool:
    if not settings.auto_send_receipts:
        return False
    return {
        DocumentType.INVOICE: settings.auto_send_invoices,
        DocumentType.RECEIPT: settings.auto_send_receipts_docs,
        DocumentType.CREDIT_NOTE: settings.auto_send_credit_notes,
    }[doc_type]


def recipient_for(contact: Contact, channel: DeliveryChannel) -> str | None:
    return contact.email if channel is DeliveryChannel.EMAIL else contact.phone


def preferred_channel(contact: Contact) -> DeliveryChannel:
    """The contact's preferred channel, else Cashier settings' delivery method."""
    if contact.preferred_channel:
        return DeliveryChannel(contact.preferred_channel)
    return CashierSettings.get().auto_send_channel


def subject_for(document: Document) -> str:
    business = CashierSettings.get().business_name
    subject = f"Your {document.doc_type.label.lower()} {document.display_number}"
    return f"{subject} from {business}"[:200] if business else subject


def queue_delivery(document: Document, channel: DeliveryChannel) -> OutboundMessage | None:
    """Queue ``document`` to its contact by ``channel`` and mark it sent (when and how) from
    that moment; ``None`` when the contact has no email (or phone, for SMS) to send to.

    Documents are always sent when asked (an opt-out covers marketing, not receipts)."""
    contact = document.contact
    recipient = recipient_for(contact, channel)
    if not recipient:
        return None
    message = OutboundMessage(contact_id=contact.id, document=document, channel=channel,
                              recipient=recipient, subject=subject_for(document),
                              next_attempt_at=utcnow())
    db.session.add(message)
    document.sent_at = utcnow()
    document.sent_channel = channel
    document.delivery_state = MessageStatus.QUEUED.value
    return message


def queue_if_auto_send(document: Document) -> OutboundMessage | None:
    """Queue an issued document when Cashier settings send that type automatically (by the
    delivery method chosen there; a contact without that address gets nothing queued)."""
    settings = CashierSettings.get()
    if not _wants_auto_send(settings, document.doc_type):
        return None
    return queue_delivery(document, settings.auto_send_channel)


def failed_deliveries_count() -> int:
    """Documents whose latest delivery failed or is not confirmed (for Home): a later
    successful send of the same document clears it."""
    later = aliased(OutboundMessage)
    resent = (select(later.id).where(later.document_id == OutboundMessage.document_id,
                                     later.id > OutboundMessage.id)
              .exists())
    return db.session.scalar(
        select(func.count(func.distinct(OutboundMessage.document_id)))
        .where(OutboundMessage.document_id.is_not(None),
               OutboundMessage.status.in_([MessageStatus.FAILED, MessageStatus.UNCONFIRMED]),
               ~resent)) or 0
