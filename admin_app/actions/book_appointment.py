"""Book an appointment (Appointments → Create)."""

from __future__ import annotations

from datetime import datetime

from ..actors import Actor
from ..billing.appointment_credits import credit_sentence, use_appointment_credit
from ..billing.locks import lock
from ..errors import ActionError
from ..extensions import db
from ..models import Appointment, AppointmentStatus, CashierSettings, Contact, CreditUse, Service
from .runner import STAFF, ActionResult, ActionRun


def book_appointment(contact: Contact, *, service: Service, starts_at: datetime,
                     notes: str | None, actor: Actor,
                     idempotency_key: str) -> ActionResult[Appointment]:
    """Book ``contact`` for ``service`` at ``starts_at``. When Cashier settings take credits
    at booking (``credit_use`` booked), one credit of the service is taken now, earliest-
    expiring first; without one left the appointment is booked all the same and flagged
    "No credit left" (it can be charged).

    Error codes: ``not_permitted``, ``contact_required``, ``service_required``,
    ``time_required``, ``already_done``.
    """
    with ActionRun("book_appointment", actor=actor, key=idempotency_key, target=contact,
                   roles=STAFF, doing="book appointments") as run:
        if contact is None:
            raise ActionError("contact_required", "Choose the contact to book.")
        if service is None:
            raise ActionError("service_required", "Choose the service booked.")
        if starts_at is None:
            raise ActionError("time_required", "Enter when the appointment starts.")
        contact = lock(Contact, contact.id)
        appointment = Appointment(contact_id=contact.id, service_id=service.id,
                                  starts_at=starts_at, status=AppointmentStatus.BOOKED,
                                  notes=(notes or "").strip()[:500] or None)
        db.session.add(appointment)
        db.session.flush()
        run.audit_target = appointment
        used = None
        if CashierSettings.get().credit_use is CreditUse.BOOKED:
            used = use_appointment_credit(appointment, actor=actor)
        message = f"Booked {contact} for {appointment}. {credit_sentence(appointment, used)}"
        return run.done(appointment, message.strip(), after={
            "appointment_id": appointment.id, "credit_status": appointment.credit_status.value,
            "credit_entry_id": used.id if used is not None else None})
