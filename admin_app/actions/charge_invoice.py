"""Take the money of an issued invoice: charge it to the contact's saved card, or mark it
paid in cash / other (workflow 6)."""

from __future__ import annotations

from collections.abc import Callable

from ..actors import Actor
from ..billing.charging import ChargeNotMade, charge_saved_card, record_offline_payment
from ..billing.credit_payments import credit_paid_on_invoice, pay_from_account_credit
from ..billing.locks import lock
from ..billing.settling import Settlement
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

    **Account credit first**, whichever the method (the desk then takes only the rest): what
    the contact holds in the invoice's currency pays it first, as a payment "paid from account
    credit" whose receipt names the invoice; all of it → the invoice is paid by it and nothing
    else is charged; else only the rest is charged or taken. A declined card keeps the credit
    part paid: the invoice stays open for the rest, and charging it again charges only that.

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

        owed = invoice.total_minor - credit_paid_on_invoice(invoice)
        credit = pay_from_account_credit(
            contact.id, owed_minor=owed, currency=invoice.currency,
            purpose=PaymentPurpose.INVOICE, description=f"{invoice}",
            note=f"Invoice {invoice}", actor=actor, attach_if_whole=attach, part_of=invoice)
        rest = owed - (credit.amount_minor if credit is not None else 0)
        said = [credit.sentence()] if credit is not None else []
        if rest > 0:
            payment, settlement, how = _take_the_rest(
                contact, invoice, rest, method, attach=attach, key=idempotency_key,
                credit_said=" ".join(said))
            said.append(f"{format_money(rest, invoice.currency)} {how}: "
                        f"{settlement.document_sentence()}")
        else:
            payment, settlement = credit.payment, credit.settlement
        said += settlement.effects  # e.g. the billing period the invoice was for is paid
        invoice = lock(Document, invoice_id)
        message = (f"{invoice} ({format_money(invoice.total_minor, invoice.currency)}) is paid. "
                   f"{' '.join(said)}")
        return run.done(payment, message, before={"paid_at": None}, after={
            "invoice_id": invoice.id, "payment_id": payment.id, "method": method.value,
            "paid_at": invoice.paid_at.isoformat() if invoice.paid_at else None,
            "from_account_credit_minor": credit.amount_minor if credit is not None else 0,
            "account_credit_payment_id": credit.payment.id if credit is not None else None,
            "receipt_id": settlement.document.id if settlement.document else None})


def _take_the_rest(contact: Contact, invoice: Document, rest: int, method: PaymentMethodKind,
                   *, attach: Callable[[Payment], None], key: str,
                   credit_said: str) -> tuple[Payment, Settlement, str]:
    """Charge to the card, or record as taken at the desk, what account credit did not pay
    (``rest``), the invoice linked to the payment so that paying it marks the invoice paid:
    (payment, settlement, how it was paid)."""
    bill = {"amount_minor": rest, "currency": invoice.currency,
            "purpose": PaymentPurpose.INVOICE, "description": f"{invoice}",
            "idempotency_key": key, "attach": attach}
    if method is not PaymentMethodKind.CARD:
        payment, settlement = record_offline_payment(contact, method=method, **bill)
        return payment, settlement, f"paid by {method.label.lower()}"
    try:
        charged = charge_saved_card(contact, **bill)
    except ChargeNotMade as refused:
        if credit_said:
            refused.message = f"{credit_said} {invoice} stays open for the rest: {refused.message}"
        raise
    return charged.payment, charged.settlement, f"charged to {charged.card}"
