"""A new subscription paid by an open invoice (the desk's "Subscribe to a plan", for a member
who pays later by transfer or at the next visit): the invoice for the activation fee and the
first period, due in Cashier settings' ``invoice_due_days``, and the period *invoiced*.

The subscription is active at once and the period's credits are granted: the clinic chose to
let the member start before paying. When the invoice is paid (``settle_period_paid`` links the
payment to it), the period becomes paid.
"""

from __future__ import annotations

from datetime import timedelta

from ..actors import Actor
from ..clinic_time import format_clinic
from ..clock import utcnow
from ..documents import issue_document, queue_if_auto_send
from ..extensions import db
from ..models import (
    BillingPeriod,
    CashierSettings,
    Document,
    DocumentLine,
    DocumentType,
    PeriodStatus,
    Subscription,
    SubscriptionStatus,
)
from .period_grants import grant_period_credits
from .subscribing import SubscriptionQuote


def invoice_first_period(subscription: Subscription, period: BillingPeriod,
                         quote: SubscriptionQuote, *, actor: Actor) -> Document:
    """Issue the open invoice (queued as Cashier settings say), mark the period invoiced,
    make the subscription active and grant the period's credits."""
    due = utcnow() + timedelta(days=CashierSettings.get().invoice_due_days)
    invoice = Document(doc_type=DocumentType.INVOICE, contact_id=subscription.contact_id,
                       currency=quote.currency,
                       notes=f"Due by {format_clinic(due, '%d %b %Y')}.")
    for text, amount in quote.lines():
        invoice.lines.append(DocumentLine(description=text[:200], quantity=1,
                                          unit_amount_minor=amount))
    db.session.add(invoice)
    issue_document(invoice)
    queue_if_auto_send(invoice)
    period.status, period.document_id = PeriodStatus.INVOICED, invoice.id
    subscription.status = SubscriptionStatus.ACTIVE
    grant_period_credits(period, actor=actor)
    db.session.flush()
    return invoice
