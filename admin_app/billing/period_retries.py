"""A period whose charge failed: past due, retried on the Cashier settings' schedule, then
unpaid or cancelled.

- **A failed charge** (declined, a card needing authentication, or never made) keeps the failed
  payment with the processor's reason; the period and its subscription become **past due**;
  the member is sent their payment-method link (a card needing authentication already got it
  from the charge) unless a link went out in the last day.
- **Retries** follow ``CashierSettings.retry_schedule_days`` (default "1,3,5,7"): days after
  the period's *first* failure. A **hard decline** (a lost or stolen card, fraud, a card the
  bank will never honour: ``HARD_DECLINES``) is never retried on the same card: no retry is
  scheduled, only the final step at the end of the retry window (the member can still save a
  new card meanwhile). A new card saved by the member retries at once (``retry_now``).
- **After the last retry** fails, the period is **unpaid** and the subscription unpaid (it
  stays owed, grants no credits, opens no new period) or cancelled (the period void), as
  ``CashierSettings.after_final_retry`` says. Paying it later (a retry, a new card, cash at the
  desk) settles it through ``period_billing.settle_period_paid``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from ..actors import SYSTEM
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import (
    AfterFinalRetry,
    BillingPeriod,
    CashierSettings,
    Contact,
    OutboundMessage,
    Payment,
    PeriodStatus,
    Subscription,
    SubscriptionStatus,
    record_audit,
)
from .payment_method_links import queue_payment_method_link

DEFAULT_SCHEDULE = (1, 3, 5, 7)
HARD_DECLINES = frozenset({"lost_card", "stolen_card", "fraudulent", "pickup_card",
                           "restricted_card", "do_not_honor_permanently", "revocation_of_all_"
                           "authorizations", "revocation_of_authorization", "stop_payment_order",
                           "security_violation", "invalid_account", "card_not_supported",
                           "transaction_not_allowed", "merchant_blacklist"})
AUTHENTICATION = frozenset({"authentication_required", "requires_action"})
LINK_QUIET = timedelta(days=1)


def parse_schedule(text: str | None) -> tuple[int, ...]:
    """ "1,3,5,7" → (1, 3, 5, 7); the default when the text is not a schedule
    (``schedule_problem``: the Settings form refuses such text)."""
    if schedule_problem(text) is not None:
        return DEFAULT_SCHEDULE
    return tuple(int(part) for part in text.split(","))


def schedule_problem(text: str | None) -> str | None:
    """Why ``text`` is not a retry schedule (whole days 1–60, increasing, comma-separated, at
    most 10), or ``None``: for the Cashier settings form."""
    parts = [part.strip() for part in (text or "").split(",")]
    if not all(part.isascii() and part.isdigit() for part in parts):
        return "Write whole days separated by commas, e.g. 1,3,5,7."
    days = [int(part) for part in parts]
    if len(days) > 10 or any(not 1 <= day <= 60 for day in days):
        return "At most 10 retries, each 1 to 60 days after the first failure."
    if days != sorted(set(days)):
        return "The days must increase, e.g. 1,3,5,7."
    return None


def retry_schedule() -> tuple[int, ...]:
    return parse_schedule(CashierSettings.get().retry_schedule_days)


def is_hard_decline(payment: Payment | None) -> bool:
    return payment is not None and (payment.failure_reason or "") in HARD_DECLINES


def first_failure_at(period: BillingPeriod) -> datetime:
    first = db.session.scalar(select(Payment.created_at).where(
        Payment.period_id == period.id).order_by(Payment.period_attempt, Payment.id).limit(1))
    return first or utcnow()


def retry_state(period: BillingPeriod) -> str:
    """ "retry 2 of 4 on 3 Dec" / "no retry (lost_card)" / "retries over": for lists."""
    from ..clinic_time import format_clinic

    schedule = retry_schedule()
    if period.status is PeriodStatus.UNPAID:
        return "unpaid: retries over"
    if period.status is not PeriodStatus.PAST_DUE:
        return ""
    last = db.session.get(Payment, period.payment_id) if period.payment_id else None
    when = format_clinic(period.next_retry_at, "%d %b") if period.next_retry_at else "—"
    if is_hard_decline(last):
        return f"no retry ({last.failure_reason}); final on {when}"
    return f"retry {min(period.attempts, len(schedule))} of {len(schedule)} on {when}"


def _send_link(contact: Contact, period: BillingPeriod, reason: str) -> str:
    recent = db.session.scalar(select(OutboundMessage.id).where(
        OutboundMessage.contact_id == contact.id,
        OutboundMessage.subject.like("Update your payment method%"),
        OutboundMessage.created_at > utcnow() - LINK_QUIET).limit(1))
    if recent is not None:
        return "A payment-method link went to the member in the last day."
    try:
        message = queue_payment_method_link(
            contact, actor=SYSTEM, why=f"the charge of {period} failed ({reason})")
    except ActionError as nowhere:
        return nowhere.message
    return f"A payment-method link was queued to the member by {message.channel.label}."


def record_period_failure(period: BillingPeriod, payment: Payment | None, *,
                          reason: str | None = None) -> list[str]:
    """Apply the failed charge ``payment`` of ``period`` (see the module); returns what
    changed, in sentences. Called by settling (the charge's phase 2, reconcile, a webhook),
    and by the engine with no payment when a retry finds no card to charge (``reason``)."""
    if period.status in (PeriodStatus.PAID, PeriodStatus.VOID):
        return []
    subscription = db.session.get(Subscription, period.subscription_id)
    reason = (payment.failure_reason if payment is not None else reason) or "declined"
    if payment is not None:
        period.payment_id = payment.id
    schedule, now = retry_schedule(), utcnow()
    attempt = payment.period_attempt if payment is not None else None
    retries_done = max(0, (attempt or period.attempts) - 1)
    effects = [f"The charge of {period} failed ({reason})."]
    if is_hard_decline(payment):
        period.status = PeriodStatus.PAST_DUE
        period.next_retry_at = first_failure_at(period) + timedelta(days=schedule[-1])
        if period.next_retry_at <= now:
            return effects + final_step(period, subscription)
        effects.append("A hard decline is not retried on this card.")
    elif retries_done >= len(schedule):
        return effects + final_step(period, subscription)
    else:
        period.status = PeriodStatus.PAST_DUE
        period.next_retry_at = max(first_failure_at(period) + timedelta(
            days=schedule[retries_done]), now + timedelta(hours=1))
    if subscription.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.INCOMPLETE):
        subscription.status = SubscriptionStatus.PAST_DUE
        effects.append(f"Subscription {subscription} is past due.")
    if reason not in AUTHENTICATION:
        effects.append(_send_link(db.session.get(Contact, subscription.contact_id), period,
                                  reason))
    return effects


def final_step(period: BillingPeriod, subscription: Subscription) -> list[str]:
    """The retries are over and the period is still not paid: unpaid, or cancelled (see the
    module)."""
    period.next_retry_at = None
    if CashierSettings.get().after_final_retry is AfterFinalRetry.CANCEL:
        period.status = PeriodStatus.VOID
        subscription.status, subscription.canceled_at = SubscriptionStatus.CANCELED, utcnow()
        subscription.cancel_at_period_end, subscription.scheduled_plan_id = False, None
        sentence = (f"The retries of {period} are over: subscription {subscription} is "
                    "cancelled (Cashier settings).")
    else:
        period.status = PeriodStatus.UNPAID
        subscription.status = SubscriptionStatus.UNPAID
        sentence = (f"The retries of {period} are over: subscription {subscription} is unpaid "
                    "until the period is paid.")
    record_audit(actor=SYSTEM, action="billing_final_retry", target=subscription,
                 summary=sentence[:300], after={"period_id": period.id,
                                                "status": subscription.status.value})
    return [sentence]


def owed_periods(contact_id: int) -> list[BillingPeriod]:
    """The contact's past due and unpaid periods, oldest first."""
    return list(db.session.scalars(select(BillingPeriod).join(Subscription).where(
        Subscription.contact_id == contact_id,
        BillingPeriod.status.in_((PeriodStatus.PAST_DUE, PeriodStatus.UNPAID)))
        .order_by(BillingPeriod.starts_at)))


def retry_now(contact_id: int) -> int:
    """The member saved a new card: their past due and unpaid periods are due for a retry now
    (the worker's next billing run, or ``billing run``, charges them). Returns how many."""
    periods = owed_periods(contact_id)
    for period in periods:
        period.next_retry_at = utcnow()
    return len(periods)
