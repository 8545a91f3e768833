"""Accounting documents: numbering, issuing, rendering (HTML, PDF), delivery (email, SMS)."""

from .delivery import failed_deliveries_count, queue_delivery, queue_if_auto_send
from .issuing import credit_note_for_refund, issue_document, receipt_for_payment

__all__ = ["issue_document", "receipt_for_payment", "credit_note_for_refund",
           "queue_if_auto_send", "queue_delivery", "failed_deliveries_count"]
