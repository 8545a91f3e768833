"""The credit ledger's arithmetic: a balance is the sum of its signed entries, never a counter."""

from __future__ import annotations

from .credit_lots import usable_balance


def credit_balance(contact_id: int, service_id: int) -> int:
    """The contact's balance of one service: the credits of its ledger still alive now (a lot
    past its expiry no longer counts, even before the expiry run closes it)."""
    return usable_balance(contact_id, service_id)
