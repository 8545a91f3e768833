"""The period API: opening a subscription's billing period and settling it paid. Shared by the
renewal engine (``renewals``), retries, a card update, a cash payment at the desk and "Subscribe
to a plan"; each runs it inside its own unit of work, with the subscription locked.

- ``open_period``: the period row (``BillingPeriod``) starting at a given moment, cut from the
  subscription's anchor on the clinic's calendar (``periods``), priced at the plan's price less
  the promo discount for that period (the promo's countdown, ``promo_periods_left``, moves on
  by one; a "forever" promo, ``None``, never runs out). The subscription's current period
  follows. Opening the same start again returns the row already there (unique (subscription,
  start)) and counts nothing twice.
- ``settle_period_paid``: the period is paid (by ``payment``, or by nothing when it cost
  nothing): status paid, the plan's credits granted for it (``period_grants``), its receipt
  (the payment's, issued once, queued as Cashier settings say), and a past due or unpaid
  subscription active again. Settling a paid period again changes nothing.
- ``adopt_current_period``: subscriptions from before billing periods existed have none; the
  first time the engine meets one, its current period gets a row that says what is already
  true: paid (by its latest period payment) when the subscription is active, past due when it
  is past due (its failed charges become its attempts; retried on the schedule from the first
  of them). No credits are granted for it (they were granted when it began).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..actors import Actor
from ..clinic_time import clinic_zone
from ..clock import utcnow
from ..documents import queue_if_auto_send, receipt_for_payment
from ..extensions import db
from ..models import (
    BillingPeriod,
    DiscountType,
    Document,
    DocumentType,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    PeriodStatus,
    Plan,
    PromoCode,
    Service,
    Subscription,
    SubscriptionStatus,
)
from .period_grants import grant_period_credits
from .periods import period_after, period_containing
from .proration import discounted_price

OWED_STATUSES = (PeriodStatus.DUE, PeriodStatus.PAST_DUE, PeriodStatus.UNPAID,
                 PeriodStatus.INVOICED)


def promo_applies(subscription: Subscription, plan: Plan) -> PromoCode | None:
    """The subscription's promo code when it discounts its next period on ``plan``: periods
    left (or forever), and an amount-off code in the plan's currency."""
    promo = subscription.promo_code
    if promo is None or subscription.promo_periods_left == 0:
        return None
    if promo.discount_type is DiscountType.AMOUNT and promo.currency != plan.currency:
        return None
    return promo


def next_period_price(subscription: Subscription, plan: Plan | None = None) -> tuple[int, int]:
    """(amount, discount) in minor units of the subscription's next period on ``plan`` (its
    scheduled plan if a change is scheduled, else its plan)."""
    plan = plan or subscription.scheduled_plan or subscription.plan
    promo = promo_applies(subscription, plan)
    if promo is None:
        return plan.price_minor, 0
    amount = discounted_price(plan.price_minor, percent_off=promo.percent_off,
                              amount_off_minor=promo.amount_off_minor)
    return amount, plan.price_minor - amount


def period_at(subscription: Subscription, starts_at) -> BillingPeriod | None:
    return db.session.scalar(select(BillingPeriod).where(
        BillingPeriod.subscription_id == subscription.id,
        BillingPeriod.starts_at == starts_at))


def latest_period(subscription: Subscription) -> BillingPeriod | None:
    return db.session.scalar(select(BillingPeriod).where(
        BillingPeriod.subscription_id == subscription.id)
        .order_by(BillingPeriod.starts_at.desc()).limit(1))


def open_period(subscription: Subscription, *, starts_at, actor: Actor) -> BillingPeriod:
    """The period of ``subscription`` (locked by the caller) starting at ``starts_at`` on its
    current plan: created with its price after the promo (see the module), or the one already
    there. The subscription's current period becomes it."""
    existing = period_at(subscription, starts_at)
    if existing is not None:
        return existing
    plan = subscription.plan
    anchor, start, end = period_after(subscription.billing_anchor_at or starts_at, plan,
                                      starts_at, clinic_zone())
    amount, discount = next_period_price(subscription, plan)
    promo = promo_applies(subscription, plan)
    number = (db.session.scalar(select(func.max(BillingPeriod.number)).where(
        BillingPeriod.subscription_id == subscription.id)) or 0) + 1
    period = BillingPeriod(subscription_id=subscription.id, plan_id=plan.id, number=number,
                           starts_at=start, ends_at=end, amount_minor=amount,
                           discount_minor=discount, currency=plan.currency,
                           promo_code_id=promo.id if promo is not None else None,
                           status=PeriodStatus.DUE, attempts=0)
    try:
        with db.session.begin_nested():
            db.session.add(period)
    except IntegrityError:  # opened meanwhile by someone not holding the lock: theirs stands
        return period_at(subscription, starts_at)
    if promo is not None and subscription.promo_periods_left is not None:
        subscription.promo_periods_left -= 1
    subscription.billing_anchor_at = anchor
    subscription.current_period_start, subscription.current_period_end = start, end
    db.session.flush()
    return period


def period_receipt(payment: Payment) -> tuple[Document, bool]:
    """The payment's receipt, issued now if it has none yet: (receipt, issued now)."""
    receipt = db.session.scalar(select(Document).where(
        Document.payment_id == payment.id, Document.doc_type == DocumentType.RECEIPT)
        .order_by(Document.id).limit(1))
    if receipt is not None:
        return receipt, False
    period = db.session.get(BillingPeriod, payment.period_id) if payment.period_id else None
    description = payment.description or (str(period) if period else payment.purpose.label)
    return receipt_for_payment(payment, description=description), True


