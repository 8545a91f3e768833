"""Waive the no-show fee of a missed appointment (workflow 12, "Waive" instead of charging)."""

from __future__ import annotations

from ..models import (
    AdminUser,
    Appointment,
    AppointmentStatus,
    NoShowFeeStatus,
    record_audit,
)
from .base import STAFF, ActionError, claim, finish, lock, require_role, unit_of_work
from .no_show_rules import check_can_be_missed, check_fee_still_open, describe


def waive_no_show_fee(appointment: Appointment, *, reason: str, actor: AdminUser,
                      idempotency_key: str) -> Appointment:
    """Confirm ``appointment`` as a no-show without charging a fee, for ``reason``.

    Like charging, waiving is the appointment's one fee decision: a fee already charged is
    refused (refund its payment instead), and a waived fee can no longer be charged. A fee
    whose charge failed may be waived.

    Error codes: ``not_permitted``, ``reason_required``, ``fee_already_charged``,
    ``fee_waived``, ``appointment_cancelled``, ``appointment_attended``,
    ``appointment_in_future``, ``already_done``.
    """
    with unit_of_work():
        require_role(actor, STAFF, doing="waive no-show fees")
        request = claim("waive_no_show_fee", idempotency_key, actor=actor, target=appointment)
        appointment = lock(Appointment, appointment.id)
        check_fee_still_open(appointment)
        check_can_be_missed(appointment)
        reason = (reason or "").strip()
        if not reason:
            raise ActionError("reason_required", "Say why the no-show fee is waived.")
        before = {"status": appointment.status.value,
                  "no_show_fee_status": appointment.no_show_fee_status.value}
        appointment.status = AppointmentStatus.NO_SHOW
        appointment.no_show_fee_status = NoShowFeeStatus.WAIVED
        appointment.no_show_waive_reason = reason[:200]
        message = (f"Waived the no-show fee of {describe(appointment)} for "
                   f"{appointment.contact}: {reason.rstrip('.')}.")
        record_audit(actor=actor, action="waive_no_show_fee", target=appointment,
                     summary=message[:300], before=before,
                     after={"status": AppointmentStatus.NO_SHOW.value,
                            "no_show_fee_status": NoShowFeeStatus.WAIVED.value,
                            "reason": reason[:200]})
        finish(request, message=message, result=appointment)
    return appointment
