"""Adjust credits: add or remove service credits of a contact by hand (workflows 10 and 11)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ..clock import utcnow
from ..extensions import db
from ..models import (
    AdminUser,
    Contact,
    CreditEntry,
    CreditReason,
    Service,
    record_audit,
)
from .base import STAFF, ActionError, claim, finish, lock, require_role, unit_of_work

MAX_ADJUSTMENT = 1000


def credit_balance(contact_id: int, service_id: int) -> int:
    """The contact's balance of one service: the sum of its ledger."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(CreditEntry.quantity), 0))
        .where(CreditEntry.contact_id == contact_id, CreditEntry.service_id == service_id)
    ))


def adjust_credits(contact: Contact, *, service: Service, quantity: int, reason: str,
                   actor: AdminUser, idempotency_key: str,
                   expires_at: datetime | None = None) -> CreditEntry:
    """Add (``quantity`` > 0) or remove (< 0) credits of ``service`` for ``contact``.

    A ledger entry (manual add / manual remove) with the reason as its note, and an audit
    entry with the balance before and after. The balance never goes below zero.

    Error codes: ``not_permitted``, ``zero_quantity``, ``quantity_too_large``,
    ``reason_required``, ``expiry_in_past``, ``insufficient_credits``, ``already_done``.
    """
    with unit_of_work():
        require_role(actor, STAFF, doing="adjust credits")
        request = claim("adjust_credits", idempotency_key, actor=actor, target=contact)
        contact = lock(Contact, contact.id)  # serialises adjustments of this contact
        if quantity == 0:
            raise ActionError("zero_quantity", "Enter how many credits to add or remove.")
        if abs(quantity) > MAX_ADJUSTMENT:
            raise ActionError("quantity_too_large",
                              f"Adjust at most {MAX_ADJUSTMENT} credits at a time.")
        if not (reason or "").strip():
            raise ActionError("reason_required", "Say why the credits change.")
        if expires_at is not None and expires_at <= utcnow():
            raise ActionError("expiry_in_past", "The expiry date must be in the future.")
        before = credit_balance(contact.id, service.id)
        if before + quantity < 0:
            raise ActionError(
                "insufficient_credits",
                f"{contact} has {before} {service} credit(s): cannot remove {-quantity}.")
        entry = CreditEntry(
            contact_id=contact.id, service_id=service.id, quantity=quantity,
            reason=CreditReason.MANUAL_ADD if quantity > 0 else CreditReason.MANUAL_REMOVE,
            note=reason.strip()[:200], expires_at=expires_at if quantity > 0 else None,
            created_by_id=actor.id)
        db.session.add(entry)
        db.session.flush()
        verb = "Added" if quantity > 0 else "Removed"
        message = f"{verb} {abs(quantity)} {service} credit(s) for {contact}: balance " \
                  f"{before} → {before + quantity}."
        record_audit(actor=actor, action="adjust_credits", target=contact, summary=message,
                     before={"service_id": service.id, "balance": before},
                     after={"service_id": service.id, "balance": before + quantity,
                            "credit_entry_id": entry.id})
        finish(request, message=message, result=entry)
    return entry
