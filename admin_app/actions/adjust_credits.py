"""Adjust credits: add or remove service credits of a contact by hand (workflows 10 and 11)."""

from __future__ import annotations

from datetime import datetime

from ..actors import Actor
from ..billing.credits import credit_balance
from ..billing.locks import lock
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import (
    Contact,
    CreditEntry,
    CreditReason,
    Service,
)
from .runner import STAFF, ActionResult, ActionRun

MAX_ADJUSTMENT = 1000


def adjust_credits(contact: Contact, *, service: Service, quantity: int, reason: str,
                   actor: Actor, idempotency_key: str,
                   expires_at: datetime | None = None) -> ActionResult[CreditEntry]:
    """Add (``quantity`` > 0) or remove (< 0) credits of ``service`` for ``contact``.

    A ledger entry (manual add / manual remove) with the reason as its note, and an audit
    entry with the balance before and after. The balance never goes below zero.

    Error codes: ``not_permitted``, ``zero_quantity``, ``quantity_too_large``,
    ``reason_required``, ``expiry_in_past``, ``insufficient_credits``, ``already_done``.
    """
    with ActionRun("adjust_credits", actor=actor, key=idempotency_key, target=contact,
                   roles=STAFF, doing="adjust credits") as run:
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
        return run.done(entry, message,
                        before={"service_id": service.id,
                                "balance": before},
                        after={"service_id": service.id,
                               "balance": before + quantity,
                               "credit_entry_id": entry.id})
