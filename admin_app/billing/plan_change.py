"""What upgrades and downgrades share: which plans a subscription may move to, the quote of a
move (proration and credits), the signed review that pins it, and the switch itself.

Rules:

- Only an active subscription changes plan, only to an active plan in the same currency and
  with the same billing interval (a proration across intervals is not defined here: cancel and
  subscribe instead). An upgrade goes to a pricier plan, a downgrade to a cheaper one.
- The proration uses the plans' list prices (``billing.prorate_plan_change``); a promo code on
  the subscription discounts its renewals, not the proration. It is dropped by the switch when
  it is limited to plans that do not include the new one.
- The review page signs what it shows (subscription, old and new plan, the net amount, the
  period end, when the subscription and the new plan were last changed, and the moment of the
  review). The action recomputes the quote at that moment and refuses (``review_outdated``)
  when anything differs or the review is older than ``REVIEW_MAX_AGE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select

from ..clock import utcnow
from ..errors import ActionError
from ..extensions import db
from ..models import Plan, Service, Subscription, SubscriptionStatus
from .period_credits import plan_change_credits
from .period_money import period_share
from .proration import PlanChangeProration, prorate_plan_change

REVIEW_MAX_AGE = timedelta(minutes=30)
_SALT = "plan-change-review"


def _same_terms(subscription: Subscription):
    plan = subscription.plan
    return select(Plan).where(Plan.is_active.is_(True), Plan.currency == plan.currency,
                              Plan.interval == plan.interval,
                              Plan.interval_count == plan.interval_count, Plan.id != plan.id)


def pricier_plans(subscription: Subscription) -> list[Plan]:
    """Active plans an upgrade may go to, cheapest first."""
    return list(db.session.scalars(_same_terms(subscription).where(
        Plan.price_minor > subscription.plan.price_minor).order_by(Plan.price_minor, Plan.name)))


def cheaper_plans(subscription: Subscription) -> list[Plan]:
    """Active plans a downgrade may go to, priciest first."""
    return list(db.session.scalars(_same_terms(subscription).where(
        Plan.price_minor < subscription.plan.price_minor)
        .order_by(Plan.price_minor.desc(), Plan.name)))


def plan_moves(subscription: Subscription) -> tuple[bool, bool]:
    """Whether an upgrade and a downgrade have a plan to go to (for menus): one query."""
    if subscription.status is not SubscriptionStatus.ACTIVE:
        return False, False
    terms = _same_terms(subscription).subquery()
    highest, lowest = db.session.execute(
        select(func.max(terms.c.price_minor), func.min(terms.c.price_minor))).one()
    price = subscription.plan.price_minor
    return (highest is not None and highest > price, lowest is not None and lowest < price)


def check_plan_change(subscription: Subscription, new_plan: Plan, *, is_upgrade: bool) -> None:
    """Refuse a move the rules above do not allow: ``subscription_not_active``,
    ``plan_inactive``, ``currency_mismatch``, ``interval_mismatch``, ``not_an_upgrade`` /
    ``not_a_downgrade``."""
    old = subscription.plan
    if subscription.status is not SubscriptionStatus.ACTIVE:
        raise ActionError("subscription_not_active",
                          f"Subscription {subscription} is {subscription.status.label.lower()}: "
                          "only an active subscription changes plan.")
    if not new_plan.is_active:
        raise ActionError("plan_inactive", f"{new_plan} is no longer sold (inactive).")
    if new_plan.currency != old.currency:
        raise ActionError("currency_mismatch",
                          f"{new_plan} is priced in {new_plan.currency}, the subscription in "
                          f"{old.currency}: choose a plan in {old.currency}.")
    if (new_plan.interval, new_plan.interval_count) != (old.interval, old.interval_count):
        raise ActionError("interval_mismatch",
                          f"{new_plan} bills per {new_plan.interval.value}, {old} per "
                          f"{old.interval.value}: only plans with the same billing interval can "
                          "be switched mid-period.")
    if is_upgrade and (new_plan.id == old.id or new_plan.price_minor <= old.price_minor):
        raise ActionError("not_an_upgrade",
                          f"{new_plan} is not pricier than {old}: an upgrade goes to a pricier "
                          "plan (use Downgrade for a cheaper one).")
    if not is_upgrade and (new_plan.id == old.id or new_plan.price_minor >= old.price_minor):
        raise ActionError("not_a_downgrade",
                          f"{new_plan} is not cheaper than {old}: a downgrade goes to a cheaper "
                          "plan (use Upgrade for a pricier one).")


@dataclass(frozen=True)
class PlanChangeQuote:
    subscription: Subscription
    new_plan: Plan
    at: datetime
    proration: PlanChangeProration
    credits: dict[Service, int]


def quote_plan_change(subscription: Subscription, new_plan: Plan, *,
                      at: datetime | None = None) -> PlanChangeQuote:
    """The proration and the credit changes of moving to ``new_plan`` at ``at`` (now)."""
    at = at or utcnow()
    share = period_share(subscription, at=at)
    return PlanChangeQuote(subscription, new_plan, at,
                           prorate_plan_change(subscription.plan.price_minor,
                                               new_plan.price_minor, share),
                           plan_change_credits(subscription, new_plan, share))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _pinned(quote: PlanChangeQuote) -> dict:
    sub = quote.subscription
    return {"s": sub.id, "o": sub.plan_id, "n": quote.new_plan.id,
            "a": quote.proration.net_minor, "e": sub.current_period_end.isoformat(),
            "u": sub.updated_at.isoformat(), "p": quote.new_plan.updated_at.isoformat()}


def sign_review(quote: PlanChangeQuote) -> str:
    """The token the review page carries: what it showed, signed with the app's secret."""
    return _serializer().dumps({**_pinned(quote), "t": quote.at.isoformat()})


def check_review(subscription: Subscription, new_plan: Plan, token: str) -> PlanChangeQuote:
    """The quote the review showed, if nothing changed since; else ``review_outdated``."""
    outdated = ActionError("review_outdated",
                           f"Subscription {subscription} or {new_plan} changed since you reviewed "
                           "the change (or the review is too old): review it again.")
    try:
        shown = _serializer().loads(token or "", max_age=int(REVIEW_MAX_AGE.total_seconds()))
        at = datetime.fromisoformat(shown.pop("t"))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise outdated from None
    if not timedelta(0) <= utcnow() - at <= REVIEW_MAX_AGE:
        raise outdated
    quote = quote_plan_change(subscription, new_plan, at=at)
    if _pinned(quote) != shown:
        raise outdated
    return quote


def drops_promo(subscription: Subscription, new_plan: Plan) -> bool:
    """Whether moving to ``new_plan`` drops the subscription's promo code: the code is limited
    to plans that do not include the new one."""
    promo = subscription.promo_code
    return bool(promo is not None and promo.plans and new_plan not in promo.plans)


def switch_plan(subscription: Subscription, new_plan: Plan) -> bool:
    """Move the subscription to ``new_plan`` now, dropping any scheduled change; returns
    whether its promo code was dropped (``drops_promo``)."""
    dropped = drops_promo(subscription, new_plan)
    subscription.plan, subscription.scheduled_plan = new_plan, None
    if dropped:
        subscription.promo_code, subscription.promo_periods_left = None, None
    db.session.flush()
    return dropped
