"""When a failed card charge may be charged again on the contact's current default card
(after the member saved a new card, typically through their payment-method link).

- Only a failed card payment is retried. The retry is a new payment (same amount, currency,
  purpose, subscription and description) pointing at the failed one (``retry_of``); retrying
  a failed retry retries the original, so every attempt hangs off one payment.
- A failed payment is retried successfully at most once: its row is locked and a paid retry
  refuses any further one (``already_paid``), also when two admins retry at once; so does a
  retry still pending at the processor (``retry_pending``: its outcome is not known yet).
- What the payment was for must still be owed: a no-show fee whose appointment's fee is still
  failed (not charged or waived since), a renewal whose billing period is past due or unpaid,
  and another subscription payment of a subscription that is past due, for its current
  period (a failed upgrade charge of an active subscription paid for a change that was never
  applied: it is not retried).
- Paid: a receipt is issued (and queued when Cashier settings say so), a past due subscription
  becomes active, a failed no-show fee becomes charged. Declined again: the failed attempt is
  kept, with the processor's reason (a card needing authentication also sends the member
  their payment-method link, as every charge does).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..errors import ActionError
from ..extensions import db
from ..models import (
    BillingPeriod,
    Contact,
    NoShowFeeStatus,
    Payment,
    PaymentMethodKind,
    PaymentPurpose,
    PaymentStatus,
    PeriodStatus,
    SubscriptionStatus,
)
from .no_show_rules import describe
from .paid_for import no_show_appointment

PAID_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED,
                 PaymentStatus.REFUNDED)
# A renewal is charged as its period turns: a failed one made just before the period began
# still pays for it (as in period_money).
PERIOD_GRACE = timedelta(days=1)


def original_of(payment: Payment) -> Payment:
    """The payment a retry retries (the payment itself when it is not a retry)."""
    return payment.retry_of if payment.retry_of_id is not None else payment


def is_retry_candidate(payment: Payment) -> bool:
    """Cheap test for menus: a failed card payment. The action checks the rest."""
    return payment.status is PaymentStatus.FAILED and payment.method is PaymentMethodKind.CARD


def settling_retry(payment: Payment) -> Payment | None:
    """The retry that paid ``payment`` (an original), or may have (still pending), if any."""
    return db.session.scalar(select(Payment).where(
        Payment.retry_of_id == payment.id,
        Payment.status.in_((*PAID_STATUSES, PaymentStatus.PENDING)))
        .order_by(Payment.id.desc()).limit(1))


def retry_refusal(payment: Payment) -> ActionError | None:
    """Why ``payment`` (an original) cannot be retried now, or ``None``."""
    if payment.status is not PaymentStatus.FAILED:
        return ActionError("not_failed", f"Payment #{payment.id} is "
                                         f"{payment.status.label.lower()}: only a failed payment "
                                         "is retried.")
    if payment.method is not PaymentMethodKind.CARD:
        return ActionError("not_a_card_payment",
                           f"Payment #{payment.id} was not a card payment.")
    paid = settling_retry(payment)
    if paid is not None and paid.status is PaymentStatus.PENDING:
        return ActionError("retry_pending",
                           f"The retry of payment #{payment.id} (payment #{paid.id}) is still "
                           "pending at the payment processor: wait until its outcome is known.")
    if paid is not None:
        return ActionError("already_paid", f"Payment #{payment.id} was already paid by its "
                                           f"retry, payment #{paid.id}: it is not charged twice.")
    if payment.purpose is PaymentPurpose.NO_SHOW_FEE:
        return _no_show_refusal(payment)
    if payment.subscription_id is not None:
        return _subscription_refusal(payment)
    return None


def _no_show_refusal(fee: Payment) -> ActionError | None:
    appointment = no_show_appointment(fee)
    if appointment is None:
        return ActionError("appointment_not_found",
                           f"The appointment of no-show fee #{fee.id} was not found: charge the "
                           "fee from the appointment instead.")
    if appointment.no_show_fee_status is NoShowFeeStatus.CHARGED:
        return ActionError("fee_already_charged",
                           f"The no-show fee of {describe(appointment)} was charged since: it "
                           "is not charged twice.")
    if appointment.no_show_fee_status is NoShowFeeStatus.WAIVED:
        return ActionError("fee_waived", f"The no-show fee of {describe(appointment)} was "
                                         "waived since.")
    return None


def _subscription_refusal(payment: Payment) -> ActionError | None:
    subscription = payment.subscription
    if payment.period_id is not None:  # a renewal: its billing period must still be owed
        period = db.session.get(BillingPeriod, payment.period_id)
        if period.status not in (PeriodStatus.PAST_DUE, PeriodStatus.UNPAID):
            return ActionError("period_not_owed",
                               f"{period} is {period.status.label.lower()}: there is nothing "
                               "overdue to pay for it.")
        return None
    if subscription.status is not SubscriptionStatus.PAST_DUE:
        return ActionError("subscription_not_past_due",
                           f"Subscription {subscription} is {subscription.status.label.lower()}"
                           ", not past due: there is nothing overdue to pay.")
    if payment.purpose is PaymentPurpose.SUBSCRIPTION_PERIOD and \
            payment.created_at < subscription.current_period_start - PERIOD_GRACE:
        return ActionError("not_current_period",
                           f"Payment #{payment.id} was for an earlier period of subscription "
                           f"{subscription}.")
    return None


def retryable_failed_payments(contact: Contact) -> list[Payment]:
    """The contact's failed card payments that a retry would pay now, oldest first; one per
    past due subscription (its latest failed period payment)."""
    failed = db.session.scalars(select(Payment).where(
        Payment.contact_id == contact.id, Payment.status == PaymentStatus.FAILED,
        Payment.method == PaymentMethodKind.CARD, Payment.retry_of_id.is_(None))
        .order_by(Payment.created_at.desc(), Payment.id.desc())).all()
    chosen, subscriptions = [], set()
    for payment in failed:
        if payment.purpose is PaymentPurpose.SUBSCRIPTION_PERIOD:
            if payment.subscription_id in subscriptions:
                continue
            subscriptions.add(payment.subscription_id)
        if retry_refusal(payment) is None:
            chosen.append(payment)
    return chosen[::-1]


