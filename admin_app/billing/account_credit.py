"""Account credit: money a contact holds with the clinic, per currency, as a signed ledger
(``account_credit_entry``). The balance is the sum and never goes below zero: everything that
takes from it locks the contact's row first and takes at most the balance.

It comes in from a downgrade or cancellation "kept as account credit" and from adjustments by
hand; it goes out when it pays (a custom bill uses it first; the renewals and invoices too),
when it is refunded to the card (``refund_account_credit``), and by adjustments by hand.
"""

from __future__ import annotations

from sqlalchemy import func, select

from ..actors import SYSTEM, Actor
from ..extensions import db
from ..models import (
    AccountCreditEntry,
    AccountCreditReason,
    Contact,
    Refund,
)
from ..money import format_money
from .locks import lock


def account_credit_balance(contact_id: int, currency: str) -> int:
    """The contact's account credit in ``currency`` (minor units)."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(AccountCreditEntry.amount_minor), 0))
        .where(AccountCreditEntry.contact_id == contact_id,
               AccountCreditEntry.currency == currency)))


def account_credit_balances(contact_id: int) -> list[tuple[str, int]]:
    """[(currency, balance)] of every currency the contact ever held, by currency."""
    return [(currency, int(total)) for currency, total in db.session.execute(
        select(AccountCreditEntry.currency, func.sum(AccountCreditEntry.amount_minor))
        .where(AccountCreditEntry.contact_id == contact_id)
        .group_by(AccountCreditEntry.currency).order_by(AccountCreditEntry.currency))]


def add_account_credit_entry(contact_id: int, *, amount_minor: int, currency: str,
                             reason: AccountCreditReason, note: str, actor: Actor,
                             **links) -> AccountCreditEntry:
    """One line of the ledger (the caller locked the contact when it takes money out)."""
    entry = AccountCreditEntry(contact_id=contact_id, amount_minor=amount_minor,
                               currency=currency, reason=reason, note=note[:200],
                               actor_id=actor.id, **links)
    db.session.add(entry)
    db.session.flush()
    return entry


def spend_account_credit(contact_id: int, currency: str, up_to_minor: int, *, note: str,
                         actor: Actor, payment_id: int | None = None) -> int:
    """Pay up to ``up_to_minor`` of ``currency`` from the contact's account credit (the contact
    row locked, so two spends at once never take it below zero); returns what it used (0 when
    there is none). The ledger line (``applied``) says what it paid (``note``)."""
    if up_to_minor <= 0:
        return 0
    lock(Contact, contact_id)
    used = min(account_credit_balance(contact_id, currency), up_to_minor)
    if used <= 0:
        return 0
    add_account_credit_entry(contact_id, amount_minor=-used, currency=currency,
                             reason=AccountCreditReason.APPLIED, note=note, actor=actor,
                             payment_id=payment_id)
    return used


def give_back_account_credit(refund: Refund) -> list[str]:
    """A refund of account credit to the card that failed (declined, or never made) gives the
    account credit back, once; returns what it did, in sentences."""
    entries = db.session.scalars(select(AccountCreditEntry).where(
        AccountCreditEntry.refund_id == refund.id)).all()
    taken = -sum(e.amount_minor for e in entries if e.reason is AccountCreditReason.REFUNDED)
    given = sum(e.amount_minor for e in entries if e.reason is AccountCreditReason.REFUND_FAILED)
    if taken - given <= 0:
        return []
    contact_id = entries[0].contact_id
    lock(Contact, contact_id)
    add_account_credit_entry(contact_id, amount_minor=taken - given, currency=refund.currency,
                             reason=AccountCreditReason.REFUND_FAILED,
                             note=f"Refund #{refund.id} to the card failed", actor=SYSTEM,
                             refund_id=refund.id, payment_id=refund.payment_id)
    return [f"{format_money(taken - given, refund.currency)} is account credit again."]

