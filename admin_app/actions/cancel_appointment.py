"""Appointments → ⋯ → Cancel appointment."""

from __future__ import annotations

from ..actors import Actor
from ..billing.appointment_credits import (
    credits_held,
    is_cancelled_in_time,
    return_appointment_credit,
)
from ..billing.locks import lock
from ..errors import ActionError
from ..models import Appointment, AppointmentCredit, AppointmentStatus, CashierSettings
from .runner import STAFF, ActionResult, ActionRun


def cancel_appointment(appointment: Appointment, *, actor: Actor,
                       idempotency_key: str) -> ActionResult[Appointment]:
    """Cancel a booked appointment. Cancelled in time (at least Cashier settings' notice, 24
    hours by default, before it starts) its credit is given back into the lot it came from
    (unless that lot has expired meanwhile); later, the credit stays used. A flag "No credit
    left" is lifted: there is nothing to charge for a cancelled appointment.

    Error codes: ``not_permitted``, ``appointment_not_booked``, ``already_done``.
    """
    with ActionRun("cancel_appointment", actor=actor, key=idempotency_key, target=appointment,
                   roles=STAFF, doing="cancel appointments") as run:
        appointment = lock(Appointment, appointment.id)
        if appointment.status is not AppointmentStatus.BOOKED:
            raise ActionError("appointment_not_booked",
                              f"Appointment #{appointment.id} is {appointment.status.label.lower()}"
                              ": only a booked appointment can be cancelled.")
        run.before = {"status": appointment.status.value,
                      "credit_status": appointment.credit_status.value}
        appointment.status = AppointmentStatus.CANCELLED
        in_time = is_cancelled_in_time(appointment)
        held = credits_held(appointment) > 0
        returned = return_appointment_credit(appointment, actor=actor) if in_time else None
        if appointment.credit_status is AppointmentCredit.MISSING:
            appointment.credit_status = AppointmentCredit.NONE
        if returned is not None:
            said = f"Its {appointment.service} credit was given back."
        elif held and in_time:
            said = "Its credit had expired meanwhile: nothing to give back."
        elif held:
            hours = CashierSettings.get().cancel_notice_hours
            said = (f"Cancelled less than {hours} hours before it starts: its credit stays "
                    "used.")
        else:
            said = ""
        message = f"Cancelled {appointment} of {appointment.contact}. {said}"
        return run.done(appointment, message.strip(), after={
            "status": appointment.status.value, "credit_status": appointment.credit_status.value,
            "in_time": in_time, "credit_entry_id": returned.id if returned is not None else None})
