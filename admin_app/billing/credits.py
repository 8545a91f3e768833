"""The credit ledger's arithmetic: a balance is the sum of its signed entries, never a counter."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import CreditEntry


def credit_balance(contact_id: int, service_id: int) -> int:
    """The contact's balance of one service: the sum of its ledger."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(CreditEntry.quantity), 0))
        .where(CreditEntry.contact_id == contact_id, CreditEntry.service_id == service_id)
    ))


