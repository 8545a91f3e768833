"""Appointments → ⋯ → Charge the appointment: an appointment that had no credit left."""

from __future__ import annotations

from ..actors import Actor
from ..billing.charging import charge_saved_card, record_offline_payment
from ..billing.locks import lock
from ..billing.no_show_rules import describe
from ..errors import ActionError
from ..models import (
    Appointment,
    AppointmentCredit,
    Payment,
    PaymentMethodKind,
    PaymentPurpose,
)
from ..money import format_money
from .runner import STAFF, ActionResult, ActionRun


def charge_appointment(appointment: Appointment, *, method: PaymentMethodKind, actor: Actor,
                       idempotency_key: str) -> ActionResult[Payment]:
    """Charge the service's price for an appointment flagged "No credit left", to the saved
    card (two phases around the processor, as a custom bill) or as cash / other, with a
    receipt. At most one charge per appointment: its payment is linked to the appointment from
    the moment it is asked of the processor; a declined card leaves the flag, to charge again.

    Error codes: ``not_permitted``, ``nothing_to_charge``, ``charge_pending``,
    ``amount_not_positive``, ``no_payment_method``, ``card_declined``,
    ``authentication_required``, ``gateway_unavailable``, ``payment_pending``,
    ``already_done``.
    """
    with ActionRun("charge_appointment", actor=actor, key=idempotency_key, target=appointment,
                   roles=STAFF, doing="charge appointments") as run:
        appointment = lock(Appointment, appointment.id)
        if appointment.credit_payment_id is not None \
                and appointment.credit_status is AppointmentCredit.MISSING:
            raise ActionError("charge_pending",
                              f"The charge of {describe(appointment)} (payment "
                              f"#{appointment.credit_payment_id}) is waiting for the payment "
                              "processor's answer: check it with the processor first.")
        if appointment.credit_status is not AppointmentCredit.MISSING:
            raise ActionError("nothing_to_charge",
                              f"{describe(appointment).capitalize()} is not flagged “No credit "
                              "left”: there is nothing to charge.")
        service = appointment.service
        if service.price_minor <= 0:
            raise ActionError("amount_not_positive", f"{service} has no price to charge.")
        run.before = {"credit_status": appointment.credit_status.value}
        appointment_id, what = appointment.id, describe(appointment)
        bill = {"amount_minor": service.price_minor, "currency": service.currency,
                "purpose": PaymentPurpose.CUSTOM_BILL, "idempotency_key": idempotency_key,
                "description": f"{service} (no credit left): {what}"}
        method = PaymentMethodKind(method)
        if method is PaymentMethodKind.CARD:
            def link(payment: Payment) -> None:
                appointment.credit_payment_id = payment.id

            # A declined card unlinks the payment when it is settled (``paid_for``).
            charged = charge_saved_card(appointment.contact, attach=link, **bill)
            payment, settlement, how = charged.payment, charged.settlement, f"to {charged.card}"
        else:
            payment, settlement = record_offline_payment(appointment.contact, method=method,
                                                         **bill)
            how = f"paid by {method.label.lower()}"
        appointment = lock(Appointment, appointment_id)
        appointment.credit_payment_id = payment.id
        appointment.credit_status = AppointmentCredit.CHARGED
        message = (f"Charged {format_money(payment.amount_minor, payment.currency)} {how} for "
                   f"{what}. {settlement.document_sentence()}")
        return run.done(payment, message, after={
            "credit_status": AppointmentCredit.CHARGED.value, "payment_id": payment.id})
