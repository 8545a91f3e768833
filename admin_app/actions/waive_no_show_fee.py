"""Waive the no-show fee of a missed appointment (workflow 12, "Waive" instead of charging)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.appointment_credits import use_appointment_credit
from ..billing.locks import lock
from ..billing.no_show_rules import check_can_be_missed, check_fee_still_open, describe
from ..errors import ActionError
from ..models import (
    Appointment,
    AppointmentStatus,
    NoShowFeeStatus,
)
from .runner import STAFF, ActionResult, ActionRun


def waive_no_show_fee(appointment: Appointment, *, reason: str, actor: Actor,
                      idempotency_key: str) -> ActionResult[Appointment]:
    """Confirm ``appointment`` as a no-show without charging a fee, for ``reason``.

    Like charging, waiving is the appointment's one fee decision: a fee already charged is
    refused (refund its payment instead), and a waived fee can no longer be charged. A fee
    whose charge failed may be waived.

    Error codes: ``not_permitted``, ``reason_required``, ``fee_already_charged``,
    ``fee_waived``, ``fee_pending``, ``appointment_cancelled``, ``appointment_attended``,
    ``appointment_in_future``, ``already_done``.
    """
    with ActionRun("waive_no_show_fee", actor=actor, key=idempotency_key, target=appointment,
                   roles=STAFF, doing="waive no-show fees") as run:
        appointment = lock(Appointment, appointment.id)
        check_fee_still_open(appointment)
        check_can_be_missed(appointment)
        reason = (reason or "").strip()
        if not reason:
            raise ActionError("reason_required", "Say why the no-show fee is waived.")
        before = {"status": appointment.status.value,
                  "no_show_fee_status": appointment.no_show_fee_status.value}
        appointment.status = AppointmentStatus.NO_SHOW
        # NOTE: a no-show keeps (or takes) its credit: the slot was kept for the member.
        use_appointment_credit(appointment, actor=actor, flag_missing=False)
        appointment.no_show_fee_status = NoShowFeeStatus.WAIVED
        appointment.no_show_waive_reason = reason[:200]
        message = (f"Waived the no-show fee of {describe(appointment)} for "
                   f"{appointment.contact}: {reason.rstrip('.')}.")
        return run.done(appointment, message,
                        before=before,
                        after={"status": AppointmentStatus.NO_SHOW.value,
                               "no_show_fee_status": NoShowFeeStatus.WAIVED.value,
                               "reason": reason[:200]})
