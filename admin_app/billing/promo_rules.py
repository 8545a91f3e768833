"""Whether a promo code may be applied to a subscription, redeeming it, and what it does to the
next invoices. Shared by ⋯ → Apply Promo, its bulk form, and the new-subscription form.

A code applies when it is active, not expired, has redemptions left, is allowed for the
subscription's plan (no plans listed: every plan), is in the plan's currency (amount-off codes),
was never applied to this subscription before, and the subscription is not cancelled. It then
discounts the next renewals: once → 1, "N months" → the periods covering N months,
forever → every renewal (``promo_periods_left`` NULL). Applying a code replaces the one the
subscription had.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from ..actors import Actor
from ..clinic_time import format_day
from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import (
    DiscountType,
    Plan,
    PromoCode,
    PromoRedemption,
    Subscription,
    SubscriptionStatus,
)
from ..money import format_money
from .locks import lock
from .proration import discounted_prices, promo_period_count

PREVIEW_PERIODS = 3


def find_promo(code: str) -> PromoCode:
    """The promo code typed or chosen (case-insensitive); ``promo_not_found`` otherwise."""
    wanted = (code or "").strip().upper()
    promo = db.session.scalar(select(PromoCode).where(PromoCode.code == wanted)) \
        if wanted else None
    if promo is None:
        raise ActionError("promo_not_found", f"There is no promo code “{wanted}”.")
    return promo


def describe_promo(promo: PromoCode) -> str:
    """ "10% off, once" · "$25.00 off, for 3 months" · "50% off, forever" """
    off = (f"{promo.percent_off}% off" if promo.discount_type is DiscountType.PERCENT
           else f"{format_money(promo.amount_off_minor, promo.currency)} off")
    duration = {"once": "once", "forever": "forever",
                "repeating": f"for {promo.duration_months} months"}[promo.duration.value]
    return f"{off}, {duration}"


def check_promo(promo: PromoCode, subscription: Subscription, *,
                at: datetime | None = None) -> None:
    """Refuse a code that may not be applied, naming the rule: ``subscription_cancelled``,
    ``promo_inactive``, ``promo_expired``, ``promo_exhausted``, ``promo_not_for_plan``,
    ``promo_currency_mismatch``, ``promo_already_applied``."""
    for code, _short, message in _broken_rules(promo, subscription.plan, subscription, at):
        raise ActionError(code, message)


def unusable_reason(promo: PromoCode, *, plan: Plan | None = None,
                    subscription: Subscription | None = None,
                    at: datetime | None = None) -> str | None:
    """Why a picker marks ``promo`` as not usable, in a few words ("expired 01 May 2025",
    "used up", "not for Physio Monthly"), or ``None``. Without a plan (or subscription) only
    the code's own rules are checked. The same rules as ``check_promo``."""
    plan = plan or (subscription.plan if subscription is not None else None)
    for _code, short, _message in _broken_rules(promo, plan, subscription, at):
        return short
    return None


def _broken_rules(promo: PromoCode, plan: Plan | None, subscription: Subscription | None,
                  at: datetime | None) -> Iterator[tuple[str, str, str]]:
    """(code, short reason, sentence) of each rule ``promo`` breaks, in the order checked."""
    at = at or utcnow()
    if subscription is not None and subscription.status is SubscriptionStatus.CANCELED:
        yield ("subscription_cancelled", "the subscription is cancelled",
               f"Subscription {subscription} is cancelled: promo codes apply only to live "
               "subscriptions.")
    if not promo.is_active:
        yield "promo_inactive", "inactive", f"Promo code {promo} is not active."
    if promo.expires_at is not None and promo.expires_at <= at:
        yield ("promo_expired", f"expired {format_day(promo.expires_at)}",
               f"Promo code {promo} expired on {format_day(promo.expires_at)}.")
    if promo.max_redemptions is not None and promo.times_redeemed >= promo.max_redemptions:
        yield ("promo_exhausted", f"used up ({promo.times_redeemed} of {promo.max_redemptions})",
               f"Promo code {promo} was already used {promo.times_redeemed} times, its maximum.")
    if plan is not None and promo.plans and plan not in promo.plans:
        allowed = ", ".join(sorted(p.name for p in promo.plans))
        yield ("promo_not_for_plan", f"not for {plan} (only {allowed})",
               f"Promo code {promo} is not allowed for {plan} (only for {allowed}).")
    if plan is not None and promo.discount_type is DiscountType.AMOUNT \
            and promo.currency != plan.currency:
        yield ("promo_currency_mismatch", f"in {promo.currency}, {plan} is in {plan.currency}",
               f"Promo code {promo} takes {promo.currency} off; {plan} is billed in "
               f"{plan.currency}.")
    if subscription is not None and subscription.id is not None and db.session.scalar(
            select(exists().where(PromoRedemption.promo_code_id == promo.id,
                                  PromoRedemption.subscription_id == subscription.id))):
        yield ("promo_already_applied", "already applied to this subscription",
               f"Promo code {promo} was already applied to subscription {subscription}: a code "
               "applies once per subscription.")


def redeem_promo(promo: PromoCode, subscription: Subscription, *,
                 actor: Actor) -> PromoRedemption:
    """Check and apply ``promo`` to ``subscription`` (flushed, with an id) inside the caller's
    transaction: the redemption, one more use of the code (under its row lock, so the last
    redemption cannot be taken twice), and the discount's periods on the subscription."""
    promo = lock(PromoCode, promo.id)
    check_promo(promo, subscription)
    redemption = PromoRedemption(promo_code_id=promo.id, subscription_id=subscription.id,
                                 actor_id=actor.id if actor is not None else None)
    db.session.add(redemption)
    promo.times_redeemed += 1
    subscription.promo_code = promo
    subscription.promo_periods_left = promo_period_count(
        promo.duration.value, promo.duration_months, subscription.plan.interval.value,
        subscription.plan.interval_count)
    try:
        db.session.flush()
    except IntegrityError:  # the same code applied concurrently: the unique constraint says no
        raise ActionError("promo_already_applied",
                          f"Promo code {promo} was already applied to subscription "
                          f"{subscription}.") from None
    return redemption


def upcoming_prices(subscription: Subscription, promo: PromoCode | None = None,
                    count: int = PREVIEW_PERIODS) -> list[int]:
    """Prices of the next ``count`` renewals (on the scheduled plan, if a change is
    scheduled): with ``promo`` applied now, or (``None``) with the promo it has today."""
    plan = subscription.scheduled_plan or subscription.plan
    if promo is None:
        promo, periods = subscription.promo_code, subscription.promo_periods_left
    else:
        periods = promo_period_count(promo.duration.value, promo.duration_months,
                                     plan.interval.value, plan.interval_count)
    if promo is None or periods == 0:
        return [plan.price_minor] * count
    return discounted_prices(plan.price_minor, count=count, discounted_periods=periods,
                             percent_off=promo.percent_off,
                             amount_off_minor=promo.amount_off_minor)
