"""Charge a no-show fee for a missed appointment (workflow 12)."""

from __future__ import annotations

from ..documents import queue_if_auto_send, receipt_for_payment
from ..models import (
    AdminUser,
    Appointment,
    AppointmentStatus,
    CashierSettings,
    NoShowFeeStatus,
    Payment,
    PaymentPurpose,
    record_audit,
)
from ..money import format_money
from .base import STAFF, ActionError, claim, finish, lock, require_role, unit_of_work
from .charging import charge_saved_card, default_card
from .no_show_rules import check_can_be_missed, check_fee_still_open, describe


def charge_no_show_fee(appointment: Appointment, *, amount_minor: int, actor: AdminUser,
                       idempotency_key: str) -> Payment:
    """Confirm ``appointment`` as a no-show and charge its fee to the contact's saved card,
    in the currency of Cashier settings (whose default fee the form proposes, e.g. $75.00).

    An appointment carries at most one fee, ever: once charged (or waived) it is refused, and
    the appointment row lock makes two admins charging at once charge once. A declined card (or one
    needing authentication, or a processor that does not answer) still confirms the no-show,
    records the attempt (failed; pending when the processor did not answer, until reconciled)
    and marks the fee failed: it can be charged again later or waived. A receipt is issued for a
    charged fee (queued when Cashier settings say so).

    Error codes: ``not_permitted``, ``fee_already_charged``, ``fee_waived``,
    ``appointment_cancelled``, ``appointment_attended``, ``appointment_in_future``,
    ``amount_not_positive``, ``no_payment_method``, ``card_declined``,
    ``authentication_required``, ``gateway_unavailable``, ``payment_pending``, ``already_done``.
    """
    with unit_of_work():
        require_role(actor, STAFF, doing="charge no-show fees")
        request = claim("charge_no_show_fee", idempotency_key, actor=actor, target=appointment)
        appointment = lock(Appointment, appointment.id)  # one fee per appointment, ever
        check_fee_still_open(appointment)
        check_can_be_missed(appointment)
        if amount_minor <= 0:
            raise ActionError("amount_not_positive", "Enter a fee greater than zero.")
        before = {"status": appointment.status.value,
                  "no_show_fee_status": appointment.no_show_fee_status.value}
        currency = CashierSettings.get().currency
        fee = format_money(amount_minor, currency)
        contact = appointment.contact
        card = default_card(contact)
        if card is None:
            raise ActionError("no_payment_method",
                              f"{contact} has no saved card: add one under Payment methods "
                              "(or waive the fee).")
        appointment.status = AppointmentStatus.NO_SHOW
        try:
            payment = charge_saved_card(contact, amount_minor=amount_minor, currency=currency,
                                        purpose=PaymentPurpose.NO_SHOW_FEE,
                                        description=f"No-show fee: {describe(appointment)}")
        except ActionError as refused:
            if refused.keep_changes:  # no-show confirmed, failed attempt kept: retry later
                appointment.no_show_fee_status = NoShowFeeStatus.FAILED
                record_audit(actor=actor, action="charge_no_show_fee", target=appointment,
                             summary=f"No-show fee of {fee} failed: {refused.message}"[:300],
                             before=before, after={"status": AppointmentStatus.NO_SHOW.value,
                                                   "no_show_fee_status": "failed"})
                finish(request, message=refused.message, error_code=refused.code)
            raise
        payment.idempotency_key = idempotency_key
        appointment.no_show_fee_status = NoShowFeeStatus.CHARGED
        appointment.no_show_fee_payment_id = payment.id
        receipt = receipt_for_payment(payment, description=f"No-show fee: {appointment}")
        queued = queue_if_auto_send(receipt)
        message = (f"Charged the no-show fee of {fee} to {card.display_name} of {contact} for "
                   f"{describe(appointment)}. {receipt} issued"
                   + (f" and queued to send by {queued.channel.label}." if queued else "."))
        record_audit(actor=actor, action="charge_no_show_fee", target=appointment,
                     summary=message[:300], before=before,
                     after={"status": AppointmentStatus.NO_SHOW.value,
                            "no_show_fee_status": NoShowFeeStatus.CHARGED.value,
                            "payment_id": payment.id, "amount_minor": amount_minor,
                            "currency": currency, "receipt_id": receipt.id})
        finish(request, message=message, result=payment)
    return payment
