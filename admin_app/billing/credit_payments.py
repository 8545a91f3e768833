"""Paying from account credit: the part of what a contact owes that their account credit pays,
the one rule shared by custom bills, invoices and the renewal engine.

**Account credit pays first.** What the contact holds in the currency of what is owed pays it
first, at most what is owed, never taking the balance below zero (the contact's row locked);
only the rest goes to the card (or the desk, or an open invoice). The part it pays is a payment
of its own, method "account credit", succeeded at once, with its own receipt
"<what> (paid from account credit)"; the ledger line (``applied``) is linked to it.

What it is part of remembers it through the payment: a billing period by the payment's
``period_id`` (``credit_paid_on_period``), an invoice by the receipt naming it
(``credit_paid_on_invoice``), so a second attempt charges only what is still owed and never
spends the credit twice. The credit payment settles nothing by itself (``paid_for``): whoever
spent it settles the whole when it is paid in full.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from ..actors import Actor
from ..extensions import db
from ..models import (
    BillingPeriod,
    Contact,
    Document,
    DocumentType,
    Payment,
    PaymentMethodKind,
    PaymentPurpose,
)
from ..money import format_money
from .account_credit import account_credit_balance, spend_account_credit
from .charging import record_offline_payment
from .locks import lock
from .settling import Settlement

CREDIT_SUFFIX = " (paid from account credit)"


@dataclass(frozen=True)
class CreditPaid:
    """The part paid from account credit: its payment and what settling it did (its receipt)."""

    payment: Payment
    settlement: Settlement

    @property
    def amount_minor(self) -> int:
        return self.payment.amount_minor

    def sentence(self) -> str:
        return (f"Paid {format_money(self.payment.amount_minor, self.payment.currency)} from "
                f"account credit: {self.settlement.document_sentence()}")


def pay_from_account_credit(contact_id: int, *, owed_minor: int, currency: str,
                            purpose: PaymentPurpose, description: str, note: str, actor: Actor,
                            attach: Callable[[Payment], None] | None = None,
                            attach_if_whole: Callable[[Payment], None] | None = None,
                            part_of: Document | None = None) -> CreditPaid | None:
    """Pay up to ``owed_minor`` of ``currency`` from the contact's account credit (see the
    module); ``None`` when they hold none in it. ``attach`` links the payment to what it pays
    (a billing period), ``attach_if_whole`` only when it pays all of it (an invoice, then paid
    by it); ``part_of``: the invoice its receipt names when it pays only part of it."""
    if owed_minor <= 0:
        return None
    lock(Contact, contact_id)
    usable = min(account_credit_balance(contact_id, currency), owed_minor)
    if usable <= 0:
        return None
    whole = usable == owed_minor

    def link(payment: Payment) -> None:
        if attach is not None:
            attach(payment)
        if whole and attach_if_whole is not None:
            attach_if_whole(payment)

    payment, settlement = record_offline_payment(
        db.session.get(Contact, contact_id), amount_minor=usable, currency=currency,
        purpose=purpose, description=f"{description}{CREDIT_SUFFIX}",
        method=PaymentMethodKind.ACCOUNT_CREDIT, attach=link,
        part_of=None if whole else part_of)
    # NOTE: the contact is locked since the balance was read: it spends all of ``usable``.
    spend_account_credit(contact_id, currency, usable, note=note, actor=actor,
                         payment_id=payment.id)
    return CreditPaid(payment, settlement)


def credit_paid_on_period(period_id: int) -> int:
    """What account credit already paid of the billing period (its credit payments, less
    what was given back of them)."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(Payment.amount_minor - Payment.amount_refunded_minor), 0))
        .where(
            Payment.period_id == period_id,
            Payment.method == PaymentMethodKind.ACCOUNT_CREDIT)))


def credit_paid_on_periods(period_ids: list[int]) -> dict[int, int]:
    """{period id: what account credit paid of it} for those it paid part of (one query: the
    contact card's billing periods)."""
    if not period_ids:
        return {}
    return {period_id: int(paid) for period_id, paid in db.session.execute(
        select(Payment.period_id, func.sum(Payment.amount_minor - Payment.amount_refunded_minor))
        .where(Payment.period_id.in_(period_ids),
               Payment.method == PaymentMethodKind.ACCOUNT_CREDIT)
        .group_by(Payment.period_id)) if paid}


def period_still_owed(period: BillingPeriod) -> int:
    """What the period still owes: its price less what account credit paid of it."""
    return period.amount_minor - credit_paid_on_period(period.id)


def credit_payments_of_period(period_id: int) -> list[Payment]:
    """The period's parts paid from account credit, oldest first."""
    return list(db.session.scalars(select(Payment).where(
        Payment.period_id == period_id, Payment.method == PaymentMethodKind.ACCOUNT_CREDIT)
        .order_by(Payment.id)))


def credit_paid_on_invoice(invoice: Document) -> int:
    """What account credit already paid of the invoice: its credit payments, whose receipts
    name it, less what was given back of them."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(Payment.amount_minor - Payment.amount_refunded_minor), 0))
        .select_from(Document).join(Payment, Document.payment_id == Payment.id)
        .where(Document.doc_type == DocumentType.RECEIPT,
               Document.related_document_id == invoice.id,
               Payment.method == PaymentMethodKind.ACCOUNT_CREDIT)))


def invoice_split(invoice: Document) -> tuple[int, int]:
    """(paid from account credit now, left to charge or take) if the invoice were paid now:
    what the contact's account credit would pay first of what it still owes, and the rest."""
    owed = invoice.total_minor - credit_paid_on_invoice(invoice)
    from_credit = max(min(account_credit_balance(invoice.contact_id, invoice.currency), owed), 0)
    return from_credit, owed - from_credit