def settle_period_paid(period: BillingPeriod, payment: Payment | None, *,
                       actor: Actor) -> None:
    """``period`` is paid by ``payment`` (``None``: nothing to pay, e.g. a 100 % promo): see
    the module. The subscription is locked by the caller (or by the settling code)."""
    if period.status is PeriodStatus.PAID:
        return
    period.status, period.paid_at, period.next_retry_at = PeriodStatus.PAID, utcnow(), None
    if payment is not None:
        if payment.period_id is None:
            payment.period_id = period.id
        open_invoice = (db.session.get(Document, period.document_id)
                        if period.document_id else None)
        if open_invoice is not None and open_invoice.doc_type is DocumentType.INVOICE \
                and open_invoice.payment_id is None:
            open_invoice.payment_id = payment.id  # the open invoice is paid by this payment
        receipt, issued = period_receipt(payment)
        if issued:
            queue_if_auto_send(receipt)
        period.payment_id, period.document_id = payment.id, receipt.id
    grant_period_credits(period, actor=actor)
    subscription = period.subscription
    if subscription.status in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID,
                               SubscriptionStatus.INCOMPLETE):
        if subscription.status is SubscriptionStatus.UNPAID \
                and subscription.current_period_end <= utcnow():
            # NOTE: an unpaid subscription opened no periods while owed; paid late, it starts
            # again with the period containing today (billed by the next run), not with the
            # months it was not served.
            start, _ = period_containing(subscription.billing_anchor_at or period.starts_at,
                                         subscription.plan, utcnow(), clinic_zone())
            if start > subscription.current_period_start:
                subscription.current_period_end = start
        subscription.status = SubscriptionStatus.ACTIVE
    db.session.flush()


def adopt_current_period(subscription: Subscription) -> BillingPeriod | None:
    """The row of the current period of a subscription from before billing periods (see the
    module); ``None`` for a subscription that has periods already or never started."""
    if subscription.status is SubscriptionStatus.INCOMPLETE or \
            latest_period(subscription) is not None:
        return None
    from .period_money import period_payment  # NOTE: the legacy period's paying payment

    paid_by = period_payment(subscription)
    status = {SubscriptionStatus.PAST_DUE: PeriodStatus.PAST_DUE,
              SubscriptionStatus.UNPAID: PeriodStatus.UNPAID}.get(subscription.status,
                                                                  PeriodStatus.PAID)
    plan = subscription.plan
    period = BillingPeriod(
        subscription_id=subscription.id, plan_id=plan.id, number=1,
        starts_at=subscription.current_period_start, ends_at=subscription.current_period_end,
        amount_minor=paid_by.amount_minor if paid_by is not None else plan.price_minor,
        discount_minor=0, currency=plan.currency, status=status,
        attempts=1 if status is not PeriodStatus.PAID else 0,
        next_retry_at=utcnow() if status is PeriodStatus.PAST_DUE else None,
        payment_id=paid_by.id if paid_by is not None else None,
        paid_at=(paid_by.paid_at if paid_by is not None else subscription.current_period_start)
        if status is PeriodStatus.PAID else None)
    if paid_by is not None and status is PeriodStatus.PAID:
        period.document_id = db.session.scalar(select(Document.id).where(
            Document.payment_id == paid_by.id, Document.doc_type == DocumentType.RECEIPT)
            .order_by(Document.id).limit(1))
    if subscription.billing_anchor_at is None:
        subscription.billing_anchor_at = subscription.current_period_start
    try:
        with db.session.begin_nested():
            db.session.add(period)
    except IntegrityError:
        return period_at(subscription, subscription.current_period_start)
    if status is not PeriodStatus.PAID:
        _link_failed_charges(subscription, period)
    return period


def _link_failed_charges(subscription: Subscription, period: BillingPeriod) -> None:
    """The failed charges of an adopted owed period become its attempts (a retry of one then
    pays the period, and is never made twice); its next retry follows the schedule from the
    first of them, now at the earliest."""
    from datetime import timedelta

    from .period_money import PERIOD_PAYMENT_GRACE
    from .period_retries import retry_schedule

    failures = list(db.session.scalars(select(Payment).where(
        Payment.subscription_id == subscription.id, Payment.period_id.is_(None),
        Payment.purpose == PaymentPurpose.SUBSCRIPTION_PERIOD,
        Payment.status == PaymentStatus.FAILED, Payment.retry_of_id.is_(None),
        Payment.created_at >= subscription.current_period_start - PERIOD_PAYMENT_GRACE)
        .order_by(Payment.created_at, Payment.id)))
    for attempt, payment in enumerate(failures, start=1):
        payment.period_id, payment.period_attempt = period.id, attempt
    if failures:
        schedule = retry_schedule()
        period.attempts, period.payment_id = len(failures), failures[-1].id
        days = schedule[min(len(failures), len(schedule)) - 1]
        period.next_retry_at = max(failures[0].created_at + timedelta(days=days), utcnow())
    db.session.flush()


def period_credits(period: BillingPeriod) -> dict[Service, int]:
    """{service: credits} the period's plan grants when it is paid."""
    return {line.service: line.credits_per_period for line in period.plan.services}
