"""Starting a subscription: what it costs today, whether it may start, and the records of a
new subscription before and after its first payment. Shared by the desk's "Subscribe to a
plan" and the member's sign-up page (``actions/subscribe_to_plan``): the same rules and the
same records, whoever starts it.

**What is due today** is one payment with two lines: the plan's one-time activation fee and
the first period's price after the promo code (a percent or amount off the period, never off
the activation fee). One payment, not two: the member's card is charged (and authenticated)
once, and there is no half-paid state where the fee was taken and the period declined.

**May it start**: the plan is sold (active), has a place left (``max_members`` counts live
subscriptions — active, past due, unpaid, and incomplete ones waiting for their first
payment — and sign-ups still paying), and the contact has no live subscription to it already.

**Before the payment** the subscription exists only as *incomplete* with its first period
*due* (the desk) or not at all (the sign-up page keeps its own attempt); **after it** the
subscription is active from its start, the period paid, its credits granted and the receipt
issued, through the period API (``period_billing``). An incomplete subscription whose first
payment failed is removed at once (``discard_unpaid``): nothing half-made stays behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from ..actors import Actor
from ..errors import ActionError
from ..extensions import db
from ..models import (
    BillingPeriod,
    Contact,
    Payment,
    Plan,
    PromoCode,
    PromoRedemption,
    Service,
    SignupAttempt,
    SignupStatus,
    Subscription,
    SubscriptionStatus,
)
from ..money import format_money
from .locks import lock
from .periods import first_period
from .promo_rules import check_promo, describe_promo
from .proration import discounted_prices, promo_period_count

LIVE_STATUSES = (SubscriptionStatus.INCOMPLETE, SubscriptionStatus.ACTIVE,
                 SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID)
# A sign-up still paying holds its place this long (then it no longer counts).
PAYING_HOLDS_PLACE = timedelta(minutes=30)


@dataclass(frozen=True)
class SubscriptionQuote:
    """What starting ``plan`` at ``starts_at`` with ``promo`` costs today, and grants."""

    plan: Plan
    promo: PromoCode | None
    starts_at: datetime
    ends_at: datetime
    activation_fee_minor: int
    period_price_minor: int       # the plan's price
    first_period_minor: int       # after the promo
    credits: list[tuple[Service, int]]

    @property
    def currency(self) -> str:
        return self.plan.currency

    @property
    def discount_minor(self) -> int:
        return self.period_price_minor - self.first_period_minor

    @property
    def due_today_minor(self) -> int:
        return self.activation_fee_minor + self.first_period_minor

    def money(self, amount_minor: int) -> str:
        return format_money(amount_minor, self.currency)

    def lines(self) -> list[tuple[str, int]]:
        """The receipt's lines: the activation fee (when there is one) and the first period."""
        lines = []
        if self.activation_fee_minor:
            lines.append((f"Activation fee, {self.plan}", self.activation_fee_minor))
        lines.append((first_period_line(self.plan, self.promo), self.first_period_minor))
        return lines

    def describe(self) -> str:
        """ "$120.00 today: activation fee $20.00 + first month $100.00 (promo WELCOME…)" """
        parts = [f"first period {self.money(self.first_period_minor)}"]
        if self.activation_fee_minor:
            parts.insert(0, f"activation fee {self.money(self.activation_fee_minor)}")
        text = f"{self.money(self.due_today_minor)} today: " + " + ".join(parts)
        if self.promo is not None:
            text += f" (promo code {self.promo}: {describe_promo(self.promo)})"
        return text


def first_period_line(plan: Plan, promo: PromoCode | None) -> str:
    line = f"{plan}, first period"
    return line + (f" (promo code {promo})" if promo is not None else "")


