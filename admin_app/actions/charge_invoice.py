"""Take the money of an issued invoice: charge it to the contact's saved card, or mark it
paid in cash / other (workflow 6)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.charging import charge_saved_card, record_offline_payment
from ..billing.locks import lock
from ..documents.invoices import is_open_invoice
from ..errors import ActionError
from ..models import Contact, Document, DocumentType, Payment, PaymentMethodKind, PaymentPurpose
from ..money import format_money
from .runner import STAFF, ActionResult, ActionRun


def charge_invoice(invoice: Document, *, method: PaymentMethodKind, actor: Actor,
                   idempotency_key: str) -> ActionResult[Payment]:
    """Pay an issued invoice in full: ``card`` charges the contact's default saved card
    through the processor (two phases, the invoice linked to the pending payment so it cannot
    be charged twice); ``cash`` / ``other`` records money taken at the desk. Paid: the invoice
    shows paid, and a receipt is issued that names it (sent when Cashier settings send
    receipts). A declined card leaves the invoice open, the failed payment on record.

    Error codes: ``not_permitted``, ``not_an_invoice``, ``invoice_not_open`` (a draft, void or
    paid invoice), ``invoice_payment_pending`` (a charge of it awaits the processor's answer),
    ``no_payment_method``, ``card_declined``, ``authentication_required``,
    ``gateway_unavailable``, ``payment_pending``, ``already_done``.
    """
    with ActionRun("charge_invoice", actor=actor, key=idempotency_key, target=invoice,
                   roles=STAFF, doing="charge invoices") as run:
        invoice = lock(Document, invoice.id)
        if invoice.doc_type is not DocumentType.INVOICE:
            raise ActionError("not_an_invoice", f"{invoice} is not an invoice.")
        if not is_open_invoice(invoice):
            state = "paid" if invoice.paid_at else invoice.status.label.lower()
            raise ActionError("invoice_not_open",
                              f"{invoice} is {state}: only an issued, unpaid invoice is paid.")
        if invoice.payment_id is not None:
            raise ActionError("invoice_payment_pending",
                              f"A charge of {invoice} is waiting for the payment processor's "
                              "answer (Cashier → Transactions → ⋯ → Check with the processor).")
        contact = lock(Contact, invoice.contact_id)
        method = PaymentMethodKind(method)
        invoice_id = invoice.id

        def attach(payment: Payment) -> None:
            lock(Document, invoice_id).payment_id = payment.id

        bill = {"amount_minor": invoice.total_minor, "currency": invoice.currency,
                "purpose": PaymentPurpose.INVOICE, "description": f"{invoice}",
                "idempotency_key": idempotency_key, "attach": attach}
        amount = format_money(invoice.total_minor, invoice.currency)
        if method is PaymentMethodKind.CARD:
            charged = charge_saved_card(contact, **bill)
            payment, settlement, how = charged.payment, charged.settlement, f"to {charged.card}"
        else:
            payment, settlement = record_offline_payment(contact, method=method, **bill)
            how = f"paid by {method.label.lower()}"
        invoice = lock(Document, invoice_id)
        message = (f"{invoice}: {amount} {how}. {settlement.document_sentence()}")
        return run.done(payment, message, before={"paid_at": None}, after={
            "invoice_id": invoice.id, "payment_id": payment.id, "method": method.value,
            "paid_at": invoice.paid_at.isoformat() if invoice.paid_at else None,
            "receipt_id": settlement.document.id if settlement.document else None})
