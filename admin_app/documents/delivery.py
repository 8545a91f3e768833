"""Queuing documents for delivery by Email or SMS, as Settings → Cashier settings says.

Queued messages are rows in ``outbound_message``, written in the issuing transaction; sending
them happens after commit, outside any action (its own command/worker).
"""

from __future__ import annotations

from ..clock import utcnow
from ..extensions import db
from ..models import (
    CashierSettings,
    DeliveryChannel,
    Document,
    DocumentType,
    OutboundMessage,
)


def _wants_auto_send(settings: CashierSettings, doc_type: DocumentType) -> bool:
    if not settings.auto_send_receipts:
        return False
    return {
        DocumentType.INVOICE: settings.auto_send_invoices,
        DocumentType.RECEIPT: settings.auto_send_receipts_docs,
        DocumentType.CREDIT_NOTE: settings.auto_send_credit_notes,
    }[doc_type]


def queue_delivery(document: Document, channel: DeliveryChannel) -> OutboundMessage | None:
    """Queue ``document`` to its contact by ``channel`` and mark it sent (when and how) from
    that moment; ``None`` when the contact has no email (or phone, for SMS) to send to."""
    contact = document.contact
    recipient = contact.email if channel is DeliveryChannel.EMAIL else contact.phone
    if not recipient:
        return None
    message = OutboundMessage(contact_id=contact.id, document=document, channel=channel,
                              recipient=recipient, subject=f"Your {document}")
    db.session.add(message)
    document.sent_at = utcnow()
    document.sent_channel = channel
    return message


def queue_if_auto_send(document: Document) -> OutboundMessage | None:
    """Queue an issued document when Cashier settings send that type automatically."""
    settings = CashierSettings.get()
    if not _wants_auto_send(settings, document.doc_type):
        return None
    return queue_delivery(document, settings.auto_send_channel)
