"""Credits as lots: which of a contact's credits of a service expire when.

The ledger (``credit_entry``) is the only record; lots are read from it, never stored. A
**lot** is the contact's credits of one service that expire at the same moment
(``expires_at``; ``None``: credits that never expire, e.g. added by hand without a date).

Rules:

- a positive entry (a period grant, a plan change, a rollover, a credit added by hand, a credit
  given back) adds to the lot of its ``expires_at``;
- a use (an appointment, a removal by hand) takes from the **earliest-expiring** lot still
  alive at that moment (a lot is alive until its ``expires_at``), never-expiring credits last;
  a use written by the booking rules names its lot in ``expires_at``; an entry that does not
  (older ledger lines, removals by hand, plan-change removals, refund reversals) is taken, when
  read in the order the ledger was written, from the earliest-expiring lot alive at its time
  (an expiry written so at the moment of expiry takes from the lot ending then);
- an expiry or rollover written at a lot's expiry names its lot.

So the balance a contact may use is the sum of the lots still alive; the ledger's sum equals it
once every lot due has been closed (``credit_expiry``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..clock import utcnow
from ..extensions import db
from ..models import CreditEntry, CreditReason

NEVER = None
NOT_GRANTED = frozenset({CreditReason.ROLLOVER, CreditReason.BOOKING_RETURN})


@dataclass
class Lot:
    """The credits of one service expiring at ``expires_at``: what is left, and how much came
    in granted (a period, a plan change, by hand) as opposed to rolled over (which never rolls
    again) or given back (by a cancelled appointment)."""

    expires_at: datetime | None
    remaining: int = 0
    granted: int = 0

    def is_alive(self, at: datetime) -> bool:
        return self.expires_at is None or self.expires_at > at

    @property
    def rollable(self) -> int:
        """What is left of the granted credits. Rolled-over credits of a lot are used first
        (they expire with it and may not roll again)."""
        return max(min(self.remaining, self.granted), 0)


def _expiry_order(lot: Lot):
    return (lot.expires_at is None, lot.expires_at or datetime.min)


def _take_earliest(lots: dict, quantity: int, at: datetime, *, inclusive: bool) -> None:
    """Take ``quantity`` from the earliest-expiring lots alive at ``at`` (``inclusive``: those
    ending at ``at`` too); what nothing covers is owed by the never-expiring lot."""
    for lot in sorted(lots.values(), key=_expiry_order):
        if quantity == 0:
            return
        alive = lot.expires_at is None or lot.expires_at > at or \
            (inclusive and lot.expires_at == at)
        if alive and lot.remaining > 0:
            taken = min(lot.remaining, quantity)
            lot.remaining -= taken
            quantity -= taken
    if quantity:
        lots.setdefault(NEVER, Lot(NEVER)).remaining -= quantity


def replay_lots(entries) -> dict[datetime | None, Lot]:
    """The lots that ``entries`` (one contact and service, in the order they were written)
    leave.

    NOTE: the order written, not ``created_at``: an expiry or rollover is dated the moment of
    expiry but written when the expiry runs, and must not change which lot a use written
    meanwhile took its credit from."""
    lots: dict[datetime | None, Lot] = {}
    for entry in entries:
        if entry.quantity > 0 or entry.expires_at is not None:
            lot = lots.setdefault(entry.expires_at, Lot(entry.expires_at))
            lot.remaining += entry.quantity
            if entry.quantity > 0 and entry.reason not in NOT_GRANTED:
                lot.granted += entry.quantity
        else:
            # NOTE: an expiry written at the moment of expiry without naming its lot (older
            # ledger lines) is of the lot ending at that very moment.
            _take_earliest(lots, -entry.quantity, entry.created_at,
                           inclusive=entry.reason is CreditReason.EXPIRY)
    return lots


def credit_lots(contact_id: int, service_id: int) -> dict[datetime | None, Lot]:
    """The contact's lots of one service, from its ledger."""
    entries = db.session.scalars(
        select(CreditEntry).where(CreditEntry.contact_id == contact_id,
                                  CreditEntry.service_id == service_id)
        .order_by(CreditEntry.id))
    return replay_lots(entries)


def usable_lots(contact_id: int, service_id: int, *, at: datetime | None = None) -> list[Lot]:
    """The lots alive at ``at`` (now) with credits left, earliest-expiring first."""
    at = at or utcnow()
    return sorted((lot for lot in credit_lots(contact_id, service_id).values()
                   if lot.is_alive(at) and lot.remaining > 0), key=_expiry_order)


def usable_balance(contact_id: int, service_id: int, *, at: datetime | None = None) -> int:
    """What the contact may use of a service now: the credits of the lots still alive (less
    what a use not covered by any lot owes)."""
    at = at or utcnow()
    return sum(lot.remaining for lot in credit_lots(contact_id, service_id).values()
               if lot.is_alive(at))


@dataclass(frozen=True)
class ServiceCredits:
    """One line of the contact card's Credits tab."""

    service: object
    balance: int
    next_expiry_quantity: int
    next_expiry_at: datetime | None


def credit_summary(contact_id: int, *, at: datetime | None = None) -> list[ServiceCredits]:
    """Per service with ledger entries (by name): the balance and the next expiry (how many
    credits, when), from one read of the contact's ledger."""
    from ..models import Service

    at = at or utcnow()
    by_service: dict[int, list] = defaultdict(list)
    for entry in db.session.scalars(
            select(CreditEntry).where(CreditEntry.contact_id == contact_id)
            .order_by(CreditEntry.id)):
        by_service[entry.service_id].append(entry)
    summary = []
    for service_id, entries in by_service.items():
        alive = [lot for lot in replay_lots(entries).values() if lot.is_alive(at)]
        expiring = sorted((lot for lot in alive if lot.expires_at is not None
                           and lot.remaining > 0), key=_expiry_order)
        nxt = expiring[0] if expiring else None
        summary.append(ServiceCredits(db.session.get(Service, service_id),
                                      sum(lot.remaining for lot in alive),
                                      nxt.remaining if nxt else 0,
                                      nxt.expires_at if nxt else None))
    return sorted(summary, key=lambda line: line.service.name)