def first_payment_lines(payment: Payment) -> list[tuple[str, int]] | None:
    """The receipt lines of a subscription's first payment — the activation fee, then the
    first period — or ``None`` for any other payment (one line)."""
    if payment.period_id is None:
        return None
    period = db.session.get(BillingPeriod, payment.period_id)
    fee = payment.amount_minor - period.amount_minor
    if period.number != 1 or fee <= 0 or payment.retry_of_id is not None:
        return None
    promo = db.session.get(PromoCode, period.promo_code_id) if period.promo_code_id else None
    return [(f"Activation fee, {period.plan}", fee),
            (first_period_line(period.plan, promo), period.amount_minor)]


def quote_subscription(plan: Plan, *, promo: PromoCode | None,
                       starts_at: datetime) -> SubscriptionQuote:
    """The quote for a new subscription. The first period's price is the period API's rule:
    the plan's price less the promo's discount, the first of the promo's periods."""
    start, end = first_period(plan, starts_at)
    price = plan.price_minor
    first = price
    if promo is not None:
        periods = promo_period_count(promo.duration.value, promo.duration_months,
                                     plan.interval.value, plan.interval_count)
        first = discounted_prices(price, count=1, discounted_periods=periods,
                                  percent_off=promo.percent_off,
                                  amount_off_minor=promo.amount_off_minor)[0]
    credits = [(line.service, line.credits_per_period) for line in plan.services]
    return SubscriptionQuote(plan=plan, promo=promo, starts_at=start, ends_at=end,
                             activation_fee_minor=plan.activation_fee_minor,
                             period_price_minor=price, first_period_minor=first,
                             credits=credits)


def live_subscription(contact_id: int, plan_id: int) -> Subscription | None:
    return db.session.scalar(select(Subscription).where(
        Subscription.contact_id == contact_id, Subscription.plan_id == plan_id,
        Subscription.status.in_(LIVE_STATUSES)).limit(1))


def places_taken(plan: Plan, *, at: datetime, except_attempt_id: int | None = None) -> int:
    """Live subscriptions of ``plan`` plus sign-ups still paying for it."""
    members = db.session.scalar(select(func.count()).select_from(Subscription).where(
        Subscription.plan_id == plan.id, Subscription.status.in_(LIVE_STATUSES)))
    paying = select(func.count()).select_from(SignupAttempt).where(
        SignupAttempt.plan_id == plan.id, SignupAttempt.status == SignupStatus.PENDING,
        SignupAttempt.created_at > at - PAYING_HOLDS_PLACE)
    if except_attempt_id is not None:
        paying = paying.where(SignupAttempt.id != except_attempt_id)
    return members + db.session.scalar(paying)


def check_plan_open(plan: Plan, *, at: datetime, except_attempt_id: int | None = None) -> None:
    """Refuse a plan that is not sold (``plan_inactive``) or full (``plan_full``)."""
    if not plan.is_active:
        raise ActionError("plan_inactive", f"{plan} is no longer sold (inactive).")
    if plan.max_members is not None and places_taken(
            plan, at=at, except_attempt_id=except_attempt_id) >= plan.max_members:
        places = "its one place is" if plan.max_members == 1 else \
            f"all its {plan.max_members} places are"
        raise ActionError("plan_full", f"{plan} is full: {places} taken.")


def check_not_subscribed(contact: Contact, plan: Plan) -> None:
    """Refuse (``already_subscribed``) a contact with a live subscription to ``plan``."""
    existing = live_subscription(contact.id, plan.id)
    if existing is not None:
        raise ActionError("already_subscribed",
                          f"{contact} already has subscription {existing} to {plan} "
                          f"({existing.status.label.lower()}): nothing was charged.")


def check_promo_for(promo: PromoCode, plan: Plan, *, at: datetime) -> None:
    """The Apply Promo rules (``promo_rules.check_promo``) for a subscription not made yet."""
    check_promo(promo, Subscription(plan=plan, status=SubscriptionStatus.INCOMPLETE), at=at)


