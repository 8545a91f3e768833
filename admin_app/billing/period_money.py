"""The money of a subscription's current period: the payment that paid for it, the unused
time it is worth, and giving that back as a refund or as account credit. Used inside the
subscription actions' unit of work.

**The period payments** are the succeeded (or partly refunded) "subscription period" payments
of the subscription paid at most a day before the current period began (renewals are charged as
the period turns) or since: the renewal, then any upgrade charged mid-period. The first one
pays for the whole period, a later one for the rest of the period from when it was paid; the
payments of the current billing period (the part paid from account credit, the card's charge of
the rest) each pay for the whole period.

**Paid partly from account credit**: the unused time of the part paid from account credit goes
back to the account credit (a payment from account credit is refunded into it,
``refunding``), never to the card; the card's part is refunded to the card.

**The refund of unused time** of each is its amount × the unused share of the time it paid
for, rounded half up, less what was already refunded of it (so a retry, or a cancellation after
a downgrade refunded part of it, never refunds the same time twice), and never more than what
is left of it. With one period payment this is simply the last period payment × the unused
share of the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ..actors import Actor
from ..errors import ActionError
from ..extensions import db
from ..models import (
    AccountCreditEntry,
    AccountCreditReason,
    BillingPeriod,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    Subscription,
)
from .proration import PeriodShare, prorate, unused_share
from .refunding import (
    REFUNDABLE_STATUSES,
    Refunded,
    refund_payment_money,
    refundable_remainder,
)

PERIOD_PAYMENT_GRACE = timedelta(days=1)
PAID_STATUSES = REFUNDABLE_STATUSES | {PaymentStatus.REFUNDED}


def _period_payments_query(subscription: Subscription, statuses):
    return select(Payment).where(
        Payment.subscription_id == subscription.id,
        Payment.purpose == PaymentPurpose.SUBSCRIPTION_PERIOD,
        Payment.status.in_(statuses),
        Payment.paid_at >= subscription.current_period_start - PERIOD_PAYMENT_GRACE)


def period_payment(subscription: Subscription) -> Payment | None:
    """The last period payment with something left to refund (see the module's rule)."""
    return db.session.scalar(_period_payments_query(subscription, REFUNDABLE_STATUSES)
                             .order_by(Payment.paid_at.desc(), Payment.id.desc()).limit(1))


def period_payments(subscription: Subscription, *, lock_rows: bool = False) -> list[Payment]:
    """The period payments, oldest first, fully refunded ones too (the first one pays for the
    whole period); ``lock_rows`` locks them for a refund."""
    query = _period_payments_query(subscription, PAID_STATUSES) \
        .order_by(Payment.paid_at, Payment.id)
    if lock_rows:
        query = query.with_for_update().execution_options(populate_existing=True)
    return list(db.session.scalars(query))


def period_share(subscription: Subscription, *, at: datetime) -> PeriodShare:
    return unused_share(subscription.current_period_start, subscription.current_period_end,
                        at=at)


@dataclass(frozen=True)
class UnusedTimeRefund:
    payment: Payment
    amount_minor: int
    share: PeriodShare


def unused_time_refunds(subscription: Subscription, payments: list[Payment], *,
                        at: datetime) -> list[UnusedTimeRefund]:
    """What refunding the unused time of each period payment gives back (amounts > 0 only)."""
    start, end = subscription.current_period_start, subscription.current_period_end
    refunds = []
    for index, payment in enumerate(payments):
        paid_for_from = start if index == 0 or _pays_the_whole_period(subscription, payment) \
            else min(max(payment.paid_at, start), end)
        if paid_for_from >= end:
            continue
        share = unused_share(paid_for_from, end, at=at)
        worth = prorate(payment.amount_minor, share) - payment.amount_refunded_minor
        amount = min(worth, refundable_remainder(payment))
        if amount > 0:
            refunds.append(UnusedTimeRefund(payment, amount, share))
    return refunds


def _pays_the_whole_period(subscription: Subscription, payment: Payment) -> bool:
    """A payment of the billing period that is the current one (a part paid from account
    credit, the card's charge of the rest, a retry) pays for the whole period, as the first
    payment does; a later payment (an upgrade) pays from when it was paid."""
    if payment.period_id is None:
        return False
    period = db.session.get(BillingPeriod, payment.period_id)
    return period is not None and period.starts_at == subscription.current_period_start


def refund_period_payment(payment: Payment, *, amount_minor: int, reason: RefundReason,
                          note: str, actor: Actor) -> Refunded:
    """Refund ``amount_minor`` of the period payment (``refunding``: two phases around the
    processor, never more than is left) with a credit note whose line is ``note``.

    Refused while a refund of one of the subscription's period payments waits for the
    processor's answer (``refund_pending``): the unused time it gives back is not known to be
    given back yet, and must not be given twice. Other refusals as ``refund_payment_money``
    (a processor's "no" keeps the failed refund; no answer keeps it pending)."""
    if payment.subscription_id is not None:
        waiting = db.session.scalar(
            select(Refund).join(Payment, Refund.payment_id == Payment.id)
            .where(Payment.subscription_id == payment.subscription_id,
                   Refund.status == RefundStatus.PENDING).limit(1))
        if waiting is not None:
            raise ActionError(
                "refund_pending",
                f"{waiting} of payment #{waiting.payment_id} is still waiting for the payment "
                "processor's answer: check it with the processor first (Cashier → Refunds, its "
                "⋯ menu), so the same unused time is not refunded twice.")
    return refund_payment_money(payment.id, amount_minor=amount_minor, reason=reason,
                                note=note, actor=actor, credit_note_line=note)


def add_account_credit(subscription: Subscription, *, amount_minor: int, currency: str,
                       reason: AccountCreditReason, note: str,
                       actor: Actor) -> AccountCreditEntry:
    """Money the contact now holds with the clinic, as a line of their account credit ledger."""
    entry = AccountCreditEntry(contact_id=subscription.contact_id, amount_minor=amount_minor,
                               currency=currency, reason=reason, note=note[:200],
                               subscription_id=subscription.id, actor_id=actor.id)
    db.session.add(entry)
    db.session.flush()
    return entry
