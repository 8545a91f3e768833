"""Charge a no-show fee for a missed appointment (workflow 12)."""

from __future__ import annotations

from ..actors import Actor
from ..billing.appointment_credits import use_appointment_credit
from ..billing.charging import ChargeNotMade, charge_saved_card, default_card
from ..billing.locks import lock
from ..billing.no_show_rules import check_can_be_missed, check_fee_still_open, describe
from ..errors import ActionError
from ..models import (
    Appointment,
    AppointmentStatus,
    CashierSettings,
    NoShowFeeStatus,
    Payment,
    PaymentPurpose,
)
from ..money import format_money
from .runner import STAFF, ActionResult, ActionRun


def charge_no_show_fee(appointment: Appointment, *, amount_minor: int, actor: Actor,
                       idempotency_key: str) -> ActionResult[Payment]:
    """Confirm ``appointment`` as a no-show and charge its fee to the contact's saved card,
    in the currency of Cashier settings (whose default fee the form proposes, e.g. $75.00).

    An appointment carries at most one fee, ever: once charged (or waived) it is refused, and
    the fee's payment is linked to the appointment from the moment it is asked of the
    processor, so two admins charging at once charge once (``fee_pending`` while it is asked).
    A declined card (or one needing authentication) still confirms the no-show, records the
    attempt (failed) and marks the fee failed: it can be charged again later or waived. A
    processor that does not answer keeps the payment pending until reconciled. A receipt is
    issued for a charged fee (queued when Cashier settings say so).

    Error codes: ``not_permitted``, ``fee_already_charged``, ``fee_waived``, ``fee_pending``,
    ``appointment_cancelled``, ``appointment_attended``, ``appointment_in_future``,
    ``amount_not_positive``, ``no_payment_method``, ``card_declined``,
    ``authentication_required``, ``gateway_unavailable``, ``payment_pending``, ``already_done``.
    """
    with ActionRun("charge_no_show_fee", actor=actor, key=idempotency_key, target=appointment,
                   roles=STAFF, doing="charge no-show fees") as run:
        appointment = lock(Appointment, appointment.id)  # one fee per appointment, ever
        check_fee_still_open(appointment)
        check_can_be_missed(appointment)
        if amount_minor <= 0:
            raise ActionError("amount_not_positive", "Enter a fee greater than zero.")
        run.before = {"status": appointment.status.value,
                      "no_show_fee_status": appointment.no_show_fee_status.value}
        currency = CashierSettings.get().currency
        contact, appointment_id = appointment.contact, appointment.id
        if default_card(contact) is None:
            raise ActionError("no_payment_method",
                              f"{contact} has no saved card: add one under Payment methods "
                              "(or waive the fee).")
        appointment.status = AppointmentStatus.NO_SHOW
        missed = describe(appointment)
        # NOTE: a no-show keeps (or takes) its credit: the slot was kept for the member.
        use_appointment_credit(appointment, actor=actor, flag_missing=False)

        def link_fee(payment: Payment) -> None:
            appointment.no_show_fee_payment_id = payment.id

        try:
            charged = charge_saved_card(contact, amount_minor=amount_minor, currency=currency,
                                        purpose=PaymentPurpose.NO_SHOW_FEE,
                                        description=f"No-show fee: {missed}",
                                        idempotency_key=idempotency_key, attach=link_fee)
        except ChargeNotMade as refused:
            appointment = lock(Appointment, appointment_id)
            refused.after = {"status": appointment.status.value,
                             "no_show_fee_status": appointment.no_show_fee_status.value,
                             **refused.after}
            raise
        appointment = lock(Appointment, appointment_id)
        appointment.no_show_fee_status = NoShowFeeStatus.CHARGED
        appointment.no_show_fee_payment_id = charged.payment.id
        message = (f"Charged the no-show fee of {format_money(amount_minor, currency)} to "
                   f"{charged.card} of {contact} for {missed}. "
                   f"{charged.settlement.document_sentence()}")
        return run.done(charged.payment, message, after={
            "status": AppointmentStatus.NO_SHOW.value,
            "no_show_fee_status": NoShowFeeStatus.CHARGED.value,
            "payment_id": charged.payment.id, "amount_minor": amount_minor,
            "currency": currency, "receipt_id": charged.settlement.document.id
            if charged.settlement.document else None})
