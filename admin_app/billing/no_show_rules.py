"""What charging and waiving a no-show fee share: which appointments can be confirmed as
missed, and that an appointment carries at most one fee decision, ever."""

from __future__ import annotations

from ..clock import utcnow
from ..errors import ActionError
from ..models import Appointment, AppointmentStatus, NoShowFeeStatus


def describe(appointment: Appointment) -> str:
    """How messages name an appointment: "appointment #12 (Physio on 2025-03-04 09:00 UTC)"."""
    return f"appointment #{appointment.id} ({appointment})"


def check_fee_still_open(appointment: Appointment) -> None:
    """Refuse an appointment whose fee was already charged (``fee_already_charged``), waived
    (``fee_waived``), or is being charged (``fee_pending``). A failed charge leaves the fee
    open: it may be retried or waived."""
    if appointment.no_show_fee_status is not NoShowFeeStatus.CHARGED \
            and appointment.no_show_fee_payment_id is not None:
        # NOTE: a fee's payment is linked to its appointment from the moment it is asked of the
        # processor; until the answer is known the fee is neither open nor charged.
        raise ActionError("fee_pending",
                          f"The no-show fee of {describe(appointment)} is waiting for the "
                          "payment processor's answer (payment "
                          f"#{appointment.no_show_fee_payment_id}): check it with the processor "
                          "(Cashier → Transactions, its ⋯ menu) before charging or waiving.")
    if appointment.no_show_fee_status is NoShowFeeStatus.CHARGED:
        raise ActionError("fee_already_charged",
                          f"The no-show fee of {describe(appointment)} was already charged: an "
                          "appointment carries at most one fee. Refund that payment instead.")
    if appointment.no_show_fee_status is NoShowFeeStatus.WAIVED:
        reason = appointment.no_show_waive_reason or "no reason given"
        raise ActionError("fee_waived",
                          f"The no-show fee of {describe(appointment)} was waived ({reason}).")


def check_can_be_missed(appointment: Appointment) -> None:
    """Refuse to confirm a no-show for an appointment that has not started yet
    (``appointment_in_future``), was cancelled (``appointment_cancelled``) or attended
    (``appointment_attended``)."""
    what = "A" + describe(appointment)[1:]
    if appointment.status is AppointmentStatus.CANCELLED:
        raise ActionError("appointment_cancelled",
                          f"{what} was cancelled: a cancelled appointment is not a "
                          "no-show.")
    if appointment.status is AppointmentStatus.ATTENDED:
        raise ActionError("appointment_attended",
                          f"{what} is marked attended. If the member did not come, "
                          "correct the appointment's status first.")
    if appointment.starts_at > utcnow():
        raise ActionError("appointment_in_future",
                          f"{what} has not started yet: a no-show can only be "
                          "confirmed once its time has come.")


def fee_decision_refusal(appointment: Appointment) -> ActionError | None:
    """Why no fee decision (charge or waive) can be taken for ``appointment`` now, or ``None``:
    ``check_fee_still_open``, then ``check_can_be_missed``."""
    try:
        check_fee_still_open(appointment)
        check_can_be_missed(appointment)
    except ActionError as refusal:
        return refusal
    return None