def begin_subscription(contact: Contact, quote: SubscriptionQuote, *, actor: Actor,
                       is_paid: bool = False) -> tuple[Subscription, BillingPeriod]:
    """The new subscription, *incomplete* until its first payment, with the promo redeemed
    (``redeem_promo``: checked again under the code's lock) and its first period opened
    (``period_billing.open_period``: the price after the promo, the countdown).

    ``is_paid``: the member has paid what they were shown already (a sign-up settled after
    the charge): a code that ran out of redemptions or expired meanwhile is still honoured
    (applied, not counted again), and nothing is refused."""
    from .period_billing import open_period
    from .promo_rules import redeem_promo

    subscription = Subscription(
        contact_id=contact.id, plan=quote.plan, status=SubscriptionStatus.INCOMPLETE,
        current_period_start=quote.starts_at, current_period_end=quote.ends_at,
        billing_anchor_at=quote.starts_at)
    db.session.add(subscription)
    db.session.flush()
    if quote.promo is not None:
        try:
            with db.session.begin_nested():
                redeem_promo(quote.promo, subscription, actor=actor)
        except ActionError:
            if not is_paid:
                raise
            promo = quote.promo
            subscription.promo_code = promo
            subscription.promo_periods_left = promo_period_count(
                promo.duration.value, promo.duration_months, quote.plan.interval.value,
                quote.plan.interval_count)
    period = open_period(subscription, starts_at=quote.starts_at, actor=actor)
    if period.amount_minor != quote.first_period_minor and not is_paid:
        # NOTE: the member was shown the quote; never charge another amount than reviewed.
        raise ActionError("quote_changed",
                          f"The first period now costs {quote.money(period.amount_minor)}, "
                          f"not {quote.money(quote.first_period_minor)}: review it again.")
    return subscription, period


def activate_paid(subscription: Subscription, period: BillingPeriod, payment: Payment | None,
                  *, actor: Actor) -> None:
    """The first payment succeeded (``payment``; ``None`` when nothing was due): the
    subscription is active and the period settled by the period API (paid, its credits
    granted, the receipt)."""
    from .period_billing import settle_period_paid

    subscription = lock(Subscription, subscription.id)
    if subscription.status is SubscriptionStatus.INCOMPLETE:
        subscription.status = SubscriptionStatus.ACTIVE
    settle_period_paid(period, payment, actor=actor)


def discard_unpaid(subscription_id: int) -> bool:
    """Remove the incomplete subscription whose first payment failed, with its first period
    and promo redemption (the code's use given back); payments stay, unlinked, on record.
    False when it is no longer incomplete (paid meanwhile): then nothing is removed."""
    subscription = db.session.get(Subscription, subscription_id)
    if subscription is None:
        return False
    subscription = lock(Subscription, subscription_id)
    if subscription.status is not SubscriptionStatus.INCOMPLETE:
        return False
    period_ids = select(BillingPeriod.id).where(BillingPeriod.subscription_id == subscription_id)
    db.session.execute(update(BillingPeriod).where(BillingPeriod.subscription_id
                                                   == subscription_id)
                       .values(payment_id=None, document_id=None))
    db.session.execute(update(Payment).where(Payment.subscription_id == subscription_id)
                       .values(subscription_id=None, period_id=None, period_attempt=None))
    db.session.execute(update(Payment).where(Payment.period_id.in_(period_ids))
                       .values(period_id=None, period_attempt=None))
    for redemption in db.session.scalars(select(PromoRedemption).where(
            PromoRedemption.subscription_id == subscription_id)):
        promo = lock(PromoCode, redemption.promo_code_id)
        promo.times_redeemed = max(0, promo.times_redeemed - 1)
        db.session.delete(redemption)
    db.session.flush()
    db.session.execute(delete(BillingPeriod).where(BillingPeriod.subscription_id
                                                   == subscription_id))
    db.session.delete(subscription)
    db.session.flush()
    return True
