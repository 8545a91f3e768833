"""What a payment pays for, and settling it once the payment is paid: a billing period becomes
paid (``period_billing.settle_period_paid``: credits, receipt, the subscription active again),
also when it was invoiced and its invoice is paid (``settle_invoiced_period``), a
past due subscription becomes active again, a failed no-show fee becomes charged, an appointment
that had no credit left is charged; and what a failed one leaves: a period's failed charge makes
it past due (``period_retries``).

Shared by the retry of a failed charge (paid at once) and by the settlement of a charge whose
outcome was unknown (paid when the processor's answer arrives, by reconcile or a webhook).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..actors import SYSTEM
from ..extensions import db
from ..models import (
    Appointment,
    AppointmentCredit,
    BillingPeriod,
    Document,
    NoShowFeeStatus,
    Payment,
    PaymentMethodKind,
    PaymentPurpose,
    PeriodStatus,
    Subscription,
    SubscriptionStatus,
)
from .locks import lock
from .no_show_rules import describe
from .period_billing import settle_period_paid


@dataclass(frozen=True)
class Owed:
    """The records a payment may settle, locked: the subscription it pays a period of, and
    the appointment whose no-show fee it is."""

    subscription: Subscription | None
    appointment: Appointment | None


def no_show_appointment(fee: Payment) -> Appointment | None:
    """The appointment a no-show fee payment was charged for: the one it is linked to, or the
    failed one the no-show action named in its description."""
    linked = db.session.scalar(select(Appointment).where(
        Appointment.no_show_fee_payment_id == fee.id))
    if linked is not None:
        return linked
    # NOTE: a failed fee is not linked to its appointment; the no-show action describes it.
    candidates = db.session.scalars(select(Appointment).where(
        Appointment.contact_id == fee.contact_id,
        Appointment.no_show_fee_status == NoShowFeeStatus.FAILED))
    # The appointment's id, not its time: the time is written in the clinic's zone, which may
    # have been changed since.
    return next((a for a in candidates if (fee.description or "").startswith(
        f"No-show fee: appointment #{a.id} (")), None)


def lock_owed(payment: Payment) -> Owed:
    """Lock what ``payment`` (or the failed payment it retries) pays for."""
    original = payment.retry_of if payment.retry_of_id is not None else payment
    subscription = (lock(Subscription, original.subscription_id)
                    if original.subscription_id is not None else None)
    appointment = (no_show_appointment(original)
                   if original.purpose is PaymentPurpose.NO_SHOW_FEE else None)
    if appointment is not None:
        appointment = lock(Appointment, appointment.id)
    return Owed(subscription, appointment)


def _uncovered_appointment(payment: Payment) -> Appointment | None:
    """The appointment without a credit that ``payment`` is the charge of, locked."""
    linked = db.session.scalar(select(Appointment.id).where(
        Appointment.credit_payment_id == payment.id))
    return lock(Appointment, linked) if linked is not None else None


def paid_period(payment: Payment) -> BillingPeriod | None:
    """The billing period ``payment`` (or the failed payment it retries) was charged for,
    locked with its subscription."""
    original = payment.retry_of if payment.retry_of_id is not None else payment
    period_id = payment.period_id or original.period_id
    if period_id is None:
        return None
    period = db.session.get(BillingPeriod, period_id)
    lock(Subscription, period.subscription_id)
    return lock(BillingPeriod, period_id)


def settle_invoiced_period(invoice: Document, paid: Payment) -> list[str]:
    """The open invoice of a billing period (a renewal of a member paying without a card, or
    the desk's first invoice) is paid by ``paid``: so is its period (its credits granted once,
    the subscription active again); returns what changed, in sentences."""
    period_id = db.session.scalar(select(BillingPeriod.id).where(
        BillingPeriod.document_id == invoice.id, BillingPeriod.status == PeriodStatus.INVOICED))
    if period_id is None:
        return []
    lock(Subscription, db.session.get(BillingPeriod, period_id).subscription_id)
    period = lock(BillingPeriod, period_id)
    if period.status is not PeriodStatus.INVOICED:
        return []
    settle_period_paid(period, paid, actor=SYSTEM)
    return [f"{period} is paid."]


def release_what_it_was_for(failed: Payment) -> list[str]:
    """A first payment that failed removes the incomplete subscription it was to start
    (``subscribing.discard_unpaid``); a period charge that failed makes its period past due,
    with its retries scheduled (``period_retries``); a no-show fee that was not charged after
    all (declined, or never made) leaves its appointment: the fee is failed, to be charged
    again or waived. The charge of an appointment without a credit leaves it flagged, to be
    charged again."""
    period = paid_period(failed)
    if period is not None and period.subscription.status is SubscriptionStatus.INCOMPLETE:
        from .subscribing import discard_unpaid  # NOTE: a first payment: nothing to retry

        subscription = str(period.subscription)
        return ([f"The incomplete subscription {subscription} waiting for it was removed."]
                if discard_unpaid(period.subscription_id) else [])
    if period is not None:
        from .period_retries import record_period_failure

        return record_period_failure(period, failed)
    uncovered = _uncovered_appointment(failed)
    if uncovered is not None and uncovered.credit_status is AppointmentCredit.MISSING:
        uncovered.credit_payment_id = None
        return [f"{describe(uncovered).capitalize()} is still to be charged (no credit left)."]
    if failed.purpose is not PaymentPurpose.NO_SHOW_FEE:
        return []
    appointment = db.session.scalar(select(Appointment).where(
        Appointment.no_show_fee_payment_id == failed.id))
    if appointment is None:
        return []
    appointment = lock(Appointment, appointment.id)
    appointment.no_show_fee_payment_id = None
    appointment.no_show_fee_status = NoShowFeeStatus.FAILED
    return [f"The no-show fee of {describe(appointment)} is failed: charge it again or waive "
            "it."]


def settle_what_it_paid_for(owed: Owed, paid: Payment) -> list[str]:
    """Apply the paid payment ``paid`` to what it was owed for (locked by the caller);
    returns what changed, in sentences (none when nothing was owed any more). A payment from
    account credit settles nothing here: it may be only part of what is owed."""
    if paid.method is PaymentMethodKind.ACCOUNT_CREDIT:
        # NOTE: a part paid from account credit pays only its part: whoever spent it settles
        # what it was part of once that is paid in full (``credit_payments``).
        return []
    effects = []
    subscription, appointment = owed.subscription, owed.appointment
    period = paid_period(paid)
    if period is not None and period.status is not PeriodStatus.PAID:
        was = subscription.status if subscription is not None else None
        settle_period_paid(period, paid, actor=SYSTEM)
        effects.append(f"{period} is paid.")
        if was is not None and was is not subscription.status:
            effects.append(f"Subscription {subscription} is active again.")
        return effects
    if subscription is not None and paid.purpose is PaymentPurpose.SUBSCRIPTION_PERIOD \
            and subscription.status is SubscriptionStatus.PAST_DUE:
        subscription.status = SubscriptionStatus.ACTIVE
        effects.append(f"Subscription {subscription} is active again.")
    if appointment is not None and (
            appointment.no_show_fee_status is NoShowFeeStatus.FAILED
            or (appointment.no_show_fee_payment_id == paid.id
                and appointment.no_show_fee_status is not NoShowFeeStatus.CHARGED)):
        appointment.no_show_fee_status = NoShowFeeStatus.CHARGED
        appointment.no_show_fee_payment_id = paid.id
        effects.append(f"The no-show fee of {describe(appointment)} is now charged.")
    uncovered = _uncovered_appointment(paid)
    if uncovered is not None and uncovered.credit_status is AppointmentCredit.MISSING:
        uncovered.credit_status = AppointmentCredit.CHARGED
        effects.append(f"{describe(uncovered).capitalize()} is now charged (it had no credit).")
    return effects
