"""Appointments use credits: one credit of the appointment's service per appointment.

- **Taken** when the appointment is marked attended, or when it is booked, as Cashier settings
  say (``credit_use``); a no-show takes it too when it was not taken yet (the slot was kept for
  the member; the no-show fee is separate). It comes from the earliest-expiring lot still alive
  (``credit_lots``), and the ledger line (``booking``) names the appointment and that lot.
- **No credit left**: the appointment is flagged (``missing``, "No credit left") and can be
  charged (``charge_appointment``); nothing is written to the ledger.
- **Given back** when the appointment is cancelled in time (at least
  ``CashierSettings.cancel_notice_hours`` before it starts, 24 by default): a ``booking_return``
  line into the lot it came from. A credit whose lot has expired meanwhile is not given back
  (it would have expired unused). A late cancellation keeps it used.

Each appointment takes at most one credit and gives it back at most once: the callers lock the
appointment, then the contact, and these rules read the ledger's lines of the appointment.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ..actors import Actor
from ..clinic_time import format_clinic
from ..clock import utcnow
from ..extensions import db
from ..models import (
    Appointment,
    AppointmentCredit,
    CashierSettings,
    Contact,
    CreditEntry,
    CreditReason,
)
from .credit_lots import usable_lots
from .locks import lock


def credits_held(appointment: Appointment) -> int:
    """Credits the appointment holds now: taken less given back (0 or 1)."""
    return -int(db.session.scalar(
        select(func.coalesce(func.sum(CreditEntry.quantity), 0))
        .where(CreditEntry.appointment_id == appointment.id,
               CreditEntry.reason.in_((CreditReason.BOOKING, CreditReason.BOOKING_RETURN)))))


def use_appointment_credit(appointment: Appointment, *, actor: Actor,
                           flag_missing: bool = True) -> CreditEntry | None:
    """Take one credit for ``appointment`` (locked by the caller), earliest-expiring first.
    Returns the ledger line; ``None`` when it already holds one, or when the member has none
    left (then it is flagged ``missing``, unless ``flag_missing`` is false: a no-show's fee
    stands for it)."""
    if credits_held(appointment) > 0 or appointment.credit_status is AppointmentCredit.CHARGED:
        return None
    lock(Contact, appointment.contact_id)  # serialises every use of the contact's credits
    lots = usable_lots(appointment.contact_id, appointment.service_id)
    if not lots:
        if flag_missing:
            appointment.credit_status = AppointmentCredit.MISSING
        return None
    entry = CreditEntry(contact_id=appointment.contact_id, service_id=appointment.service_id,
                        appointment_id=appointment.id, quantity=-1, reason=CreditReason.BOOKING,
                        expires_at=lots[0].expires_at, created_by_id=actor.id,
                        note=f"Appointment #{appointment.id}")
    db.session.add(entry)
    appointment.credit_status = AppointmentCredit.USED
    db.session.flush()
    return entry


def is_cancelled_in_time(appointment: Appointment) -> bool:
    """At least the Cashier settings' notice (hours) before the appointment starts."""
    notice = timedelta(hours=CashierSettings.get().cancel_notice_hours)
    return utcnow() <= appointment.starts_at - notice


def return_appointment_credit(appointment: Appointment, *, actor: Actor) -> CreditEntry | None:
    """Give back the credit ``appointment`` (locked by the caller) holds, into the lot it came
    from; ``None`` when it holds none or that lot has expired."""
    if credits_held(appointment) <= 0:
        return None
    taken = db.session.scalar(
        select(CreditEntry).where(CreditEntry.appointment_id == appointment.id,
                                  CreditEntry.reason == CreditReason.BOOKING)
        .order_by(CreditEntry.id.desc()).limit(1))
    if taken.expires_at is not None and taken.expires_at <= utcnow():
        return None
    lock(Contact, appointment.contact_id)
    entry = CreditEntry(contact_id=appointment.contact_id, service_id=appointment.service_id,
                        appointment_id=appointment.id, quantity=1,
                        reason=CreditReason.BOOKING_RETURN, expires_at=taken.expires_at,
                        created_by_id=actor.id,
                        note=f"Appointment #{appointment.id} cancelled in time")
    db.session.add(entry)
    appointment.credit_status = AppointmentCredit.RETURNED
    db.session.flush()
    return entry


def credit_sentence(appointment: Appointment, used: CreditEntry | None) -> str:
    """ "Used 1 Physio credit (from those expiring 2027-01-31 00:00)." and the like."""
    if used is not None:
        lot = f" (from those expiring {format_clinic(used.expires_at)})" \
            if used.expires_at is not None else ""
        return f"Used 1 {appointment.service} credit{lot}."
    if appointment.credit_status is AppointmentCredit.MISSING:
        return (f"No {appointment.service} credit left: the appointment is flagged "
                "“No credit left” and can be charged (⋯ → Charge the appointment).")
    return ""
