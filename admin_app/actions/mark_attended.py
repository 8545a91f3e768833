"""Appointments → ⋯ → Mark attended."""

from __future__ import annotations

from ..actors import Actor
from ..billing.appointment_credits import credit_sentence, use_appointment_credit
from ..billing.locks import lock
from ..errors import ActionError
from ..models import Appointment, AppointmentStatus
from .runner import STAFF, ActionResult, ActionRun


def mark_attended(appointment: Appointment, *, actor: Actor,
                  idempotency_key: str) -> ActionResult[Appointment]:
    """The member came: the appointment is attended and holds one credit of its service
    (taken now, earliest-expiring first, unless booking took it already). Without a credit left
    it is flagged "No credit left" and can be charged.

    Error codes: ``not_permitted``, ``appointment_cancelled``, ``already_attended``,
    ``appointment_no_show``, ``already_done``.
    """
    with ActionRun("mark_attended", actor=actor, key=idempotency_key, target=appointment,
                   roles=STAFF, doing="mark appointments attended") as run:
        appointment = lock(Appointment, appointment.id)
        refusal = {
            AppointmentStatus.CANCELLED: ("appointment_cancelled", "was cancelled"),
            AppointmentStatus.ATTENDED: ("already_attended", "is already marked attended"),
            AppointmentStatus.NO_SHOW: ("appointment_no_show", "is recorded as a no-show"),
        }.get(appointment.status)
        if refusal is not None:
            raise ActionError(refusal[0], f"Appointment #{appointment.id} {refusal[1]}.")
        run.before = {"status": appointment.status.value,
                      "credit_status": appointment.credit_status.value}
        appointment.status = AppointmentStatus.ATTENDED
        used = use_appointment_credit(appointment, actor=actor)
        message = f"Marked {appointment} of {appointment.contact} attended. " \
                  f"{credit_sentence(appointment, used)}"
        return run.done(appointment, message.strip(), after={
            "status": appointment.status.value, "credit_status": appointment.credit_status.value,
            "credit_entry_id": used.id if used is not None else None})
